"""Orders (SPEC 5): the state table, 自动接单, the timeline, expiry, and the buyer's 我的订单."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Order, OrderStatus, Role, utcnow
from marketplace.orders import lifecycle

S = OrderStatus
HTMX = {"HX-Request": "true"}


def fresh(order: Order) -> Order:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Order, order.id)


@pytest.fixture
def seller(make):
    return make.provider(name="江苏某大学分析测试中心")


@pytest.fixture
def service(make, seller):
    return make.service(seller.provider)


# ---------------------------------------------------------------- the state × action × who table

ANY = "whoever asked"
EXPECTED = {  # (action, from state, who asked to cancel, ANY: whatever) -> who may do it; all else is refused
    ("accept", S.PENDING, ANY): "provider", ("decline", S.PENDING, ANY): "provider",
    ("withdraw", S.PENDING, ANY): "buyer", ("finish", S.IN_SERVICE, None): "provider",  # a request is answered first
    ("expire", S.PENDING, ANY): "system",
    ("request_cancel", S.IN_SERVICE, None): ("buyer", "provider"),
    ("agree_cancel", S.IN_SERVICE, "buyer"): "provider", ("agree_cancel", S.IN_SERVICE, "provider"): "buyer",
    ("refuse_cancel", S.IN_SERVICE, "buyer"): "provider", ("refuse_cancel", S.IN_SERVICE, "provider"): "buyer",
    ("retract_cancel", S.IN_SERVICE, "buyer"): "buyer", ("retract_cancel", S.IN_SERVICE, "provider"): "provider",
    ("close", S.IN_SERVICE, ANY): "reviewer",
}
STATES = (S.PENDING, S.IN_SERVICE, S.REVIEWING, S.CORRECTION, S.AWAITING_PAYMENT, S.PAID, S.COMPLETED,
          S.WITHDRAWN, S.DECLINED, S.EXPIRED, S.CANCELLED, S.CLOSED)
ASKED = (None, "buyer", "provider")  # who has asked to cancel (申请取消) when the move is tried: in service only
AFTER = {"accept": S.IN_SERVICE, "decline": S.DECLINED, "withdraw": S.WITHDRAWN, "finish": S.IN_SERVICE,
         "expire": S.EXPIRED, "request_cancel": S.IN_SERVICE, "agree_cancel": S.CANCELLED,
         "refuse_cancel": S.IN_SERVICE, "retract_cancel": S.IN_SERVICE, "close": S.CLOSED}


def who_may(action: str, state: str, asked) -> tuple:
    found = EXPECTED.get((action, state, asked), EXPECTED.get((action, state, ANY), ()))
    return (found,) if isinstance(found, str) else found


@pytest.mark.parametrize("action", list(lifecycle.MOVES))
@pytest.mark.parametrize("state", STATES)
def test_every_move_is_allowed_only_from_its_states_and_to_its_actor(make, enterprise, seller, service, action,
                                                                   state):
    actors = {"buyer": enterprise, "provider": seller, "other_enterprise": make.enterprise(),
              "other_provider": make.provider(), "reviewer": make.reviewer(), "system": None}
    for asked in ASKED if state == S.IN_SERVICE else (None,):
        for who, user in actors.items():
            order = make.order(enterprise, service, status=state, cancel_requested_by=asked,
                               cancel_reason="项目暂停" if asked else None)
            assert lifecycle.allowed(order, action, user) == (who in who_may(action, state, asked)), (who, asked)
            if who in who_may(action, state, asked):
                lifecycle.act(order, action, user, reason="已协商", amount_fen=order.quote_fen)
                assert fresh(order).status == AFTER[action], (who, asked)
            else:
                with pytest.raises(lifecycle.Refused):
                    lifecycle.act(order, action, user, reason="已协商", amount_fen=order.quote_fen)
                db.session.rollback()
                assert fresh(order).status == state, (who, asked)


def test_declining_needs_a_reason(make, enterprise, seller, service):
    order = make.order(enterprise, service)
    with pytest.raises(lifecycle.Refused, match="原因"):
        lifecycle.act(order, "decline", seller, reason="  ")


def test_finishing_a_non_voucher_order_completes_it(make, seller, service, individual):
    order = make.order(individual, service, status=S.IN_SERVICE)
    assert not order.is_voucher
    lifecycle.act(order, "finish", seller, amount_fen=order.quote_fen)
    assert order.status == S.COMPLETED and order.finished_at


# ---------------------------------------------------------------- 自动接单, timeline, expiry

def test_an_auto_accepting_provider_has_new_orders_in_service_at_once(make, enterprise, seller, service):
    seller.provider.auto_accept = True
    db.session.commit()
    order = make.order(enterprise, service)
    assert order.status == S.IN_SERVICE and order.auto_accepted and order.accepted_at
    assert [e.kind for e in order.events] == ["placed", "auto_accepted"]
    steps = lifecycle.progress(order)
    assert [s.done for s in steps] == [True, True, False, False, False]


def test_the_timeline_records_each_step_with_its_time(make, enterprise, seller, service):
    order = make.order(enterprise, service)
    lifecycle.act(order, "accept", seller)
    lifecycle.act(order, "finish", seller, amount_fen=order.quote_fen)
    db.session.commit()
    assert [e.kind for e in fresh(order).events] == ["placed", "accepted", "finished"]
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "order")
                                 .order_by(AuditLog.id)).all()
    assert actions == ["place", "accept", "finish"]


def test_orders_nobody_accepts_in_time_expire(make, enterprise, service, runner, app):
    old = make.order(enterprise, service, created_at=utcnow() - timedelta(days=app.config["ORDER_ACCEPT_DAYS"] + 1))
    recent = make.order(enterprise, service)
    accepted = make.order(enterprise, service, status=S.IN_SERVICE,
                          created_at=utcnow() - timedelta(days=30))
    result = runner.invoke(args=["expire-orders"])
    assert "1 个订单" in result.output
    assert fresh(old).status == S.EXPIRED and "订单失效" in lifecycle.EVENT_LABELS[fresh(old).events[-1].kind]
    assert fresh(recent).status == S.PENDING and fresh(accepted).status == S.IN_SERVICE


# ---------------------------------------------------------------- 我的订单

def test_my_orders_has_the_tabs_with_their_counts(client, auth, make, enterprise, service):
    for state in (S.PENDING, S.PENDING, S.IN_SERVICE, S.WITHDRAWN, S.EXPIRED, S.PAID):
        make.order(enterprise, service, status=state)
    make.order(make.enterprise(), service)  # someone else's
    auth.login(enterprise)
    page = client.get("/me/orders").text
    for label, count in (("全部订单", 6), ("订单沟通中", 2), ("服务中", 1), ("审核中", 0), ("待补正", 0), ("待兑付", 0),
                         ("已兑付", 1), ("订单完成", 0), ("订单失效", 2)):
        assert f'{label} <span class="count">{count}</span>' in page
    pending = client.get("/me/orders?tab=pending", headers=HTMX)
    assert "<html" not in pending.text and pending.text.count('class="status pending"') == 2


def test_my_orders_finds_an_order_by_part_of_its_number(client, auth, make, enterprise, service):
    wanted = make.order(enterprise, service, order_no="CXQ202611280042")
    make.order(enterprise, service, order_no="CXQ202611280043")
    auth.login(enterprise)
    page = client.get("/me/orders?q=0042").text
    assert wanted.order_no in page and "CXQ202611280043" not in page
    assert "没有符合条件的订单（编号包含“%_”）" in client.get("/me/orders?q=%_").text


def test_the_order_page_shows_items_amounts_and_the_progress(client, auth, make, enterprise, service):
    order = make.order(enterprise, service, quantity=3)
    auth.login(enterprise)
    page = client.get(f"/me/orders/{order.order_no}").text
    assert service.name in page and "¥1,200.00" in page and "买家下单" in page and "卖家接单并服务" in page


def test_the_buyer_withdraws_an_order_before_it_is_accepted(client, auth, make, enterprise, service):
    order = make.order(enterprise, service)
    auth.login(enterprise)
    response = client.post(f"/me/orders/{order.order_no}/withdraw", data={"reason": "需求变更"}, headers=HTMX)
    assert response.status_code == 200 and "已撤回" in response.text and "<html" not in response.text
    assert fresh(order).status == S.WITHDRAWN and fresh(order).events[-1].note == "需求变更"


def test_an_accepted_order_cannot_be_withdrawn(client, auth, make, enterprise, service):
    order = make.order(enterprise, service, status=S.IN_SERVICE)
    auth.login(enterprise)
    response = client.post(f"/me/orders/{order.order_no}/withdraw")
    assert response.status_code == 409 and "不能撤回订单" in response.text
    assert fresh(order).status == S.IN_SERVICE


def test_withdrawing_without_javascript_returns_to_the_order(client, auth, make, enterprise, service):
    order = make.order(enterprise, service)
    auth.login(enterprise)
    response = client.post(f"/me/orders/{order.order_no}/withdraw")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/me/orders/{order.order_no}")


@pytest.mark.parametrize("who", ["other_enterprise", Role.INDIVIDUAL, "seller", Role.REVIEWER])
def test_nobody_else_sees_or_withdraws_a_buyers_order(client, auth, make, enterprise, seller, service, who):
    order = make.order(enterprise, service)
    user = {"other_enterprise": make.enterprise, "seller": lambda: seller}.get(who, lambda: make.user(who))()
    db.session.commit()
    auth.login(user)
    assert client.get(f"/me/orders/{order.order_no}").status_code == 404
    assert client.post(f"/me/orders/{order.order_no}/withdraw").status_code == 404
    assert fresh(order).status == S.PENDING


def test_the_workbench_home_shows_the_voucher_and_orders_needing_attention(client, auth, make, enterprise, service,
                                                                         reviewer):
    from marketplace.models import ApplicationStatus
    from marketplace.vouchers import lifecycle as vouchers

    vouchers.approve(make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED), reviewer.id)
    db.session.commit()
    make.order(enterprise, service)
    make.order(enterprise, service, status=S.IN_SERVICE)
    auth.login(enterprise)
    page = client.get("/me").text
    assert "剩余可用金额" in page and "100,000.00" in page
    assert "<strong>1</strong><span>订单沟通中</span>" in page and "<strong>1</strong><span>服务中</span>" in page
