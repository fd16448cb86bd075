"""Issue 16's order lists in real Chromium: the buyer's 我的订单 and the provider's 订单管理, with every money column
filled (a 面议 order, a paid claim, one under review), fit a 390 px phone as stacked cards and read as a table at
1400 px; the order pages, the cart and the checkout fit the phone too. Screenshots go to test-artifacts/."""
import pytest

from marketplace.extensions import db
from marketplace.models import OrderStatus, RedemptionStatus

from ..conftest import PASSWORD
from .conftest import PHONE, fits_the_phone, screenshot

pytestmark = pytest.mark.browser
S, R = OrderStatus, RedemptionStatus
DESK = {"width": 1400, "height": 900}


@pytest.fixture
def world(make, enterprise, individual):
    """One provider's orders from an enterprise (each state the lists show) and from a person (非创新券)."""
    make.voucher(enterprise)
    lab = make.provider(name="南京某大学分析测试中心")
    sem = make.service(lab.provider, name="场发射扫描电镜形貌分析", price_fen=40_000)
    talk = make.service(lab.provider, name="透射电镜高分辨成像（面议）", price_fen=None)
    estimate = {"estimated_voucher_fen": 10_000}  # what checkout computes for ¥400 in 南京
    pending = make.order(enterprise, sem, **estimate)
    make.order(enterprise, talk)
    make.order(enterprise, sem, status=S.IN_SERVICE, **estimate)
    for status in (R.PAID, R.SUBMITTED):
        make.claim(enterprise, make.order(enterprise, sem, status=S.IN_SERVICE, **estimate), status=status,
                   amount_fen=40_000)
    make.order(individual, sem)
    db.session.commit()
    return lab, sem, pending


def opened(browser, base, user, size, mobile):
    context = browser.new_context(locale="zh-CN", viewport=size, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(base + "/auth/login")
    page.fill("[name=email]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url(lambda url: "/auth/login" not in url)
    return page


def test_my_orders_and_the_sellers_orders_fit_a_phone_with_every_money_column(live_server, browser, world,
                                                                             enterprise):
    lab, sem, pending = world
    for user, path, name in ((enterprise, "/me/orders", "orders-me"), (lab, "/seller/orders", "orders-seller")):
        phone = opened(browser, live_server, user, PHONE, True)
        phone.goto(live_server + path)
        card = phone.locator("table.orders tbody tr").first
        assert phone.locator("table.orders tbody tr").count() >= 5
        assert fits_the_phone(phone), f"{path} is wider than the phone"
        # stacked: the header row is hidden and each cell names its column beside its value
        assert phone.locator("table.orders thead").evaluate("e => e.getBoundingClientRect().height") <= 1
        labels = card.locator("td").evaluate_all("cells => cells.map(c => getComputedStyle(c, '::before').content)")
        assert labels[:4] == ['"订单"', '"线上订单"', '"申请兑付"', '"审核认定"']
        assert "¥400.00" in card.inner_text()
        screenshot(phone, f"{name}-390")
        phone.context.close()

        desk = opened(browser, live_server, user, DESK, False)
        desk.goto(live_server + path)
        assert desk.locator("table.orders thead").is_visible()
        assert desk.evaluate("document.documentElement.scrollWidth") <= DESK["width"]
        screenshot(desk, f"{name}-1400")
        desk.context.close()


def test_an_order_page_the_cart_and_the_checkout_fit_a_phone(live_server, browser, world, enterprise):
    lab, sem, pending = world
    phone = opened(browser, live_server, enterprise, PHONE, True)
    for path in (f"/me/orders/{pending.order_no}", "/me/orders?kind=cxq&tab=pending"):
        phone.goto(live_server + path)
        assert fits_the_phone(phone), f"{path} is wider than the phone"
    phone.goto(f"{live_server}/services/{sem.id}")
    phone.click("button:has-text('加入购物车')")
    phone.wait_for_selector("#cart-badge:text-is('1')")
    for path, name in (("/cart", "cart"), ("/checkout", "checkout")):
        phone.goto(live_server + path)
        assert fits_the_phone(phone), f"{path} is wider than the phone"
        screenshot(phone, f"orders-{name}-390")
    phone.context.close()

    seller = opened(browser, live_server, lab, PHONE, True)
    seller.goto(f"{live_server}/seller/orders/{pending.order_no}")
    assert fits_the_phone(seller)
    seller.context.close()


def test_switching_the_kind_swaps_the_list_and_the_menus_mark_and_back_restores_the_form(live_server, browser, world,
                                                                                        enterprise):
    phone = opened(browser, live_server, enterprise, PHONE, True)
    phone.goto(live_server + "/me/orders")
    phone.click("summary:has-text('查询订单')")
    assert fits_the_phone(phone)
    screenshot(phone, "orders-me-search-390")
    phone.focus("select[name=kind]")  # as a tap on it does
    phone.select_option("select[name=kind]", "ord")
    phone.wait_for_url("**/me/orders?kind=ord*")  # the URL the plain form would open, pushed into history
    phone.wait_for_selector("h1:has-text('非创新券订单')")
    assert phone.title().startswith("非创新券订单")
    assert "非创新券订单" in phone.inner_text(".order-search summary")  # naming what is chosen
    # the form stays open under the hand that used it, the focus back on the select, and the menu marks the kind
    assert phone.locator(".order-search").get_attribute("open") is not None
    assert phone.evaluate("document.activeElement.id") == "order-filter-kind"
    assert phone.locator("#buyer-menu a[aria-current=page]").text_content() == "非创新券订单"
    screenshot(phone, "orders-me-kind-ord-390")
    assert "兑付状态" not in phone.inner_text("#order-list") and phone.locator("table.orders tbody tr").count() == 0
    phone.go_back()
    phone.wait_for_url(lambda url: url.endswith("/me/orders"))
    phone.wait_for_selector("h1:has-text('我的订单')")
    assert phone.locator("select[name=kind]").input_value() == ""
    phone.context.close()


def test_a_row_withdraws_its_order_after_confirming_and_returns_to_the_list(live_server, browser, world,
                                                                            enterprise):
    lab, sem, pending = world
    phone = opened(browser, live_server, enterprise, PHONE, True)
    phone.goto(live_server + "/me/orders?kind=cxq&tab=pending")
    row = phone.locator(f"tr#order-{pending.order_no}")
    row.locator("summary:has-text('撤回订单')").click()
    row.locator("[name=reason]").fill("需求变更")
    assert fits_the_phone(phone)
    row.locator("button:has-text('确认撤回')").click()
    phone.wait_for_selector(f"#flashes:has-text('订单 {pending.order_no} 已撤回')")
    assert phone.url.endswith("/me/orders?kind=cxq&tab=pending")
    assert phone.locator(f"tr#order-{pending.order_no}").count() == 0
    phone.context.close()
