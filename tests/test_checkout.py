"""结算: one order per provider (voucher and non-voucher lines apart), order numbers, frozen items, 拟兑创新券,
面议 amounts left open, 立即购买, the declarations of SPEC 1.5, and what stops a checkout."""
import html
import re
import threading

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import AuditLog, Cart, CartLine, Order, OrderStatus, ServiceStatus, ShopStatus, china_today

from .conftest import Auth
from .test_cart import add, fresh, give_voucher, quantities

HTMX = {"HX-Request": "true"}
DECLARATIONS = ("declares_innovation", "declares_unrelated", "declares_direct", "declares_unfunded")
TODAY = f"{china_today():%Y%m%d}"


def all_orders() -> list[Order]:
    fresh()
    return db.session.scalars(select(Order).order_by(Order.id)).all()


def order_count() -> int:
    fresh()
    return db.session.scalar(select(func.count(Order.id)))


def form_keys(page: str) -> list[str]:
    """The order forms on the checkout page, by their field prefix (p<provider id><v|n>)."""
    return re.findall(r'name="(p\d+[vn])-contact_name"', page)


def filled(page: str, **overrides) -> dict:
    """The checkout form as the page prefilled it, every declaration confirmed, plus `overrides`
    (key → value, e.g. {"p3v-amount": ""})."""
    data = {}
    for key in form_keys(page):
        for name in ("contact_name", "contact_phone", "amount"):
            tag = re.search(rf'<input[^>]*name="{key}-{name}"[^>]*>', page).group(0)
            value = re.search(r'value="([^"]*)"', tag)
            data[f"{key}-{name}"] = html.unescape(value.group(1)) if value else ""
        data[f"{key}-note"] = html.unescape(re.search(rf'name="{key}-note"[^>]*>\n?([^<]*)</textarea>', page).group(1))
        if key.endswith("v"):
            data.update({f"{key}-{name}": "y" for name in DECLARATIONS})
    data.update(overrides)
    return data


def check_out(client, path="/checkout", **overrides):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data=filled(page, **overrides))


@pytest.fixture
def buyer(auth, enterprise):
    auth.login(enterprise)
    return enterprise


# ---------------------------------------------------------------- orders from the cart

def test_checkout_places_one_voucher_order_per_provider_with_frozen_items_and_estimate(client, buyer, make):
    give_voucher(make, buyer)
    sem, lab = make.provider(name="南京大学现代分析中心"), make.provider(name="苏州检测技术研究院")
    electron = make.service(sem.provider, name="扫描电镜形貌分析", price_fen=1_500_000)  # 15,000 元 → 3,750 元
    tensile = make.service(lab.provider, name="金属材料拉伸试验", price_fen=25_000)       # 250 元 × 2 → 125 元
    add(client, electron, "1")
    add(client, tensile, "2")
    page = client.get("/checkout").get_data(as_text=True)
    assert form_keys(page) == [f"p{sem.provider.id}v", f"p{lab.provider.id}v"]
    assert "拟兑创新券 <strong class=\"voucher-amount\">¥3,750.00</strong>" in page
    assert "拟兑创新券 <strong class=\"voucher-amount\">¥125.00</strong>" in page
    assert f'value="{buyer.phone}"' in page and f'value="{buyer.name}"' in page

    response = client.post("/checkout", data=filled(page, **{f"p{sem.provider.id}v-note": "样品3件"}))
    assert response.status_code == 303 and response.headers["Location"] == "/me/orders"
    first, second = orders = all_orders()
    assert all(re.fullmatch(rf"CXQ{TODAY}\d{{4}}", order.order_no) for order in orders)
    assert first.order_no != second.order_no
    assert (first.provider_id, first.quote_fen, first.estimated_voucher_fen, first.note) == \
        (sem.provider.id, 1_500_000, 375_000, "样品3件")
    assert (second.provider_id, second.quote_fen, second.estimated_voucher_fen) == (lab.provider.id, 50_000, 12_500)
    assert all(order.is_voucher and order.status == OrderStatus.PENDING for order in orders)
    assert all(order.enterprise_id == buyer.enterprise.id and order.buyer_id == buyer.id for order in orders)
    assert (first.contact_name, first.contact_phone) == (buyer.name, buyer.phone)
    assert [e.kind for e in first.events] == ["placed"]
    assert quantities(buyer) == {}

    electron.name, electron.price_fen = "改名后的服务", 9_999_900
    db.session.commit()
    item = all_orders()[0].items[0]
    assert (item.service_name, item.instrument_name, item.unit_price_fen, item.price_unit, item.quantity) == \
        ("扫描电镜形貌分析", "场发射扫描电子显微镜", 1_500_000, "元/样品", 1)
    assert all_orders()[1].items[0].quantity == 2

    flash_page = client.get("/cart").get_data(as_text=True)
    assert f"已提交2个订单：{first.order_no}、{second.order_no}" in flash_page


def test_the_declarations_are_kept_in_the_audit_record(client, buyer, make, listed_service):
    give_voucher(make, buyer)
    add(client, listed_service, "1")
    check_out(client)
    order = all_orders()[0]
    declared = db.session.scalar(select(AuditLog).where(AuditLog.object_id == order.order_no,
                                                        AuditLog.action == "declare"))
    assert declared.actor_id == buyer.id
    assert "不存在第三方接单后转包" in declared.reason and "不使用政府财政资金" in declared.reason


def test_a_provider_with_voucher_and_other_services_gets_a_cxq_and_an_ord_order(client, buyer, make, provider,
                                                                                 listed_service):
    plain = make.service(provider.provider, name="商品批量检验", price_fen=10_000, voucher_eligible=False)
    add(client, listed_service, "1")
    add(client, plain, "1")
    page = client.get("/checkout").get_data(as_text=True)
    assert "创新券订单" in page and "非创新券订单" in page and "不带创新券标识" in page
    assert client.post("/checkout", data=filled(page)).status_code == 303
    voucher, other = all_orders()
    assert voucher.order_no.startswith(f"CXQ{TODAY}") and voucher.is_voucher
    assert other.order_no.startswith(f"ORD{TODAY}") and not other.is_voucher
    assert other.estimated_voucher_fen == 0 and [i.service_name for i in other.items] == ["商品批量检验"]


def test_orders_with_a_related_party_are_not_voucher_orders(client, buyer, provider, listed_service):
    provider.provider.legal_rep_id_number = buyer.enterprise.legal_rep_id_number
    db.session.commit()
    add(client, listed_service, "1")
    page = client.get("/checkout").get_data(as_text=True)
    assert "关联方：贵企业与该服务单位存在相同的登记信息" in page and "declares_" not in page
    assert client.post("/checkout", data=filled(page)).status_code == 303
    [order] = all_orders()
    assert order.order_no.startswith("ORD") and not order.is_voucher


def test_an_individual_buyer_places_non_voucher_orders(client, auth, individual, listed_service):
    auth.login(individual)
    add(client, listed_service, "2")
    page = client.get("/checkout").get_data(as_text=True)
    assert "拟兑创新券" not in page and "declares_" not in page
    assert client.post("/checkout", data=filled(page)).status_code == 303
    [order] = all_orders()
    assert order.order_no.startswith("ORD") and order.enterprise_id is None and order.quote_fen == 80_000


def test_an_auto_accepting_provider_has_the_order_in_service_at_once(client, buyer, provider, listed_service):
    provider.provider.auto_accept = True
    db.session.commit()
    add(client, listed_service, "1")
    check_out(client)
    [order] = all_orders()
    assert order.status == OrderStatus.IN_SERVICE and order.auto_accepted
    assert [e.kind for e in order.events] == ["placed", "auto_accepted"]


# ---------------------------------------------------------------- 立即购买

def test_buy_now_checks_out_one_service_and_leaves_the_cart_alone(client, buyer, make, provider, listed_service):
    other = make.service(provider.provider, name="X射线光电子能谱分析", price_fen=80_000)
    add(client, other, "1", headers=HTMX)
    path = f"/checkout?service_id={listed_service.id}&quantity=3"
    page = client.get(path).get_data(as_text=True)
    assert "立即购买" in page and "X射线光电子能谱分析" not in page
    assert f'action="/checkout?service_id={listed_service.id}&amp;quantity=3"' in page
    response = client.post(path, data=filled(page))
    assert response.status_code == 303
    [order] = all_orders()
    assert [(i.service_name, i.quantity) for i in order.items] == [(listed_service.name, 3)]
    assert order.quote_fen == 120_000
    assert quantities(buyer) == {"X射线光电子能谱分析": 1}


@pytest.mark.parametrize("quantity", ["0", "1000", "9" * 5000], ids=["0", "1000", "5000 digits"])
def test_buy_now_with_a_bad_quantity_returns_to_the_service(client, buyer, listed_service, quantity):
    response = client.get(f"/checkout?service_id={listed_service.id}&quantity={quantity}")
    assert response.status_code == 303 and response.headers["Location"] == f"/services/{listed_service.id}"
    assert "数量应为1至999之间的整数" in client.get(response.headers["Location"]).text


def test_buy_now_of_an_unknown_service_is_not_found(client, buyer):
    assert client.get("/checkout?service_id=999999&quantity=1").status_code == 404


# ---------------------------------------------------------------- amounts, 面议 and the live estimate

def test_a_negotiable_order_may_leave_its_amount_open(client, buyer, make, provider):
    give_voucher(make, buyer)
    negotiable = make.service(provider.provider, name="透射电镜样品制备", price_fen=None)
    add(client, negotiable, "1")
    page = client.get("/checkout").get_data(as_text=True)
    assert "暂未商定可留空" in page and "拟兑创新券 <strong>待定</strong>" in page
    assert check_out(client).status_code == 303
    [order] = all_orders()
    assert order.quote_fen is None and order.estimated_voucher_fen == 0


def test_a_negotiable_order_may_carry_the_agreed_amount(client, buyer, make, provider):
    give_voucher(make, buyer)
    add(client, make.service(provider.provider, name="透射电镜样品制备", price_fen=None), "1")
    key = f"p{provider.provider.id}v"
    assert check_out(client, **{f"{key}-amount": "2,000"}).status_code == 303
    [order] = all_orders()
    assert order.quote_fen == 200_000 and order.estimated_voucher_fen == 50_000


@pytest.mark.parametrize("amount, message", [("", "请填写订单金额"), ("0", "订单金额应大于0"),
                                             ("12.345", "金额最多保留两位小数"), ("abc", "请填写数字金额")])
def test_a_priced_order_needs_a_sensible_amount(client, buyer, listed_service, amount, message):
    add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    response = check_out(client, **{f"{key}-amount": amount})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert order_count() == 0


def test_the_estimate_follows_the_amount_typed(client, buyer, make, listed_service):
    give_voucher(make, buyer)
    add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    page = client.get("/checkout").get_data(as_text=True)
    assert 'hx-post="/checkout/estimate"' in page
    response = client.post("/checkout/estimate", data=filled(page, **{f"{key}-amount": "500"}), headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert (f'<div id="estimate-{key}" class="voucher-estimate order-estimate" aria-live="polite" '
            'hx-swap-oob="true">' in html)
    assert "¥125.00" in html  # SPEC 1.2: quote 500 元 → 125 元
    assert '<section id="voucher-outlook" class="voucher-estimate" aria-live="polite" hx-swap-oob="true">' in html
    whole = client.post("/checkout/estimate", data=filled(page, **{f"{key}-amount": "15000"}))
    assert whole.status_code == 200 and "¥3,750.00" in whole.get_data(as_text=True)
    assert 'value="15000"' in whole.get_data(as_text=True)
    assert order_count() == 0


# ---------------------------------------------------------------- refusals

def test_a_bad_phone_is_refused_next_to_the_field_and_the_input_is_kept(client, buyer, listed_service):
    add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    response = check_out(client, **{f"{key}-contact_phone": "12345", f"{key}-contact_name": "王工",
                                    f"{key}-note": "请尽快安排"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{key}-contact_phone-error"' in html and "请填写手机号码或带区号的固定电话" in html
    assert 'value="12345"' in html and 'value="王工"' in html and "请尽快安排" in html
    assert order_count() == 0 and quantities(buyer) == {listed_service.name: 1}


def test_missing_contact_and_unconfirmed_declarations_are_named(client, buyer, listed_service):
    add(client, listed_service, "1")
    key = f"p{listed_service.provider_id}v"
    page = client.get("/checkout").get_data(as_text=True)
    data = filled(page, **{f"{key}-contact_name": "  "})
    del data[f"{key}-declares_direct"]
    response = client.post("/checkout", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写联系人" in html
    assert html.count("请确认此项声明") == 1
    assert order_count() == 0


@pytest.mark.parametrize("gone", ["delisted", "shop_closed"])
def test_a_service_gone_at_checkout_time_stops_the_checkout_with_nothing_created(client, buyer, make, provider,
                                                                                   listed_service, gone):
    lab = make.provider()
    add(client, listed_service, "1")
    add(client, make.service(lab.provider, name="金属材料拉伸试验"), "1")
    page = client.get("/checkout").get_data(as_text=True)
    if gone == "delisted":
        listed_service.status = ServiceStatus.DELISTED
    else:
        provider.provider.status = ShopStatus.REMOVED
    db.session.commit()
    response = client.post("/checkout", data=filled(page))
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    cart_page = client.get("/cart").get_data(as_text=True)
    assert f"「{listed_service.name}」已下架或所属店铺已关闭，不能下单。未生成任何订单。" in cart_page
    assert order_count() == 0 and len(quantities(buyer)) == 2


def test_an_empty_cart_has_nothing_to_check_out(client, buyer):
    response = client.get("/checkout")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert "购物车是空的" in client.get("/cart").get_data(as_text=True)


def test_checkout_needs_the_csrf_token(client, buyer, listed_service):
    add(client, listed_service, "1")
    page = client.get("/checkout").get_data(as_text=True)
    assert client.post("/checkout", data=filled(page), csrf=False).status_code == 400
    assert order_count() == 0


def test_another_buyers_cart_is_not_checked_out(client, auth, make, listed_service):
    first = make.enterprise()
    auth.login(first)
    add(client, listed_service, "1")
    auth.logout()
    auth.login(make.enterprise())
    assert client.get("/checkout").status_code == 303
    fresh()
    assert db.session.scalar(select(func.count(CartLine.id)).join(Cart).where(Cart.user_id == first.id)) == 1


# ---------------------------------------------------------------- at the same moment

def test_buyers_checking_out_at_the_same_moment_all_get_orders_with_distinct_numbers(app, make, listed_service):
    buyers = 8
    clients = []
    for _ in range(buyers):
        client = app.test_client()
        Auth(client).login(make.enterprise())
        add(client, listed_service, "1")
        clients.append(client)
    pages = [client.get("/checkout").get_data(as_text=True) for client in clients]
    start, answers = threading.Barrier(buyers), []

    def check_out_now(client, page):
        start.wait()
        answers.append(client.post("/checkout", data=filled(page)).status_code)

    threads = [threading.Thread(target=check_out_now, args=pair) for pair in zip(clients, pages, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [303] * buyers
    numbers = [order.order_no for order in all_orders()]
    assert len(set(numbers)) == buyers
