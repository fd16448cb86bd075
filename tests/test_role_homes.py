"""Every role at home (issue 16): each signs in to its own workbench, the header offers what the role can use, a
provider buys like an individual but never from its own shop, and each workbench home counts what waits now."""
import re

import pytest
from sqlalchemy import func, select

from marketplace.admin import menu, queues
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    CartLine,
    Message,
    Order,
    OrderStatus as S,
    RedemptionStatus,
    Role,
    ServiceStatus,
)

from .browser.page_walk import NOT_PAGES

HX = {"HX-Request": "true"}


def _user(make, role: str):
    return {"enterprise": make.enterprise, "provider": make.provider, "reviewer": make.reviewer,
            "individual": lambda: _committed(make.user(Role.INDIVIDUAL))}[role]()


def _committed(user):
    db.session.commit()
    return user


# ---------------------------------------------------------------- landing

@pytest.mark.parametrize("role, desk", [("enterprise", "/me"), ("individual", "/me"), ("provider", "/seller"),
                                        ("reviewer", "/admin/")])
def test_each_role_signs_in_to_its_own_workbench(auth, make, role, desk):
    response = auth.login(_user(make, role))
    assert response.status_code == 303 and response.location == desk


@pytest.mark.parametrize("role, desk", [("enterprise", "/me"), ("provider", "/seller"), ("reviewer", "/admin/")])
def test_a_signed_in_user_opening_register_goes_to_its_own_workbench(client, auth, make, role, desk):
    auth.login(_user(make, role))
    response = client.get("/auth/register")
    assert response.status_code == 302 and response.location == desk


def test_a_safe_next_still_wins_over_the_workbench(auth, provider):
    assert auth.login(provider, next="/services?voucher=1").location == "/services?voucher=1"


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.ENTERPRISE])
def test_an_account_waiting_for_approval_lands_on_me_which_says_so(client, auth, make, role):
    user = make.provider(status=AccountStatus.PENDING) if role == Role.PROVIDER else \
        make.enterprise(status=AccountStatus.PENDING)
    assert auth.login(user).location == "/me"
    assert "等待省统筹中心审核" in client.get("/me").text


# ---------------------------------------------------------------- the header

@pytest.mark.parametrize("role, desk, cart", [("enterprise", "我的工作台", True), ("individual", "我的工作台", True),
                                              ("provider", "卖家工作台", True), ("reviewer", "审核后台", False)])
def test_the_header_links_the_roles_workbench_and_a_cart_only_where_it_can_buy(client, auth, make, role, desk, cart):
    auth.login(_user(make, role))
    header = client.get("/policy").text.split("</header>")[0]
    assert f'class="desk">{desk}</a>' in header
    assert ('href="/cart"' in header) is cart


def test_an_account_waiting_for_approval_has_no_cart_in_the_header(client, auth, make):
    auth.login(make.enterprise(status=AccountStatus.PENDING))
    header = client.get("/me").text.split("</header>")[0]
    assert 'href="/cart"' not in header and 'class="desk">我的工作台</a>' in header


def test_the_cart_link_is_named_by_its_visible_text_and_the_search_has_a_label(client):
    header = client.get("/").text.split("</header>")[0]
    cart = header[header.index('<a href="/cart"'):]
    cart = cart[:cart.index("</a>")]
    assert "aria-label" not in cart and "购物车" in cart and 'id="cart-badge"' in cart
    assert 'role="search" aria-label="站内搜索"' in header


# ---------------------------------------------------------------- the side menus

def test_a_provider_switches_between_its_buyer_and_seller_workbenches(client, auth, provider):
    auth.login(provider)
    seller, buyer = client.get("/seller").text, client.get("/me").text
    assert '<a href="/me">我是买家</a><a href="/seller" aria-current="true">我是卖家</a>' in seller
    assert '<a href="/me" aria-current="true">我是买家</a><a href="/seller">我是卖家</a>' in buyer


def test_a_buyer_without_a_shop_has_no_seller_switch(client, auth, enterprise):
    auth.login(enterprise)
    assert "我是卖家" not in client.get("/me").text


def test_an_enterprises_menu_lists_voucher_and_other_orders_apart(client, auth, enterprise):
    auth.login(enterprise)
    page = client.get("/me/orders?kind=cxq").text
    assert '<a href="/me/orders?kind=cxq" aria-current="page">创新券订单</a>' in page
    assert '<a href="/me/orders?kind=ord">非创新券订单</a>' in page
    assert '<a href="/me/orders">我的订单</a>' in page


@pytest.mark.parametrize("role, path", [("enterprise", "/me"), ("provider", "/seller"), ("reviewer", "/admin/")])
def test_every_workbench_menu_folds_behind_a_button_on_a_phone(client, auth, make, role, path):
    auth.login(_user(make, role))
    page = client.get(path).text
    assert '<details class="fold side-fold">' in page and "<summary>" in page


# ---------------------------------------------------------------- the reviewer's menu

def test_the_admin_menu_is_grouped_as_the_home_queues_are():
    assert [title for title, _ in menu.MENU] == [area.title for area in queues.AREAS] + [menu.SETTINGS]


def test_every_admin_page_has_its_place_in_the_menu(app):
    pages = {rule.endpoint for rule in app.url_map.iter_rules()
             if rule.endpoint.startswith("admin.") and "GET" in rule.methods} - NOT_PAGES - {"admin.home"}
    placed = {endpoint for endpoint in pages
              if any(entry.is_current(endpoint) for _, entries in menu.MENU for entry in entries)}
    assert pages - placed == set()


def test_an_admin_page_shows_the_menu_with_its_own_entry_current(client, auth, reviewer):
    auth.login(reviewer)
    page = client.get("/admin/accounts").text
    assert '<nav class="side-menu" aria-label="审核后台">' in page
    assert '<a href="/admin/accounts" aria-current="page">账号审核</a>' in page
    assert '<strong class="group">兑付</strong>' in page


# ---------------------------------------------------------------- a provider buys

def test_a_provider_buys_from_another_shop_like_an_individual(client, auth, make, provider):
    other = make.service(make.provider().provider)
    auth.login(provider)
    assert client.post("/cart/add", data={"service_id": other.id, "quantity": "1"}).status_code == 303
    key = f"p{other.provider_id}n"
    page = client.get("/checkout").text
    assert f"{key}-contact_name" in page and f"p{other.provider_id}v-" not in page
    response = client.post("/checkout", data={f"{key}-contact_name": "任华军", f"{key}-contact_phone": "13812345678",
                                              f"{key}-amount": "400", f"{key}-note": ""})
    assert response.status_code == 303
    order = db.session.scalar(select(Order).where(Order.buyer_id == provider.id))
    assert order.order_no.startswith("ORD") and not order.is_voucher and order.enterprise_id is None
    assert order.order_no in client.get("/me/orders").text
    auth.logout()
    auth.login(other.provider.user)
    assert f"{provider.provider.name}<small>（服务单位）</small>" in client.get("/seller/orders").text


OWN = "本单位店铺的服务"
RELATED = "关联单位（与本单位登记信息相同）店铺的服务"


@pytest.fixture(params=[None, ("legal_rep_id_number", "32010219800101123X"),
                        ("bank_account_number", "6217000012345678901")],
                ids=["own_shop", "same_legal_rep_id", "same_bank_account"])
def unbuyable(request, make, provider, listed_service):
    """(service, why) a provider may not buy: its own shop's, or that of another unit holding the same
    法定代表人证件号码 or 银行账号 as its own."""
    if request.param is None:
        return listed_service, OWN
    sister = make.provider().provider
    column, value = request.param
    setattr(provider.provider, column, value)
    setattr(sister, column, value)
    db.session.commit()
    return make.service(sister), RELATED


def test_a_provider_cannot_put_its_own_or_a_related_units_service_in_the_cart(client, auth, provider, unbuyable):
    service, why = unbuyable
    auth.login(provider)
    refused = client.post("/cart/add", data={"service_id": service.id, "quantity": "1"}, headers=HX)
    assert refused.status_code == 409 and why in refused.text
    assert db.session.scalar(select(func.count(CartLine.id))) == 0


def test_a_provider_cannot_buy_its_own_or_a_related_units_service_now(client, auth, provider, unbuyable):
    service, why = unbuyable
    auth.login(provider)
    response = client.get(f"/checkout?service_id={service.id}&quantity=1")
    assert response.status_code == 303 and response.location == "/cart"
    assert why in client.get("/cart").text
    assert db.session.scalar(select(func.count(Order.id))) == 0
    page = client.get(f"/services/{service.id}").text
    assert f"这是{why}" in page and 'formaction="/cart/add"' not in page


def test_a_providers_own_service_page_offers_no_purchase(client, auth, provider, listed_service):
    auth.login(provider)
    page = client.get(f"/services/{listed_service.id}").text
    assert "这是本单位店铺的服务" in page and 'formaction="/cart/add"' not in page


# ---------------------------------------------------------------- what waits now

def test_the_buyer_home_counts_orders_claims_and_a_returned_application(client, auth, make, enterprise):
    make.voucher(enterprise)
    service = make.service(make.provider().provider)
    make.order(enterprise, service)
    make.order(enterprise, service, status=S.IN_SERVICE)
    make.claim(enterprise, status=RedemptionStatus.CORRECTION)
    auth.login(enterprise)
    page = client.get("/me").text
    todos = page[page.index("待办事项"):page.index("</section>", page.index("待办事项"))]
    assert '<a href="/me/orders?tab=pending"><strong>1</strong><span>订单沟通中</span>' in todos
    assert '<a href="/me/orders?tab=in_service"><strong>1</strong><span>服务中</span>' in todos
    assert '<a href="/me/orders?tab=correction"><strong>1</strong><span>兑付待补正</span>' in todos


def test_the_buyer_home_counts_the_providers_cancellation_requests_to_answer(client, auth, make, enterprise):
    service = make.service(make.provider().provider)
    make.order(enterprise, service, status=S.IN_SERVICE, cancel_requested_by="provider")
    make.order(enterprise, service, status=S.IN_SERVICE, cancel_requested_by="buyer")  # the provider answers it
    make.order(make.enterprise(), service, status=S.IN_SERVICE, cancel_requested_by="provider")  # another buyer's
    auth.login(enterprise)
    page = client.get("/me").text
    assert '<a href="/me/orders?tab=in_service"><strong>1</strong><span>服务单位申请取消</span>' in page


def _unread_todo(page: str, url: str) -> str:
    return re.search(rf'<a href="{url}"><strong>(\d+)</strong><span>未读消息</span>', page).group(1)


def test_each_home_counts_the_unread_messages_of_its_own_side_only(client, auth, make, provider):
    """A provider that also buys: /me counts what its sellers wrote, /seller what its buyers wrote."""
    other_shop = make.provider()
    bought = make.order(provider, make.service(other_shop.provider))
    buyer = make.enterprise()
    sold = make.order(buyer, make.service(provider.provider))
    db.session.add_all([Message(order_id=bought.id, sender_id=other_shop.id, body="报告已寄出"),
                        Message(order_id=sold.id, sender_id=buyer.id, body="请问几天出报告？"),
                        Message(order_id=sold.id, sender_id=buyer.id, body="在吗？")])
    db.session.commit()
    auth.login(provider)
    assert _unread_todo(client.get("/me").text, "/me/orders") == "1"
    seller_home = client.get("/seller").text
    assert _unread_todo(seller_home, "/seller/orders") == "2"
    assert "<dt>未读消息</dt><dd><strong>2</strong> 条</dd>" in seller_home


def test_the_buyer_home_says_when_the_voucher_application_came_back(client, auth, make, enterprise):
    make.voucher_application(enterprise, status=ApplicationStatus.RETURNED)
    auth.login(enterprise)
    page = client.get("/me").text
    assert '<a href="/me/vouchers"><strong>1</strong><span>创新券申请退回修改</span>' in page
    assert "本年度创新券申请：" in page and "退回修改" in page


def test_the_seller_home_counts_new_orders_cancellations_and_returned_listings(client, auth, make, provider):
    service = make.service(provider.provider)
    make.service(provider.provider, name="被退回的服务", status=ServiceStatus.REJECTED)
    buyer = make.enterprise()
    make.order(buyer, service)
    make.order(buyer, service)
    make.order(buyer, service, status=S.IN_SERVICE, cancel_requested_by="buyer")
    make.order(buyer, service, status=S.IN_SERVICE, cancel_requested_by="provider")
    auth.login(provider)
    page = client.get("/seller").text
    assert '<a href="/seller/orders?tab=pending"><strong>2</strong><span>新订单待接单</span>' in page
    assert '<a href="/seller/orders?tab=in_service"><strong>1</strong><span>买家申请取消</span>' in page
    assert '<a href="/seller/services?status=rejected"><strong>1</strong><span>上架未通过的服务</span>' in page
    assert "兑付材料待确认" not in page


def test_a_pilot_sellers_home_counts_the_claims_it_must_confirm(client, auth, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=RedemptionStatus.SUBMITTED)
    pilot = claim.order.provider
    pilot.is_pilot = True
    db.session.commit()
    auth.login(pilot.user)
    page = client.get("/seller").text
    assert '<a href="/seller/orders?kind=cxq&amp;tab=reviewing"><strong>1</strong><span>兑付材料待确认</span>' in page
