"""我的购物车: adding from the service page, changing and removing lines (with and without htmx), grouping by
provider, and the enterprise's live voucher estimate with the exclusions known before ordering."""
import re

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import ApplicationStatus, Cart, CartLine, ServiceStatus, ShopStatus, Voucher, china_today
from marketplace.vouchers import lifecycle as voucher_lifecycle

from .conftest import sign_in_as

HTMX = {"HX-Request": "true"}


def fresh() -> None:
    """End the test's own read transaction (SQLite WAL keeps its snapshot) and forget loaded rows."""
    db.session.commit()
    db.session.expire_all()


def quantities(user) -> dict[str, int]:
    """The user's cart as {service name: quantity}."""
    fresh()
    lines = db.session.scalars(select(CartLine).join(Cart).where(Cart.user_id == user.id)).all()
    return {line.service.name: line.quantity for line in lines}


def add(client, service, quantity="1", headers=None, **kwargs):
    return client.post("/cart/add", data={"service_id": service.id, "quantity": quantity}, headers=headers or {},
                       **kwargs)


def badge(html: str) -> str | None:
    """The out-of-band header badge's count in an htmx answer."""
    found = re.search(r'<span id="cart-badge" class="badge" hx-swap-oob="true">(\d+)</span>', html)
    return found and found.group(1)


def give_voucher(make, user, used_fen: int = 0) -> Voucher:
    """This year's approved voucher for `user`'s enterprise, `used_fen` of it already approved for payment."""
    application = make.voucher_application(user, status=ApplicationStatus.SUBMITTED)
    voucher = voucher_lifecycle.approve(application, make.reviewer().id)
    voucher.approved_fen = used_fen
    db.session.commit()
    return voucher


@pytest.fixture
def buyer(auth, enterprise):
    auth.login(enterprise)
    return enterprise


def own_line(user, service) -> CartLine:
    fresh()
    return db.session.scalar(select(CartLine).join(Cart).where(Cart.user_id == user.id,
                                                                CartLine.service_id == service.id))


# ---------------------------------------------------------------- adding

def test_adding_from_the_service_page_returns_to_it_with_a_message(client, buyer, listed_service):
    response = add(client, listed_service, "2")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/services/{listed_service.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"已将「{listed_service.name}」× 2 加入购物车" in page
    assert '<span id="cart-badge" class="badge">2</span>' in page
    assert quantities(buyer) == {listed_service.name: 2}


def test_adding_with_htmx_answers_the_notice_and_the_badge_out_of_band(client, buyer, listed_service):
    response = add(client, listed_service, "3", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="cart-notice"' in html and "去购物车结算" in html
    assert badge(html) == "3"
    assert "<html" not in html


def test_adding_a_service_already_in_the_cart_adds_to_its_quantity(client, buyer, listed_service):
    add(client, listed_service, "2")
    response = add(client, listed_service, "5", headers=HTMX)
    assert badge(response.get_data(as_text=True)) == "7"
    assert quantities(buyer) == {listed_service.name: 7}


@pytest.mark.parametrize("quantity", ["0", "1000", "-1", "abc", "", "1.5", "²", "9" * 5000],
                         ids=["0", "1000", "-1", "abc", "empty", "1.5", "superscript", "5000 digits"])
def test_a_quantity_outside_1_to_999_is_refused(client, buyer, listed_service, quantity):
    response = add(client, listed_service, quantity, headers=HTMX)
    assert response.status_code == 422
    assert "数量应为1至999之间的整数" in response.get_data(as_text=True)
    page = add(client, listed_service, quantity)
    assert page.status_code == 303
    assert "数量应为1至999之间的整数" in client.get(page.headers["Location"]).get_data(as_text=True)
    assert quantities(buyer) == {}


def test_adding_cannot_take_a_line_past_999(client, buyer, listed_service):
    add(client, listed_service, "998")
    response = add(client, listed_service, "2", headers=HTMX)
    assert response.status_code == 422
    assert "数量合计不能超过999" in response.get_data(as_text=True)
    assert quantities(buyer) == {listed_service.name: 998}
    assert add(client, listed_service, "1").status_code == 303
    assert quantities(buyer) == {listed_service.name: 999}


@pytest.mark.parametrize("gone", ["delisted", "shop_closed"])
def test_a_delisted_service_or_one_of_a_closed_shop_is_not_added(client, buyer, listed_service, gone):
    if gone == "delisted":
        listed_service.status = ServiceStatus.DELISTED
    else:
        listed_service.provider.status = ShopStatus.REMOVED
    db.session.commit()
    response = add(client, listed_service, "1", headers=HTMX)
    assert response.status_code == 409
    assert "已下架或所属店铺已关闭" in response.get_data(as_text=True)
    page = add(client, listed_service, "1")
    assert page.status_code == 303 and page.headers["Location"] == "/cart"
    assert quantities(buyer) == {}


def test_an_unknown_service_is_not_found(client, buyer):
    assert client.post("/cart/add", data={"service_id": 999999, "quantity": "1"}).status_code == 404


# ---------------------------------------------------------------- changing and removing

def test_changing_a_quantity_with_htmx_answers_the_cart_body_and_the_badge(client, buyer, listed_service):
    add(client, listed_service, "2")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "4"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="cart-body"' in html and "<html" not in html
    assert badge(html) == "4"
    assert "¥1,600.00" in html  # 400 元 × 4
    assert quantities(buyer) == {listed_service.name: 4}


def test_changing_a_quantity_without_javascript_returns_to_the_cart(client, buyer, listed_service):
    add(client, listed_service, "2")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "6"})
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    page = client.get("/cart").get_data(as_text=True)
    assert f"「{listed_service.name}」的数量已改为 6" in page
    assert quantities(buyer) == {listed_service.name: 6}


def test_a_bad_quantity_change_says_why_next_to_the_line_and_keeps_the_input(client, buyer, listed_service):
    add(client, listed_service, "2")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "1000"}, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="cart-line-{line.id}-error"' in html and "数量应为1至999之间的整数" in html
    assert 'value="1000"' in html
    page = client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "0"})
    assert page.status_code == 303
    assert "数量应为1至999之间的整数" in client.get("/cart").get_data(as_text=True)
    assert quantities(buyer) == {listed_service.name: 2}


def test_a_quantity_change_of_thousands_of_digits_is_refused_next_to_the_line(client, buyer, listed_service):
    add(client, listed_service, "2")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "9" * 5000}, headers=HTMX)
    assert response.status_code == 422 and "数量应为1至999之间的整数" in response.get_data(as_text=True)
    assert client.post(f"/cart/lines/{line.id}/quantity", data={"quantity": "9" * 5000}).status_code == 303
    assert quantities(buyer) == {listed_service.name: 2}


def test_removing_a_line_with_htmx_updates_the_body_and_badge(client, buyer, make, provider, listed_service):
    other = make.service(provider.provider, name="X射线光电子能谱分析", price_fen=80000)
    add(client, listed_service, "2")
    add(client, other, "1")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/remove", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert badge(html) == "1"
    assert "X射线光电子能谱分析" in html and listed_service.name not in html
    assert quantities(buyer) == {"X射线光电子能谱分析": 1}


def test_removing_the_last_line_without_javascript_shows_the_empty_cart(client, buyer, listed_service):
    add(client, listed_service, "2")
    line = own_line(buyer, listed_service)
    response = client.post(f"/cart/lines/{line.id}/remove")
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    page = client.get("/cart").get_data(as_text=True)
    assert f"已从购物车删除「{listed_service.name}」" in page
    assert "购物车还是空的" in page
    assert '<span id="cart-badge" class="badge">0</span>' in page


@pytest.mark.parametrize("action", ["quantity", "remove"])
def test_nobody_changes_another_users_cart_line(client, auth, make, listed_service, action):
    owner = make.enterprise()
    auth.login(owner)
    add(client, listed_service, "2")
    line = own_line(owner, listed_service)
    auth.logout()
    auth.login(make.enterprise())
    response = client.post(f"/cart/lines/{line.id}/{action}", data={"quantity": "5"}, headers=HTMX)
    assert response.status_code == 404
    assert client.post(f"/cart/lines/{line.id}/{action}", data={"quantity": "5"}).status_code == 404
    assert quantities(owner) == {listed_service.name: 2}


def test_a_cart_change_needs_the_csrf_token(client, buyer, listed_service):
    assert add(client, listed_service, "1", csrf=False).status_code == 400
    assert quantities(buyer) == {}


# ---------------------------------------------------------------- the page

def test_the_empty_cart_invites_to_browse(client, buyer):
    page = client.get("/cart").get_data(as_text=True)
    assert "购物车还是空的" in page and "/services?voucher=1" in page


def test_lines_are_grouped_by_provider_with_totals_that_leave_out_negotiable_prices(client, buyer, make):
    sem = make.provider(name="南京大学现代分析中心")
    lab = make.provider(name="苏州检测技术研究院")
    add(client, make.service(sem.provider, name="扫描电镜形貌分析", price_fen=40000), "2")
    add(client, make.service(sem.provider, name="透射电镜样品制备", price_fen=None), "1")
    add(client, make.service(lab.provider, name="金属材料拉伸试验", price_fen=15000), "3")
    page = client.get("/cart").get_data(as_text=True)
    sections = re.findall(r'<section class="panel cart-group" id="cart-provider-(\d+)">(.*?)</section>', page, re.S)
    assert [int(pid) for pid, _ in sections] == [sem.provider.id, lab.provider.id]
    first, second = sections[0][1], sections[1][1]
    assert "扫描电镜形貌分析" in first and "透射电镜样品制备" in first and "金属材料拉伸试验" not in first
    assert "面议" in first and "小计 <strong>¥800.00</strong>（另有1项面议服务未计入" in first
    assert "小计 <strong>¥450.00</strong>" in second
    assert "¥1,250.00" in page and "（不含1项面议服务）" in page
    assert "共 2 个订单" in page
    assert 'href="/checkout"' in page


def test_a_line_delisted_since_it_was_added_must_be_removed_before_checkout(client, buyer, listed_service):
    add(client, listed_service, "1")
    listed_service.status = ServiceStatus.DELISTED
    db.session.commit()
    page = client.get("/cart").get_data(as_text=True)
    assert "已失效的服务" in page and listed_service.name in page
    assert 'href="/checkout"' not in page


def test_an_individual_buyer_sees_totals_without_a_voucher_estimate(client, auth, individual, listed_service):
    auth.login(individual)
    add(client, listed_service, "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "¥400.00" in page
    assert "创新券估算" not in page and "拟兑创新券" not in page


# ---------------------------------------------------------------- the enterprise's voucher estimate and warnings

def test_an_enterprise_sees_its_estimate_per_provider_and_its_balance(client, buyer, make, listed_service):
    give_voucher(make, buyer)
    listed_service.price_fen = 1_500_000  # 15,000 元 in 苏南 (南京) → 3,750 元 (SPEC 1.2)
    db.session.commit()
    add(client, listed_service, "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "创新券估算" in page and "苏南" in page and "25%" in page
    assert "券额剩余 <strong>¥100,000.00</strong>" in page
    assert "年度上限 ¥100,000.00" in page
    assert "拟兑创新券 <strong class=\"voucher-amount\">¥3,750.00</strong>" in page
    assert "拟兑创新券合计 <strong class=\"voucher-amount\">¥3,750.00</strong>" in page
    assert "尚未取得" not in page


def test_estimates_of_several_providers_together_never_exceed_the_balance(client, buyer, make):
    give_voucher(make, buyer, used_fen=10_000_000 - 150_000)  # 1,500 元 left
    first, second = make.provider(), make.provider()
    add(client, make.service(first.provider, name="扫描电镜形貌分析", price_fen=400_000), "1")   # 25% → 1,000
    add(client, make.service(second.provider, name="金属材料拉伸试验", price_fen=400_000), "1")  # only 500 left
    page = client.get("/cart").get_data(as_text=True)
    assert "¥1,000.00</strong>" in page and "¥500.00</strong>" in page
    assert f"超出{china_today().year}年度剩余额度" in page
    assert "拟兑创新券合计 <strong class=\"voucher-amount\">¥1,500.00</strong>" in page


def test_an_enterprise_is_warned_of_services_without_the_voucher_mark(client, buyer, make, provider):
    give_voucher(make, buyer)
    add(client, make.service(provider.provider, name="商品批量检验", voucher_eligible=False), "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "该服务不带创新券标识，不能兑付" in page
    assert "本组服务不能兑付创新券" in page


def test_an_enterprise_is_warned_of_a_related_party_provider(client, buyer, make, provider, listed_service):
    give_voucher(make, buyer)
    provider.provider.legal_rep_id_number = buyer.enterprise.legal_rep_id_number.lower()
    db.session.commit()
    add(client, listed_service, "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "关联方：贵企业与该服务单位存在相同的登记信息" in page
    assert "本组服务不能兑付创新券" in page
    assert "拟兑创新券 <strong" not in page


def test_an_enterprise_without_this_years_voucher_is_told_where_to_apply(client, buyer, listed_service):
    add(client, listed_service, "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "您尚未取得" in page and 'href="/me/vouchers"' in page
    assert "拟兑创新券" in page  # estimated against the full cap meanwhile


def test_an_enterprise_whose_balance_is_spent_is_warned(client, buyer, make, listed_service):
    give_voucher(make, buyer, used_fen=10_000_000)
    add(client, listed_service, "1")
    page = client.get("/cart").get_data(as_text=True)
    assert "余额已用完" in page and 'href="/me/vouchers"' in page
    assert "拟兑创新券 <strong class=\"voucher-amount\">¥0.00</strong>" in page


# ---------------------------------------------------------------- the service page's buy box

def test_the_service_page_offers_buying_to_a_buyer(client, buyer, listed_service):
    page = client.get(f"/services/{listed_service.id}").get_data(as_text=True)
    assert 'action="/checkout"' in page and 'name="service_id"' in page
    assert 'formaction="/cart/add"' in page and 'hx-post="/cart/add"' in page
    assert 'id="cart-notice"' in page


@pytest.mark.parametrize("who, hint", [("reviewer", "审核员账号不能下单"),
                                       ("pending_enterprise", "账号审核通过后即可下单")])
def test_the_service_page_tells_others_why_they_cannot_buy(client, auth, make, listed_service, who, hint):
    sign_in_as(auth, make, who)
    page = client.get(f"/services/{listed_service.id}").get_data(as_text=True)
    assert hint in page and 'formaction="/cart/add"' not in page


# ---------------------------------------------------------------- who may use the cart

CART_ROUTES = [("get", "/cart"), ("post", "/cart/add"), ("post", "/cart/lines/1/quantity"),
               ("post", "/cart/lines/1/remove"), ("get", "/checkout"), ("post", "/checkout"),
               ("post", "/checkout/estimate")]


@pytest.mark.parametrize("method, path", CART_ROUTES)
@pytest.mark.parametrize("who, status, message", [
    ("anonymous", 302, None), ("reviewer", 403, "您的账号类型无权执行此操作"),
    ("pending_enterprise", 403, "您的账号尚在审核中"), ("pending_individual", 403, "您的账号尚在审核中"),
    ("pending_provider", 403, "您的账号尚在审核中")])
def test_only_approved_buyers_use_the_cart(client, auth, make, method, path, who, status, message):
    """Approved enterprises, individuals and providers (which buy as individuals do: tests/test_role_homes.py)."""
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/auth/login")
    else:
        assert message in response.get_data(as_text=True)

