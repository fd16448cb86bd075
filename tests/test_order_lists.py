"""Issue 16: the order lists as the seed shows them, for the buyer (/me/orders) and the provider (/seller/orders):
创新券订单 / 非创新券订单 lists (?kind=cxq / ?kind=ord), the 订单类型 and 兑付状态 filters (page and htmx), the money
columns (线上报价, 拟兑创新券, 申请兑付, 审核认定, 拨付创新券; 面议 shows 待定), the row actions 和我联系 and 撤回订单,
the seed's state names, and a query count that does not grow with the rows."""
import re

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Order, OrderStatus, Redemption, RedemptionStatus, Role
from marketplace.redemption import settlement

from .conftest import queries_sent

S, R = OrderStatus, RedemptionStatus
HTMX = {"HX-Request": "true"}
LISTS = ("/me/orders", "/seller/orders")


@pytest.fixture
def lab(make):
    return make.provider(name="南京某大学分析测试中心")


@pytest.fixture
def service(make, lab):
    return make.service(lab.provider)


@pytest.fixture
def as_reader(auth, enterprise, lab):
    """Sign in as the buyer for /me/orders, as the provider for /seller/orders."""
    def sign_in(path: str):
        auth.login(enterprise if path.startswith("/me") else lab)
    return sign_in


def rows(page: str) -> list[str]:
    """The order numbers of the list's rows, in order."""
    return re.findall(r'<tr id="order-([A-Z0-9]+)"', page)


def row(page: str, order: Order) -> str:
    match = re.search(rf'<tr id="order-{order.order_no}">(.*?)</tr>', page, re.S)
    assert match, f"{order.order_no} is not listed"
    return match.group(1)


def cell(page: str, order: Order, label: str) -> str:
    """The text of one cell of the order's row (named by its data-label), tags and spacing dropped."""
    match = re.search(rf'<td data-label="{label}">(.*?)</td>', row(page, order), re.S)
    assert match, f"no {label} cell"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def selected(page: str, name: str) -> str:
    """The value a select shows: the option marked selected, else the first ("")."""
    select_html = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    chosen = re.findall(r'<option value="([^"]*)" selected>', select_html)
    assert len(chosen) <= 1
    return chosen[0] if chosen else re.search(r'<option value="([^"]*)"', select_html).group(1)


def claimed_order(make, buyer, service, status: str) -> Order:
    """A 创新券订单 of `buyer` with `service`'s provider, its claim of ¥400 driven to `status`."""
    order = make.order(buyer, service, status=S.IN_SERVICE, estimated_voucher_fen=10_000)
    return make.claim(buyer, order, status=status, amount_fen=40_000).order


# ---------------------------------------------------------------- 创新券订单 / 非创新券订单

@pytest.mark.parametrize("path", LISTS)
def test_voucher_and_non_voucher_orders_have_their_own_lists_and_no_kind_lists_both(client, make, enterprise,
                                                                                   service, as_reader, path):
    voucher = make.order(enterprise, service)
    plain = make.order(enterprise, service, is_voucher=False)
    as_reader(path)

    cxq = client.get(f"{path}?kind=cxq").text
    ord_ = client.get(f"{path}?kind=ord").text
    both = client.get(path).text

    assert voucher.order_no.startswith("CXQ") and plain.order_no.startswith("ORD")
    assert rows(cxq) == [voucher.order_no] and rows(ord_) == [plain.order_no]
    assert set(rows(both)) == {voucher.order_no, plain.order_no}
    assert selected(cxq, "kind") == "cxq" and selected(ord_, "kind") == "ord" and selected(both, "kind") == ""


def test_the_buyers_kind_lists_are_titled_as_the_menu_names_them(client, auth, enterprise):
    auth.login(enterprise)

    assert '<h1 class="page-title">创新券订单</h1>' in client.get("/me/orders?kind=cxq").text
    assert '<h1 class="page-title">非创新券订单</h1>' in client.get("/me/orders?kind=ord").text
    assert '<h1 class="page-title">我的订单</h1>' in client.get("/me/orders?kind=nonsense").text


def marked(page: str) -> list[str]:
    """The side menu's entries marked as where the page is."""
    menu = re.search(r'<nav class="side-menu".*?</nav>', page, re.S).group(0)
    return re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', menu)


@pytest.mark.parametrize("url, entry", [("/me/orders?kind=cxq", "创新券订单"),
                                        ("/me/orders?kind=voucher", "创新券订单"),
                                        ("/me/orders?kind=ord", "非创新券订单"), ("/me/orders", "我的订单")])
def test_the_buyers_side_menu_marks_the_kind_shown_on_the_page_and_after_an_htmx_change(client, auth, enterprise, url,
                                                                                        entry):
    auth.login(enterprise)

    page = client.get(url).text
    fragment = client.get(url, headers=HTMX).text

    assert marked(page) == [entry]
    assert '<div id="buyer-menu" hx-swap-oob="true">' in fragment and marked(fragment) == [entry]
    assert f"我是买家 · {entry}</summary>" in fragment


def test_the_order_filters_and_tabs_have_stable_ids_so_htmx_restores_the_focus(client, auth, make, enterprise, lab,
                                                                               service):
    make.order(enterprise, service)
    pages = []
    for user, path in ((enterprise, "/me/orders"), (lab, "/seller/orders")):
        auth.login(user)
        pages.append((path, client.get(path, headers=HTMX).text))
        auth.logout()
    for path, page in pages:
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids)), path
        for control in ("kind", "pay", "q"):
            assert re.search(rf'<select name="{control}" id="order-filter-{control}"|'
                             rf'<input type="search" name="{control}" id="order-filter-{control}"', page), control
        assert '<button type="submit" class="button" id="order-filter-submit">查询</button>' in page
        tab_ids = re.findall(r'<a href="[^"]*" id="(order-tab-[a-z_]+)" hx-get', page)
        assert "order-tab-all" in tab_ids and "order-tab-in_service" in tab_ids
    assert 'name="buyer" id="order-filter-buyer"' in pages[1][1]


def test_the_folded_filters_stay_open_on_an_htmx_answer_and_fold_on_a_plain_page(client, auth, enterprise):
    auth.login(enterprise)
    assert '<details class="fold order-search" open>' in client.get("/me/orders?kind=ord", headers=HTMX).text
    assert '<details class="fold order-search">' in client.get("/me/orders?kind=ord").text


def test_the_providers_old_kind_links_still_open_the_same_lists(client, auth, make, enterprise, service, lab):
    voucher = make.order(enterprise, service)
    plain = make.order(enterprise, service, is_voucher=False)
    auth.login(lab)

    assert rows(client.get("/seller/orders?kind=voucher").text) == [voucher.order_no]
    assert rows(client.get("/seller/orders?kind=other").text) == [plain.order_no]


@pytest.mark.parametrize("path", LISTS)
def test_a_non_voucher_list_has_no_claim_columns_tabs_or_filter(client, make, enterprise, service, as_reader, path):
    plain = make.order(enterprise, service, is_voucher=False)
    as_reader(path)

    page = client.get(f"{path}?kind=ord&pay=paid&tab=paid").text

    assert rows(page) == [plain.order_no]  # the 兑付 filter and tab mean nothing here: ignored
    assert 'name="pay"' not in page and "申请兑付</th>" not in page and ">审核中 <span" not in page
    assert "拟兑创新券" not in page and ">订单完成 <span" in page


# ---------------------------------------------------------------- 兑付状态

@pytest.mark.parametrize("path", LISTS)
def test_the_payout_filter_lists_orders_by_the_state_of_their_claim(client, make, enterprise, service, as_reader,
                                                                   path):
    make.voucher(enterprise)
    waiting = make.order(enterprise, service)
    paid = claimed_order(make, enterprise, service, R.PAID)
    reviewing = claimed_order(make, enterprise, service, R.SUBMITTED)
    rejected = claimed_order(make, enterprise, service, R.REJECTED)
    make.order(enterprise, service, is_voucher=False)  # no 兑付 at all: never under a 兑付状态
    as_reader(path)

    def listed(pay):
        return set(rows(client.get(path, query_string={"pay": pay}).text))

    assert listed("none") == {waiting.order_no}
    assert listed("paid") == {paid.order_no}
    assert listed("submitted") == {reviewing.order_no}
    assert listed("rejected") == {rejected.order_no}
    assert listed("approved") == set()
    assert len(listed("")) == 5 and len(listed("nonsense")) == 5


@pytest.mark.parametrize("path", LISTS)
def test_filters_answer_htmx_with_the_list_and_its_form_as_the_url_says(client, make, enterprise, service,
                                                                       as_reader, path):
    make.voucher(enterprise)
    paid = claimed_order(make, enterprise, service, R.PAID)
    make.order(enterprise, service)
    as_reader(path)
    url = f"{path}?kind=cxq&pay=paid&q={paid.order_no[-6:]}"

    fragment = client.get(url, headers=HTMX)
    page = client.get(url)

    assert "<html" not in fragment.text and "<html" in page.text
    for answer in (fragment.text, page.text):
        assert rows(answer) == [paid.order_no]
        assert selected(answer, "kind") == "cxq" and selected(answer, "pay") == "paid"
        assert f'name="q" id="order-filter-q" value="{paid.order_no[-6:]}"' in answer
        assert '<details class="fold order-search" open>' in answer  # a search on: the folded form shows it
        assert 'hx-push-url="true"' in answer
    assert "HX-Request" in fragment.headers["Vary"]
    # the tabs keep the filters, and count within them
    assert re.search(r'href="[^"]*tab=paid[^"]*"', fragment.text).group(0).count("pay=paid") == 1
    assert '全部订单 <span class="count">1</span>' in fragment.text


@pytest.mark.parametrize("path", LISTS)
def test_every_tab_and_kind_counts_the_rows_it_lists_under_each_filter(app, client, make, enterprise, service,
                                                                       as_reader, path):
    """The counts come from one grouped query and the page's total from its tab's count (issue 18): each must still
    be the number of rows the tab or kind lists, with the kind and the 兑付状态 narrowing the tabs, not the kinds."""
    app.config["PER_PAGE"] = 100
    make.voucher(enterprise)
    make.order(enterprise, service)
    make.order(enterprise, service, status=S.IN_SERVICE)
    make.order(enterprise, service, is_voucher=False)
    make.order(enterprise, service, is_voucher=False, status=S.COMPLETED)
    for status in (R.PAID, R.SUBMITTED, R.SUBMITTED, R.REJECTED):
        claimed_order(make, enterprise, service, status)
    as_reader(path)

    for kind in ("", "cxq", "ord"):
        for pay in ("", "none", "submitted", "paid"):
            args = {"kind": kind, "pay": pay}
            page = client.get(path, query_string=args).text
            tabs = dict(re.findall(r'id="order-tab-(\w+)"[^>]*>[^<]*<span class="count">(\d+)</span>', page))
            kinds = dict(re.findall(r'<option value="(cxq|ord|)"[^>]*>[^<（]*（(\d+)）</option>', page))
            assert tabs and len(kinds) == 3, (args, page)
            for tab, count in tabs.items():
                listed = rows(client.get(path, query_string={**args, "tab": tab}).text)
                assert int(count) == len(listed), (args, tab)
            for key, count in kinds.items():
                listed = rows(client.get(path, query_string={"kind": key}).text)
                assert int(count) == len(listed), (args, key)


# ---------------------------------------------------------------- the money columns

@pytest.mark.parametrize("path", LISTS)
def test_a_negotiable_order_shows_its_voucher_as_to_be_decided_never_zero(client, make, enterprise, lab, as_reader,
                                                                         path):
    order = make.order(enterprise, make.service(lab.provider, name="面议服务", price_fen=None))
    as_reader(path)

    listed = cell(client.get(path).text, order, "线上订单")
    detail = client.get(f"{path}/{order.order_no}").text

    assert listed == "线上报价 面议 拟兑创新券 待定"
    assert re.search(r"<dt>拟兑创新券</dt><dd>待定", detail) and "¥0.00" not in detail


@pytest.mark.parametrize("path", LISTS)
def test_a_claimed_orders_row_shows_what_was_asked_approved_and_paid(client, make, enterprise, service, as_reader,
                                                                    path):
    make.voucher(enterprise)
    paid = claimed_order(make, enterprise, service, R.PAID)
    reviewing = claimed_order(make, enterprise, service, R.SUBMITTED)
    awaiting = claimed_order(make, enterprise, service, R.AWAITING_PAYMENT)
    fresh = make.order(enterprise, service, estimated_voucher_fen=10_000)
    as_reader(path)

    page = client.get(path).text

    assert cell(page, paid, "线上订单") == "线上报价 ¥400.00 拟兑创新券 ¥100.00"
    assert cell(page, paid, "申请兑付") == "合同金额 ¥400.00 申请创新券 ¥100.00"
    assert cell(page, paid, "审核认定") == "核定创新券 ¥100.00 拨付创新券 ¥100.00"
    assert cell(page, awaiting, "审核认定") == "核定创新券 ¥100.00 拨付创新券 待拨付"
    assert cell(page, reviewing, "申请兑付") == "合同金额 ¥400.00 申请创新券 ¥100.00"
    assert cell(page, reviewing, "审核认定") == "审核中"
    assert cell(page, fresh, "申请兑付") == "未申请" and cell(page, fresh, "审核认定") == "—"


def test_a_claim_rejected_after_an_upheld_objection_shows_no_approved_or_pending_payout(client, auth, make,
                                                                                          enterprise, service):
    make.voucher(enterprise)
    order = claimed_order(make, enterprise, service, R.PUBLICITY)
    claim = db.session.scalar(select(Redemption).where(Redemption.order_id == order.id))
    objection = settlement.lodge_objection(claim, make.enterprise(), "服务内容与合同不符")
    settlement.resolve_objection(objection, make.reviewer(), True, "异议成立")
    db.session.commit()
    assert claim.status == R.REJECTED and claim.approved_fen  # the approved amount stays on the rejected claim
    auth.login(enterprise)

    page = client.get(f"/me/orders/{order.order_no}").text
    listed = client.get("/me/orders").text

    claim_section = page[page.index('id="order-claim"'):page.index("</section>", page.index('id="order-claim"'))]
    assert "审核不通过" in claim_section and "异议成立" in claim_section
    assert "核定金额" not in claim_section and "待拨付" not in claim_section and "拨付创新券" not in claim_section
    assert cell(listed, order, "审核认定") == "审核不通过"


def test_another_buyers_claim_never_shows_in_my_rows(client, auth, make, enterprise, service):
    other = make.enterprise()
    make.voucher(other)
    theirs = claimed_order(make, other, service, R.PAID)
    mine = make.order(enterprise, service)
    auth.login(enterprise)

    page = client.get("/me/orders").text

    assert rows(page) == [mine.order_no] and theirs.order_no not in page and "核定创新券" not in page


# ---------------------------------------------------------------- the row actions

@pytest.mark.parametrize("path", LISTS)
def test_every_row_leads_to_its_conversation(client, make, enterprise, service, as_reader, path):
    orders = [make.order(enterprise, service), make.order(enterprise, service, status=S.IN_SERVICE)]
    as_reader(path)

    page = client.get(path).text

    for order in orders:
        assert f'<a href="/orders/{order.order_no}/messages">和我联系</a>' in row(page, order)


def test_only_a_row_the_lifecycle_lets_the_buyer_withdraw_offers_it(client, auth, make, enterprise, service):
    pending = make.order(enterprise, service)
    serving = make.order(enterprise, service, status=S.IN_SERVICE)
    expired = make.order(enterprise, service, status=S.EXPIRED)
    auth.login(enterprise)

    page = client.get("/me/orders?kind=cxq").text

    form = f'<form method="post" action="/me/orders/{pending.order_no}/withdraw">'
    assert form in row(page, pending) and 'name="csrf_token"' in row(page, pending)
    assert '<input type="hidden" name="back" value="/me/orders?kind=cxq">' in row(page, pending)
    assert "撤回订单" not in row(page, serving) and "撤回订单" not in row(page, expired)


def test_withdrawing_from_a_row_returns_to_the_list_it_came_from(client, auth, make, enterprise, service):
    order = make.order(enterprise, service)
    auth.login(enterprise)

    response = client.post(f"/me/orders/{order.order_no}/withdraw",
                           data={"reason": "需求变更", "back": "/me/orders?kind=cxq&tab=pending"})

    assert response.status_code == 303 and response.headers["Location"] == "/me/orders?kind=cxq&tab=pending"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == S.WITHDRAWN
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.object_id == order.order_no,
                                                                   AuditLog.action == "withdraw")) == 1
    assert f"订单 {order.order_no} 已撤回。" in client.get(response.headers["Location"]).text


@pytest.mark.parametrize("back", ["https://evil.example/me/orders", "//evil.example/me/orders", "/seller/orders"])
def test_a_withdraw_never_returns_anywhere_but_the_buyers_list(client, auth, make, enterprise, service, back):
    order = make.order(enterprise, service)
    auth.login(enterprise)

    response = client.post(f"/me/orders/{order.order_no}/withdraw", data={"back": back})

    assert response.status_code == 303 and response.headers["Location"] == f"/me/orders/{order.order_no}"


# ---------------------------------------------------------------- the seed's state names

@pytest.mark.parametrize("path", LISTS)
def test_lists_and_order_pages_use_the_seeds_state_names(client, make, enterprise, service, as_reader, path):
    pending = make.order(enterprise, service)
    serving = make.order(enterprise, service, status=S.IN_SERVICE)
    done = make.order(enterprise, service, status=S.COMPLETED, is_voucher=False)
    expired = make.order(enterprise, service, status=S.EXPIRED)
    as_reader(path)

    page = client.get(path).text

    for order, name in ((pending, "已下单待接单"), (serving, "已接单服务中"), (done, "订单完成"),
                        (expired, "订单失效")):
        assert f'<span class="status {order.status}">{name}</span>' in row(page, order)
        assert f'<span class="status {order.status}">{name}</span>' in client.get(f"{path}/{order.order_no}").text
    for tab in ("全部订单", "订单沟通中", "服务中", "订单完成", "订单失效"):
        assert f"{tab} <span class=\"count\">" in page


# ---------------------------------------------------------------- queries

def queries_for(client, path: str) -> int:
    with queries_sent() as sent:
        assert client.get(path).status_code == 200
    return len(sent)


def buyers_of_every_kind(make, service, **order_fields) -> None:
    """Orders with `service` from a new individual and a new provider unit (each row names the buyer's unit)."""
    individual = make.user(Role.INDIVIDUAL)
    db.session.commit()
    for buyer in (individual, make.provider()):
        make.order(buyer, service, **order_fields)


@pytest.mark.parametrize("path", LISTS)
def test_a_list_takes_as_many_queries_for_many_claimed_rows_as_for_a_few(client, make, enterprise, service,
                                                                         as_reader, path):
    make.voucher(enterprise)
    claimed_order(make, enterprise, service, R.PAID)
    make.order(enterprise, service)
    buyers_of_every_kind(make, service)
    as_reader(path)
    few = queries_for(client, path)
    for status in (R.SUBMITTED, R.CORRECTION, R.PAID):
        claimed_order(make, enterprise, service, status)
    make.order(enterprise, service)
    buyers_of_every_kind(make, service)
    buyers_of_every_kind(make, service)

    many = queries_for(client, path)

    assert len(rows(client.get(path).text)) == (6 if path.startswith("/me") else 12) and many == few


def test_the_reviewers_order_list_takes_as_many_queries_for_many_buyers_as_for_a_few(client, auth, make, enterprise,
                                                                                    service, reviewer):
    waiting = dict(status=S.IN_SERVICE, cancel_requested_by="buyer")
    make.order(enterprise, service, **waiting)
    buyers_of_every_kind(make, service, **waiting)
    auth.login(reviewer)
    few = queries_for(client, "/admin/orders")
    buyers_of_every_kind(make, service, **waiting)
    buyers_of_every_kind(make, service, **waiting)

    many = queries_for(client, "/admin/orders")

    assert len(rows(client.get("/admin/orders").text)) == 7 and many == few
