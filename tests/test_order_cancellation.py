"""Orders that must end can end (issue 14, SPEC 5): after acceptance either side asks to cancel (申请取消) and the
other agrees or refuses, the side that asked may take it back, and a reviewer closes a stuck order; an order with a
live claim is neither cancelled nor closed. Through the real routes, as the buyer, the provider and the reviewer."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    Order,
    OrderEvent,
    OrderStatus,
    Redemption,
    RedemptionStatus,
    Voucher,
    china_today,
    utcnow,
)
from marketplace.orders import lifecycle
from marketplace.redemption import readiness
from marketplace.stats import queries

from .conftest import Auth

S = OrderStatus
HTMX = {"HX-Request": "true"}
REASON = "项目暂停，暂不需要检测"


@pytest.fixture
def seller(make):
    """A provider with 自动接单 on: every new order is in service at once."""
    provider = make.provider(name="江苏某大学分析测试中心")
    provider.provider.auto_accept = True
    db.session.commit()
    return provider


@pytest.fixture
def service(make, seller):
    return make.service(seller.provider)


@pytest.fixture
def order(make, enterprise, service) -> Order:
    return make.order(enterprise, service)


def signed_in(app, user):
    client = app.test_client()
    assert Auth(client).login(user).status_code == 303
    return client


def reloaded(order: Order) -> Order:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Order, order.id)


def event_kinds(order: Order) -> list[str]:
    return db.session.scalars(select(OrderEvent.kind).where(OrderEvent.order_id == order.id)
                              .order_by(OrderEvent.id)).all()


def audit_rows(object_id: str) -> list[tuple]:
    return db.session.execute(select(AuditLog.action, AuditLog.from_state, AuditLog.to_state, AuditLog.actor_id,
                                     AuditLog.reason).where(AuditLog.object_id == object_id)
                              .order_by(AuditLog.id)).all()


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)))


def buyer_asks(app, enterprise, order, reason=REASON):
    response = signed_in(app, enterprise).post(f"/me/orders/{order.order_no}/request_cancel", data={"reason": reason})
    assert response.status_code == 303
    return response


# ---------------------------------------------------------------- asking, agreeing, refusing, taking back

def test_an_auto_accepted_order_the_buyer_asks_to_cancel_and_the_provider_agrees_to_ends_cancelled(
        app, enterprise, seller, order):
    assert order.status == S.IN_SERVICE and order.auto_accepted
    buyer, provider = signed_in(app, enterprise), signed_in(app, seller)

    asked = buyer.post(f"/me/orders/{order.order_no}/request_cancel", data={"reason": REASON})
    assert asked.status_code == 303 and asked.headers["Location"] == f"/me/orders/{order.order_no}"
    assert "已提交取消申请，等待对方答复" in buyer.get(asked.headers["Location"]).text
    seen = provider.get(f"/seller/orders/{order.order_no}").text
    assert "买家申请取消订单" in seen and REASON in seen and "确认同意取消" in seen

    agreed = provider.post(f"/seller/orders/{order.order_no}/agree_cancel")

    assert agreed.status_code == 303
    order = reloaded(order)
    assert (order.status, order.status_reason, order.cancel_requested_by) == (S.CANCELLED, REASON, "buyer")
    assert event_kinds(order)[-2:] == ["cancel_requested_buyer", "cancel_agreed_provider"]
    assert audit_rows(order.order_no)[-2:] == [
        ("request_cancel", S.IN_SERVICE, S.IN_SERVICE, enterprise.id, REASON),
        ("agree_cancel", S.IN_SERVICE, S.CANCELLED, seller.id, REASON)]
    page = buyer.get(f"/me/orders/{order.order_no}").text
    assert ">已取消</span>" in page and "卖家同意取消，订单已取消" in page and "申请取消</summary>" not in page


def test_a_providers_request_the_buyer_refuses_leaves_the_order_in_service_with_the_request_cleared(
        app, enterprise, seller, order):
    provider, buyer = signed_in(app, seller), signed_in(app, enterprise)
    assert provider.post(f"/seller/orders/{order.order_no}/request_cancel",
                         data={"reason": "仪器故障，短期无法修复"}).status_code == 303
    assert "服务单位申请取消订单" in buyer.get(f"/me/orders/{order.order_no}").text

    refused = buyer.post(f"/me/orders/{order.order_no}/refuse_cancel", data={"reason": "可以等仪器修好"}, headers=HTMX)

    assert refused.status_code == 200 and "<html" not in refused.text and 'id="order-panel"' in refused.text
    assert "已拒绝取消申请，订单继续服务" in refused.text
    order = reloaded(order)
    assert order.status == S.IN_SERVICE
    assert (order.cancel_requested_by, order.cancel_requested_at, order.cancel_reason) == (None, None, None)
    assert event_kinds(order)[-2:] == ["cancel_requested_provider", "cancel_refused_buyer"]
    assert audit_rows(order.order_no)[-1] == ("refuse_cancel", S.IN_SERVICE, S.IN_SERVICE, enterprise.id,
                                              "可以等仪器修好")
    shown_to_the_requester = provider.get(f"/seller/orders/{order.order_no}").text
    assert "买家拒绝取消订单" in shown_to_the_requester and "可以等仪器修好" in shown_to_the_requester
    assert "申请取消</summary>" in shown_to_the_requester  # it may ask again


def test_the_side_that_asked_takes_its_request_back(app, enterprise, order):
    buyer_asks(app, enterprise, order)

    response = signed_in(app, enterprise).post(f"/me/orders/{order.order_no}/retract_cancel", headers=HTMX)

    assert response.status_code == 200 and "已撤回取消申请" in response.text
    order = reloaded(order)
    assert order.status == S.IN_SERVICE and order.cancel_requested_by is None
    assert event_kinds(order)[-1] == "cancel_retracted_buyer"


@pytest.mark.parametrize("who, url, message", [
    ("buyer", "/me/orders/{no}/agree_cancel", "不能答复自己提出的取消申请"),
    ("buyer", "/me/orders/{no}/refuse_cancel", "不能答复自己提出的取消申请"),
    ("buyer", "/me/orders/{no}/request_cancel", "买家已申请取消该订单，正在等待答复"),
    ("provider", "/seller/orders/{no}/request_cancel", "买家已申请取消该订单，正在等待答复"),
    ("provider", "/seller/orders/{no}/retract_cancel", "只有提出的一方可以撤回"),
])
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_requester_cannot_answer_its_own_request_and_a_second_request_waits_for_the_first(
        app, enterprise, seller, order, who, url, message, htmx):
    buyer_asks(app, enterprise, order)
    before = audit_count()

    response = signed_in(app, enterprise if who == "buyer" else seller).post(
        url.format(no=order.order_no), data={"reason": "再次申请"}, headers=HTMX if htmx else {})

    assert response.status_code == 409 and message in response.text
    assert ("<html" in response.text) != htmx
    order = reloaded(order)
    assert (order.status, order.cancel_requested_by, order.cancel_reason) == (S.IN_SERVICE, "buyer", REASON)
    assert audit_count() == before


def test_the_provider_answers_a_waiting_request_before_it_finishes_the_service(app, enterprise, seller, order):
    buyer_asks(app, enterprise, order)

    response = signed_in(app, seller).post(f"/seller/orders/{order.order_no}/finish",
                                           data={"final_amount": "400"})

    assert (response.status_code == 409
            and "买家已申请取消该订单，正在等待答复，请先答复取消申请，再服务完成" in response.text)
    order = reloaded(order)
    assert order.finished_at is None and order.final_amount_fen is None and order.cancel_requested_by == "buyer"


@pytest.mark.parametrize("stranger, url", [
    ("enterprise", "/me/orders/{no}/agree_cancel"), ("enterprise", "/me/orders/{no}/request_cancel"),
    ("provider", "/seller/orders/{no}/agree_cancel"), ("provider", "/seller/orders/{no}/request_cancel"),
    ("reviewer", "/me/orders/{no}/agree_cancel"),
])
def test_a_stranger_can_neither_ask_nor_answer(app, make, enterprise, order, stranger, url):
    buyer_asks(app, enterprise, order)
    before = audit_count()
    outsider = getattr(make, stranger)()

    response = signed_in(app, outsider).post(url.format(no=order.order_no), data={"reason": "想取消"})

    assert response.status_code == 404
    assert (reloaded(order).status, audit_count()) == (S.IN_SERVICE, before)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("reason, message", [("  ", "请填写申请取消的原因。"), ("长" * 501, "原因不能超过500个字。")])
def test_asking_to_cancel_needs_a_reason_shown_next_to_the_field_with_the_input_kept(
        app, enterprise, order, htmx, reason, message):
    response = signed_in(app, enterprise).post(f"/me/orders/{order.order_no}/request_cancel",
                                               data={"reason": reason}, headers=HTMX if htmx else {})

    assert response.status_code == 422 and ("<html" in response.text) != htmx
    field = re.search(rf'<textarea id="request_cancel-{order.order_no}"[^>]*>(.*?)</textarea>\s*'
                      rf'<p class="error" id="request_cancel-{order.order_no}-error">([^<]*)</p>', response.text, re.S)
    assert field and field.group(1) == reason.strip() and field.group(2) == message
    assert '<details class="cancel" open>' in response.text
    assert reloaded(order).cancel_requested_by is None and event_kinds(order) == ["placed", "auto_accepted"]


def test_a_provider_asking_without_a_reason_gets_its_order_page_back_with_the_message_by_the_field(app, seller,
                                                                                                   order):
    response = signed_in(app, seller).post(f"/seller/orders/{order.order_no}/request_cancel", data={"reason": ""})

    assert response.status_code == 422 and "<html" in response.text
    assert f'<p class="error" id="request_cancel-{order.order_no}-error">请填写申请取消的原因。</p>' in response.text
    assert reloaded(order).cancel_requested_by is None


def test_the_provider_answers_from_its_order_list_row_with_htmx(app, enterprise, seller, order):
    buyer_asks(app, enterprise, order)
    provider = signed_in(app, seller)
    listed = provider.get("/seller/orders").text
    assert "买家申请取消：" + REASON in listed and "同意取消</summary>" in listed

    response = provider.post(f"/seller/orders/{order.order_no}/agree_cancel", data={"back": "/seller/orders"},
                             headers=HTMX)

    assert response.status_code == 200 and f'<tr id="order-{order.order_no}"' in response.text
    assert ">已取消</span>" in response.text and 'hx-swap-oob' in response.text
    assert reloaded(order).status == S.CANCELLED


def test_a_pending_order_has_no_cancellation_yet_it_is_withdrawn_instead(app, make, enterprise):
    waiting = make.order(enterprise, make.service(make.provider().provider))

    response = signed_in(app, enterprise).post(f"/me/orders/{waiting.order_no}/request_cancel",
                                               data={"reason": REASON})

    assert response.status_code == 409 and "订单当前为“已下单待接单”，不能申请取消" in response.text
    assert reloaded(waiting).status == S.PENDING


# ---------------------------------------------------------------- the claim

def submitted_claim(make, enterprise, order) -> Redemption:
    make.voucher(enterprise)
    return make.claim(enterprise, order=order, status=RedemptionStatus.SUBMITTED, amount_fen=40_000)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_an_order_with_a_submitted_claim_can_be_neither_cancelled_nor_closed(app, make, enterprise, seller, order,
                                                                            reviewer, htmx):
    claim = submitted_claim(make, enterprise, order)
    voucher_before = db.session.get(Voucher, claim.voucher_id).reserved_fen
    assert voucher_before > 0 and reloaded(order).status == S.REVIEWING
    before = audit_count()
    headers = HTMX if htmx else {}

    asked = signed_in(app, seller).post(f"/seller/orders/{order.order_no}/request_cancel", data={"reason": REASON},
                                        headers=headers)
    closed = signed_in(app, reviewer).post(f"/admin/orders/{order.order_no}/close", data={"reason": "长期未服务"},
                                           headers=headers)

    for response, move in ((asked, "申请取消"), (closed, "关闭订单")):
        assert response.status_code == 409 and f"订单当前为“审核中”，不能{move}" in response.text
    assert reloaded(order).status == S.REVIEWING and audit_count() == before
    assert db.session.get(Redemption, claim.id).status == RedemptionStatus.SUBMITTED
    assert db.session.get(Voucher, claim.voucher_id).reserved_fen == voucher_before


def test_a_claim_cannot_be_submitted_while_a_cancellation_request_waits(app, make, enterprise, seller, order):
    make.voucher(enterprise)
    claim = make.claim(enterprise, order=order, status=RedemptionStatus.DRAFT, amount_fen=40_000)
    buyer_asks(app, enterprise, order)

    response = signed_in(app, enterprise).post(f"/me/redemptions/{claim.id}/submit",
                                               data={"contract_amount": "400",
                                                     "declarations": list(readiness.DECLARATIONS)})

    assert response.status_code == 422 and "订单有等待答复的取消申请" in response.text
    assert db.session.get(Redemption, claim.id).status == RedemptionStatus.DRAFT
    assert reloaded(order).cancel_requested_by == "buyer"


@pytest.mark.parametrize("move, who", [("agree_cancel", "seller"), ("close", "reviewer")])
def test_ending_an_order_still_refuses_a_live_claim_found_at_that_moment(make, enterprise, seller, reviewer, order,
                                                                        move, who):
    """Defence in depth: were an order somehow in service with a submitted claim, ending it is refused (409)."""
    claim = submitted_claim(make, enterprise, order)
    order = reloaded(order)
    order.status, order.cancel_requested_by, order.cancel_reason = S.IN_SERVICE, "buyer", REASON
    db.session.commit()
    with pytest.raises(lifecycle.LiveClaim, match="已提交兑付申请的订单不能"):
        lifecycle.act(order, move, seller if who == "seller" else reviewer, reason="长期未服务")
    db.session.rollback()
    assert db.session.get(Redemption, claim.id).status == RedemptionStatus.SUBMITTED


def test_a_draft_claim_the_buyer_never_submitted_goes_with_the_cancelled_order(app, make, enterprise, seller,
                                                                              order):
    make.voucher(enterprise)
    draft_id = make.claim(enterprise, order=order, status=RedemptionStatus.DRAFT).id
    buyer_asks(app, enterprise, order)

    response = signed_in(app, seller).post(f"/seller/orders/{order.order_no}/agree_cancel")

    assert response.status_code == 303 and reloaded(order).status == S.CANCELLED
    assert db.session.scalar(select(func.count(Redemption.id)).where(Redemption.id == draft_id)) == 0
    assert ("abandon", RedemptionStatus.DRAFT, None, seller.id, None) in audit_rows(str(draft_id))


def test_agreeing_while_the_buyer_is_saving_its_draft_claim_is_refused_rather_than_waiting(app, make, enterprise,
                                                                                           seller, order):
    """PostgreSQL only (SQLite locks the whole database): the buyer's request holds the draft's row lock, then wants
    the order's row; waiting for the draft while holding the order would deadlock, so the move is refused."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's")
    make.voucher(enterprise)
    draft_id = make.claim(enterprise, order=order, status=RedemptionStatus.DRAFT).id
    buyer_asks(app, enterprise, order)
    with db.engine.connect() as buyers_request:
        buyers_request.execute(select(Redemption.id).where(Redemption.id == draft_id).with_for_update())

        response = signed_in(app, seller).post(f"/seller/orders/{order.order_no}/agree_cancel")

        buyers_request.rollback()
    assert response.status_code == 409 and "买家正在修改该订单的兑付申请，请稍后再同意取消" in response.text
    assert reloaded(order).status == S.IN_SERVICE
    assert db.session.scalar(select(func.count(Redemption.id)).where(Redemption.id == draft_id)) == 1


# ---------------------------------------------------------------- the reviewer

@pytest.fixture
def stuck(make, enterprise, service) -> Order:
    """Accepted 40 days ago, never finished, and the provider's request to cancel unanswered."""
    order = make.order(enterprise, service)
    order.accepted_at = utcnow() - timedelta(days=40)
    order.cancel_requested_by, order.cancel_requested_at, order.cancel_reason = "provider", utcnow(), "联系不上买家"
    db.session.commit()
    return order


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_reviewer_closes_a_stuck_order_with_a_recorded_reason(app, reviewer, stuck, htmx):
    admin = signed_in(app, reviewer)
    page = admin.get(f"/admin/orders/{stuck.order_no}").text
    assert "服务单位申请取消订单" in page and "联系不上买家" in page and "确认关闭订单" in page
    headers = HTMX if htmx else {}

    missing = admin.post(f"/admin/orders/{stuck.order_no}/close", data={"reason": " "}, headers=headers)
    assert missing.status_code == 422 and "请填写关闭订单的原因" in missing.text
    assert ("<html" in missing.text) != htmx and reloaded(stuck).status == S.IN_SERVICE

    closed = admin.post(f"/admin/orders/{stuck.order_no}/close", data={"reason": "双方均未继续服务"}, headers=headers)

    if htmx:
        assert closed.status_code == 200 and 'id="order-case"' in closed.text and "<html" not in closed.text
        assert f"订单 {stuck.order_no} 已关闭" in closed.text and "平台关闭订单：双方均未继续服务" in closed.text
    else:
        assert closed.status_code == 303 and closed.headers["Location"] == f"/admin/orders/{stuck.order_no}"
    order = reloaded(stuck)
    assert (order.status, order.status_reason) == (S.CLOSED, "双方均未继续服务")
    assert event_kinds(order)[-1] == "closed"
    assert audit_rows(order.order_no)[-1] == ("close", S.IN_SERVICE, S.CLOSED, reviewer.id, "双方均未继续服务")
    assert "平台已关闭" in signed_in(app, stuck.buyer).get(f"/me/orders/{stuck.order_no}").text


def test_the_reviewers_list_shows_waiting_requests_and_stuck_orders_and_finds_them(app, make, enterprise, seller,
                                                                                 reviewer, stuck):
    fresh = make.order(enterprise, make.service(seller.provider, name="另一项服务"))
    asked = make.order(make.enterprise(), make.service(make.provider(name="无锡某检测公司").provider))
    asked.status, asked.accepted_at = S.IN_SERVICE, utcnow()
    asked.cancel_requested_by, asked.cancel_requested_at, asked.cancel_reason = "buyer", utcnow(), "不需要了"
    db.session.commit()
    admin = signed_in(app, reviewer)

    everything = admin.get("/admin/orders").text
    waiting = admin.get("/admin/orders?status=cancel", headers=HTMX).text
    stuck_only = admin.get("/admin/orders?status=stuck").text

    assert stuck.order_no in everything and asked.order_no in everything and fresh.order_no not in everything
    assert "<html" not in waiting and stuck.order_no in waiting and asked.order_no in waiting
    assert stuck.order_no in stuck_only and asked.order_no not in stuck_only
    assert '取消申请待答复 <span class="count">2</span>' in everything
    assert '接单超过30天未完成 <span class="count">1</span>' in everything
    for text in (stuck.order_no[-4:], "无锡某检测", asked.enterprise.name):
        found = admin.get("/admin/orders", query_string={"q": text}).text
        assert (asked.order_no in found) == (text != stuck.order_no[-4:]), text


def test_the_reviewers_order_search_finds_a_provider_unit_that_bought_by_the_units_name(app, make, reviewer, stuck,
                                                                                       service):
    unit = make.provider(name="常州某研究院")
    bought = make.order(unit, service, status=S.IN_SERVICE, cancel_requested_by="buyer", cancel_reason="不需要了")

    found = signed_in(app, reviewer).get("/admin/orders", query_string={"q": "常州某研究"}).text

    assert bought.order_no in found and stuck.order_no not in found
    assert "常州某研究院<small>（服务单位）</small>" in found


def test_the_admin_home_counts_the_cancellation_requests_waiting(app, reviewer, stuck):
    home = signed_in(app, reviewer).get("/admin/").text
    assert re.search(r'<strong>1</strong><span>订单取消申请</span>', home)
    assert 'href="/admin/orders?status=cancel"' in home


@pytest.mark.parametrize("who", ["enterprise", "provider"])
def test_only_reviewers_reach_the_orders_area(app, make, stuck, who):
    client = signed_in(app, getattr(make, who)())
    assert client.get("/admin/orders").status_code == 403
    assert client.post(f"/admin/orders/{stuck.order_no}/close", data={"reason": "关闭"}).status_code == 403
    assert reloaded(stuck).status == S.IN_SERVICE


# ---------------------------------------------------------------- tabs, counters, statistics

def test_cancelled_and_closed_orders_are_counted_in_the_inactive_tab(app, make, enterprise, seller, service,
                                                                    order, reviewer, stuck):
    buyer_asks(app, enterprise, order)
    assert signed_in(app, seller).post(f"/seller/orders/{order.order_no}/agree_cancel").status_code == 303
    assert signed_in(app, reviewer).post(f"/admin/orders/{stuck.order_no}/close",
                                         data={"reason": "长期未服务"}).status_code == 303
    make.order(enterprise, service)  # still in service

    mine = signed_in(app, enterprise).get("/me/orders").text
    sold = signed_in(app, seller).get("/seller/orders").text

    for page in (mine, sold):
        assert '订单失效 <span class="count">2</span>' in page and '服务中 <span class="count">1</span>' in page
    inactive = signed_in(app, enterprise).get("/me/orders?tab=inactive").text
    assert order.order_no in inactive and stuck.order_no in inactive


def test_the_deal_counter_and_the_statistics_leave_out_cancelled_and_closed_orders(app, client, make, enterprise,
                                                                                  seller, service, order, stuck,
                                                                                  reviewer):
    kept = make.order(enterprise, service)
    deals = re.compile(r"<strong>(\d+)</strong><span>促成服务交易")
    assert deals.search(client.get("/").text).group(1) == "3"
    assert queries.top_providers(china_today().year)[0].order_count == 3
    db.session.commit()  # end the test's read, so its next one sees the moves below

    buyer_asks(app, enterprise, order)
    signed_in(app, seller).post(f"/seller/orders/{order.order_no}/agree_cancel")
    signed_in(app, reviewer).post(f"/admin/orders/{stuck.order_no}/close", data={"reason": "长期未服务"})

    assert deals.search(client.get("/").text).group(1) == "1"
    year = china_today().year
    assert [(rank.name, rank.order_count) for rank in queries.top_providers(year)] == [(seller.provider.name, 1)]
    assert [(row.order_count, row.quote_fen) for row in queries.orders_by_field(year)] == [(1, kept.quote_fen)]
