"""订单管理 (/seller/orders): the provider's orders by kind and state, one order, 接单 / 拒绝接单 / 服务完成,
and the orders panel of the /seller home."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Order, OrderEvent, OrderStatus, Role, ShopStatus
from marketplace.seller.shop import month_start

from .conftest import sign_in_as

HTMX = {"HX-Request": "true"}
S = OrderStatus


@pytest.fixture
def seller(client, auth, provider):
    auth.login(provider)
    return provider


@pytest.fixture
def service(make, provider):
    return make.service(provider.provider)


@pytest.fixture
def other_service(make):
    return make.service(make.provider(name="别家检测中心").provider, name="别家的服务")


def fresh() -> None:
    """End the test's own read transaction (SQLite keeps its snapshot) and forget loaded rows."""
    db.session.commit()
    db.session.expire_all()


def reloaded(order: Order) -> Order:
    fresh()
    return db.session.get(Order, order.id)


def event_kinds(order: Order) -> list[str]:
    return [e.kind for e in db.session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id)
                                                 .order_by(OrderEvent.id))]


def audit_count() -> int:
    return db.session.scalar(select(func.count(AuditLog.id)))


def counts(page: str, nav_label: str) -> dict[str, int]:
    """The numbers shown on one tab bar: label -> count."""
    nav = re.search(rf'aria-label="{nav_label}"[^>]*>(.*?)</nav>', page, re.S).group(1)
    return {label.strip(): int(n) for label, n in re.findall(r'>([^<>]+?) <span class="count">(\d+)</span>', nav)}


def shown(page: str, order: Order) -> bool:
    return f'id="order-{order.order_no}"' in page


def act(client, order: Order, action: str, htmx: bool = False, **data):
    return client.post(f"/seller/orders/{order.order_no}/{action}", data=data, headers=HTMX if htmx else {})


# ---------------------------------------------------------------- the list

def test_tabs_count_the_providers_orders_by_state_within_each_kind(client, seller, make, enterprise, individual,
                                                                  service, other_service):
    for status in (S.PENDING, S.PENDING, S.IN_SERVICE, S.REVIEWING, S.PAID, S.WITHDRAWN, S.EXPIRED, S.COMPLETED):
        make.order(enterprise, service, status=status)
    make.order(individual, service)
    make.order(enterprise, service, status=S.DECLINED, is_voucher=False)
    make.order(enterprise, other_service)  # another shop's order counts nowhere here

    both = client.get("/seller/orders").get_data(as_text=True)
    page = client.get("/seller/orders?kind=cxq").get_data(as_text=True)
    other = client.get("/seller/orders?kind=ord").get_data(as_text=True)

    assert ('<option value="cxq">创新券订单（8）</option>' in both
            and '<option value="ord">非创新券订单（2）</option>' in both)
    assert counts(both, "订单状态")["全部订单"] == 10 and counts(both, "订单状态")["订单沟通中"] == 3
    assert counts(page, "订单状态") == {"全部订单": 8, "订单沟通中": 2, "服务中": 1, "审核中": 1, "待补正": 0,
                                      "待兑付": 0, "已兑付": 1, "订单完成": 1, "订单失效": 2}
    # 非创新券订单 never reach 兑付: the seed's five tabs
    assert counts(other, "订单状态") == {"全部订单": 2, "订单沟通中": 1, "服务中": 0, "订单完成": 0, "订单失效": 1}


def test_a_tab_lists_only_its_states_newest_first(client, seller, make, enterprise, service):
    older = make.order(enterprise, service, created_at=month_start() - timedelta(days=3))
    newer = make.order(enterprise, service)
    serving = make.order(enterprise, service, status=S.IN_SERVICE)

    page = client.get("/seller/orders?tab=pending").get_data(as_text=True)

    assert shown(page, older) and shown(page, newer) and not shown(page, serving)
    assert page.index(newer.order_no) < page.index(older.order_no)
    assert 'aria-current="page">订单沟通中 <span class="count">2</span>' in page


def test_tab_switching_answers_htmx_with_the_fragment_and_the_same_url_with_the_page(client, seller, make,
                                                                                    enterprise, service):
    order = make.order(enterprise, service, status=S.IN_SERVICE)

    fragment = client.get("/seller/orders?tab=in_service", headers=HTMX)
    page = client.get("/seller/orders?tab=in_service")

    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True) and shown(fragment.get_data(as_text=True), order)
    assert "<html" in page.get_data(as_text=True) and shown(page.get_data(as_text=True), order)
    assert 'hx-get="/seller/orders?tab=pending"' in page.get_data(as_text=True)
    assert 'hx-push-url="true"' in page.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_non_voucher_orders_are_listed_apart_without_a_voucher_estimate(client, seller, make, enterprise,
                                                                      individual, service):
    voucher = make.order(enterprise, service)
    personal = make.order(individual, service)

    voucher_page = client.get("/seller/orders?kind=cxq").get_data(as_text=True)
    other_page = client.get("/seller/orders?kind=ord").get_data(as_text=True)
    both = client.get("/seller/orders").get_data(as_text=True)

    assert shown(voucher_page, voucher) and not shown(voucher_page, personal) and "拟兑创新券" in voucher_page
    assert shown(other_page, personal) and not shown(other_page, voucher) and "拟兑创新券" not in other_page
    assert "申请兑付</th>" not in other_page and "兑付状态" not in other_page
    assert shown(both, voucher) and shown(both, personal)


def test_search_finds_orders_by_part_of_the_number_and_by_the_buyers_name(client, seller, make, enterprise,
                                                                         individual, service):
    first = make.order(enterprise, service, order_no="CXQ202601150007")
    second = make.order(enterprise, service, order_no="CXQ202601160123")
    personal = make.order(individual, service, order_no="ORD202601160124")

    by_number = client.get("/seller/orders?q=160123").get_data(as_text=True)
    lower_case = client.get("/seller/orders?q=cxq2026").get_data(as_text=True)
    by_enterprise = client.get("/seller/orders", query_string={"buyer": enterprise.enterprise.name[-4:]})
    by_person = client.get("/seller/orders", query_string={"kind": "ord", "buyer": individual.name})
    nobody = client.get("/seller/orders", query_string={"buyer": "不存在的公司"}).get_data(as_text=True)

    assert shown(by_number, second) and not shown(by_number, first)
    assert shown(lower_case, first) and shown(lower_case, second)
    assert shown(by_enterprise.get_data(as_text=True), first)
    assert shown(by_person.get_data(as_text=True), personal)
    assert counts(nobody, "订单状态")["全部订单"] == 0 and "没有符合条件的订单" in nobody


def test_the_buyer_search_finds_a_provider_unit_that_bought_by_the_units_name(client, seller, make, enterprise,
                                                                              service):
    unit = make.provider(name="南京某大学分析测试中心")
    bought = make.order(unit, service)
    other = make.order(enterprise, service)

    found = client.get("/seller/orders", query_string={"buyer": "分析测试"}).get_data(as_text=True)

    assert shown(found, bought) and not shown(found, other)
    assert "南京某大学分析测试中心<small>（服务单位）</small>" in found


def test_the_list_is_paginated_and_pages_keep_the_tab(app, client, seller, make, enterprise, service):
    app.config["PER_PAGE"] = 2
    orders = [make.order(enterprise, service) for _ in range(3)]

    first = client.get("/seller/orders?tab=pending").get_data(as_text=True)
    second = client.get("/seller/orders?tab=pending&page=2").get_data(as_text=True)

    assert sum(shown(first, o) for o in orders) == 2 and sum(shown(second, o) for o in orders) == 1
    assert 'href="/seller/orders?tab=pending&amp;page=2"' in first


def test_a_row_shows_number_time_buyer_items_amount_estimate_and_status(client, seller, make, enterprise,
                                                                       individual, service):
    order = make.order(enterprise, service, quantity=2)
    order.estimated_voucher_fen = 20000
    db.session.commit()
    negotiable = make.service(seller.provider, name="面议服务", price_fen=None)
    make.order(individual, negotiable)

    page = client.get("/seller/orders?kind=cxq").get_data(as_text=True)
    other = client.get("/seller/orders?kind=ord").get_data(as_text=True)

    assert enterprise.enterprise.name in page and "场发射扫描电镜形貌分析" in page
    assert "¥800.00" in page and "¥200.00" in page and ">已下单待接单</span>" in page
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", page)
    assert individual.name in other and "（个人）" in other and "面议" in other


# ---------------------------------------------------------------- moves in the row

def test_provider_accepts_in_the_row_and_htmx_gets_the_row_back(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "accept", htmx=True, back="/seller/orders?tab=pending")

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith(f'<tr id="order-{order.order_no}"')
    assert ">已接单服务中</span>" in body and "确认拒绝" not in body
    assert 'id="order-tabs" hx-swap-oob="true"' in body  # the tab counts follow the move
    assert counts(body, "订单状态")["订单沟通中"] == 0 and counts(body, "订单状态")["服务中"] == 1
    order = reloaded(order)
    assert order.status == S.IN_SERVICE and order.accepted_at is not None
    assert event_kinds(order) == ["placed", "accepted"]
    assert db.session.scalar(select(AuditLog.to_state).where(AuditLog.object_id == order.order_no,
                                                             AuditLog.action == "accept")) == S.IN_SERVICE


def test_a_provider_that_has_exited_cannot_accept_its_pending_orders(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)
    service.provider.status = ShopStatus.REMOVED
    db.session.commit()

    response = act(client, order, "accept", back="/seller/orders?tab=pending")

    assert response.status_code == 409 and "已退出平台" in response.get_data(as_text=True)
    assert reloaded(order).status == S.PENDING


def test_accepting_without_javascript_goes_back_to_the_list_with_a_flash(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "accept", back="/seller/orders?tab=pending")

    assert response.status_code == 303 and response.headers["Location"] == "/seller/orders?tab=pending"
    assert "已接单，订单进入服务中" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert reloaded(order).status == S.IN_SERVICE


def test_a_plain_form_never_returns_anywhere_but_the_order_list(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "accept", back="https://evil.example/seller/orders")

    assert response.headers["Location"] == f"/seller/orders/{order.order_no}"


def test_declining_needs_a_reason_and_keeps_the_order_waiting(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    in_row = act(client, order, "decline", htmx=True, reason="  ")
    plain = act(client, order, "decline")

    assert in_row.status_code == 422 and "请填写拒绝接单的原因。" in in_row.get_data(as_text=True)
    assert f'<tr id="order-{order.order_no}"' in in_row.get_data(as_text=True)
    assert "<details class=\"decline\" open>" in in_row.get_data(as_text=True)
    assert plain.status_code == 422 and "请填写拒绝接单的原因。" in plain.get_data(as_text=True)
    assert "<html" in plain.get_data(as_text=True)
    assert reloaded(order).status == S.PENDING and event_kinds(order) == ["placed"]


def test_declining_with_a_reason_records_it_on_the_order_and_its_timeline(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "decline", htmx=True, reason="仪器检修中，暂不能接单")

    assert response.status_code == 200 and ">已拒绝</span>" in response.get_data(as_text=True)
    assert "仪器检修中，暂不能接单" in response.get_data(as_text=True)
    order = reloaded(order)
    assert (order.status, order.status_reason) == (S.DECLINED, "仪器检修中，暂不能接单")
    assert event_kinds(order) == ["placed", "declined"]


def test_declining_without_javascript_goes_back_with_a_flash(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "decline", reason="样品不符合要求", back="/seller/orders")

    assert response.status_code == 303 and response.headers["Location"] == "/seller/orders"
    assert "已拒绝接单" in client.get("/seller/orders").get_data(as_text=True)
    assert reloaded(order).status == S.DECLINED


def test_a_reason_longer_than_500_characters_is_refused(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = act(client, order, "decline", htmx=True, reason="长" * 501)

    assert response.status_code == 422 and "原因不能超过500个字" in response.get_data(as_text=True)
    assert reloaded(order).status == S.PENDING


# ---------------------------------------------------------------- 服务完成

def test_finishing_a_voucher_order_keeps_it_in_service_for_the_buyers_claim(client, seller, make, enterprise,
                                                                           service):
    order = make.order(enterprise, service, status=S.IN_SERVICE)

    response = act(client, order, "finish", final_amount="400")

    assert response.status_code == 303 and response.headers["Location"] == f"/seller/orders/{order.order_no}"
    assert "已确认服务完成" in client.get(response.headers["Location"]).get_data(as_text=True)
    order = reloaded(order)
    assert order.status == S.IN_SERVICE and order.finished_at is not None and event_kinds(order)[-1] == "finished"


def test_finishing_a_non_voucher_order_completes_it(client, seller, make, individual, service):
    order = make.order(individual, service, status=S.IN_SERVICE)

    response = act(client, order, "finish", htmx=True, final_amount="400")

    assert response.status_code == 200 and ">订单完成</span>" in response.get_data(as_text=True)
    assert reloaded(order).status == S.COMPLETED


# ---------------------------------------------------------------- refused moves

@pytest.mark.parametrize("status, action, message", [
    (S.WITHDRAWN, "accept", "订单当前为“已撤回”，不能接单。"),
    (S.EXPIRED, "accept", "订单当前为“订单失效”，不能接单。"),
    (S.IN_SERVICE, "accept", "订单当前为“已接单服务中”，不能接单。"),
    (S.DECLINED, "decline", "订单当前为“已拒绝”，不能拒绝接单。"),
    (S.PENDING, "finish", "订单当前为“已下单待接单”，不能服务完成。"),
    (S.COMPLETED, "finish", "订单当前为“订单完成”，不能服务完成。"),
])
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "page"])
def test_moves_the_state_does_not_allow_answer_409_and_change_nothing(client, seller, make, enterprise, service,
                                                                     status, action, message, htmx):
    order = make.order(enterprise, service, status=status)
    before = (event_kinds(order), audit_count())

    response = act(client, order, action, htmx=htmx, reason="理由")

    assert response.status_code == 409 and message in response.get_data(as_text=True)
    assert reloaded(order).status == status and (event_kinds(order), audit_count()) == before


def test_an_order_withdrawn_while_the_list_was_open_cannot_be_accepted_from_its_row(client, seller, make,
                                                                                   enterprise, service):
    order = make.order(enterprise, service)
    client.get("/seller/orders?tab=pending")
    order.status = S.WITHDRAWN  # the buyer withdrew meanwhile
    db.session.commit()

    response = act(client, order, "accept", htmx=True)

    body = response.get_data(as_text=True)
    assert response.status_code == 409 and f'<tr id="order-{order.order_no}"' in body
    assert ">已撤回</span>" in body and "不能接单" in body
    assert reloaded(order).status == S.WITHDRAWN


# ---------------------------------------------------------------- one order

def test_the_order_page_shows_items_amounts_contact_note_timeline_and_the_moves(client, seller, make, enterprise,
                                                                               service):
    order = make.order(enterprise, service, quantity=3)
    order.note, order.estimated_voucher_fen = "请尽快安排测试", 30000
    db.session.commit()

    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)

    assert order.order_no in page and "场发射扫描电镜形貌分析" in page and "¥1,200.00" in page
    assert "¥300.00" in page and "拟兑创新券" in page
    assert "李四" in page and "13812345678" in page and "请尽快安排测试" in page
    assert enterprise.enterprise.name in page
    assert 'class="progress-bar"' in page and "买家下单" in page
    assert f'action="/seller/orders/{order.order_no}/accept"' in page
    assert f'action="/seller/orders/{order.order_no}/decline"' in page
    assert "/finish" not in page and "前接单或拒绝" in page


def test_the_order_page_offers_only_the_moves_its_state_allows(client, seller, make, enterprise, service):
    serving = make.order(enterprise, service, status=S.IN_SERVICE)
    withdrawn = make.order(enterprise, service, status=S.WITHDRAWN)

    serving_page = client.get(f"/seller/orders/{serving.order_no}").get_data(as_text=True)
    withdrawn_page = client.get(f"/seller/orders/{withdrawn.order_no}").get_data(as_text=True)

    assert f"/seller/orders/{serving.order_no}/finish" in serving_page and "/accept" not in serving_page
    assert ("暂无需要您处理的操作" in withdrawn_page
            and "/seller/orders/" + withdrawn.order_no + "/" not in withdrawn_page)


def test_an_order_with_the_price_still_open_shows_it_as_negotiable(client, seller, make, enterprise):
    order = make.order(enterprise, make.service(seller.provider, name="面议服务", price_fen=None))

    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)

    assert "面议" in page and "<dt>拟兑创新券</dt><dd>待定</dd>" in page and "¥0.00" not in page


# ---------------------------------------------------------------- who may

@pytest.mark.parametrize("method, suffix", [("get", ""), ("post", "/accept"), ("post", "/decline"),
                                            ("post", "/finish")])
def test_another_provider_gets_404_for_an_order_that_is_not_theirs(client, seller, make, enterprise, other_service,
                                                                   method, suffix):
    order = make.order(enterprise, other_service,
                       status=S.IN_SERVICE if suffix == "/finish" else S.PENDING)

    response = getattr(client, method)(f"/seller/orders/{order.order_no}{suffix}", data={"reason": "不是我的"})

    assert response.status_code == 404
    assert reloaded(order).status == (S.IN_SERVICE if suffix == "/finish" else S.PENDING)


@pytest.mark.parametrize("who, expected", [("anonymous", 302), ("enterprise", 403), ("individual", 403),
                                           (Role.REVIEWER, 403), ("pending_provider", 403)])
@pytest.mark.parametrize("method, suffix", [("get", None), ("get", ""), ("post", "/accept"), ("post", "/decline"),
                                            ("post", "/finish")])
def test_only_approved_providers_reach_order_management(client, auth, make, service, who, expected, method, suffix):
    buyer = make.enterprise()
    order = make.order(buyer, service)
    sign_in_as(auth, make, who)

    path = "/seller/orders" if suffix is None else f"/seller/orders/{order.order_no}{suffix}"
    response = getattr(client, method)(path, data={"reason": "理由"})

    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")
    assert reloaded(order).status == S.PENDING


def test_the_buyer_cannot_move_their_own_order_from_the_sellers_side(client, auth, make, enterprise, service):
    order = make.order(enterprise, service)
    auth.login(enterprise)

    assert act(client, order, "accept").status_code == 403
    assert reloaded(order).status == S.PENDING


def test_a_move_without_the_csrf_token_is_refused(client, seller, make, enterprise, service):
    order = make.order(enterprise, service)

    response = client.post(f"/seller/orders/{order.order_no}/accept", csrf=False)

    assert response.status_code == 400 and reloaded(order).status == S.PENDING


def test_the_side_menu_leads_to_orders_and_settings(client, seller):
    page = client.get("/seller/orders").get_data(as_text=True)

    assert 'href="/seller/orders" aria-current="page">订单管理</a>' in page
    assert 'href="/seller/settings">店铺设置</a>' in page


# ---------------------------------------------------------------- the /seller home

def test_the_home_counts_new_and_in_service_orders_and_this_months_business(client, seller, make, enterprise,
                                                                           individual, service):
    make.order(enterprise, service)
    make.order(enterprise, service, quantity=2)
    make.order(individual, service)
    make.order(enterprise, service, status=S.IN_SERVICE)
    make.order(enterprise, service, status=S.WITHDRAWN)  # not business
    make.order(enterprise, make.service(seller.provider, name="面议服务", price_fen=None))  # counted, no amount
    make.order(enterprise, service, status=S.IN_SERVICE, created_at=month_start() - timedelta(seconds=1))

    page = client.get("/seller").get_data(as_text=True)

    assert 'href="/seller/orders?kind=cxq&amp;tab=pending">3</a>' in page
    assert 'href="/seller/orders?kind=ord&amp;tab=pending">1</a>' in page
    assert 'href="/seller/orders?kind=cxq&amp;tab=in_service">2</a>' in page
    assert 'href="/seller/orders?kind=ord&amp;tab=in_service">0</a>' in page
    # 400 + 800 + 400 (individual) + 400 (in service) this month; 面议 adds nothing; withdrawn and last month left out.
    assert "5 单，金额 ¥2,000.00" in page
    assert "未读消息" in page and "自动接单" in page


def test_the_home_still_shows_the_shop_and_its_listings(client, seller):
    page = client.get("/seller").get_data(as_text=True)

    assert "店铺状态" in page and "服务与仪器" in page and "本月订单" in page and "0 单，金额 ¥0.00" in page
