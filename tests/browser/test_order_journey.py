"""Issue 5's journey in real Chromium: an enterprise carts two services from two providers and checks out
into two CXQ orders; one provider accepts by hand, the other has 自动接单 on; a third order is withdrawn
before acceptance. The timeline and the tab counts are checked at each step."""
import re

import pytest

from marketplace.extensions import db
from marketplace.models import ApplicationStatus
from marketplace.vouchers import lifecycle as vouchers

from .conftest import screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser


def tab_counts(page) -> dict[str, int]:
    text = page.inner_text("nav.tabs")
    return {label: int(count) for label, count in re.findall(r"(\S+?)\s*(\d+)", text)}


def add_to_cart(page, base, service, expected_badge):
    page.goto(f"{base}/services/{service.id}")
    page.click("button:has-text('加入购物车')")
    page.wait_for_selector(f"#cart-badge:text-is('{expected_badge}')")


def confirm_declarations(page):
    for box in page.locator("fieldset.declarations input[type=checkbox]").all():
        box.check()


def test_two_providers_two_orders_one_auto_accepted_and_a_withdrawn_third(live_server, page, make, enterprise,
                                                                         reviewer):
    vouchers.approve(make.voucher_application(enterprise, status=ApplicationStatus.SUBMITTED), reviewer.id)
    manual = make.provider(name="南京某大学分析测试中心")
    automatic = make.provider(name="江苏某检测技术有限公司")
    automatic.provider.auto_accept = True
    db.session.commit()
    sem = make.service(manual.provider, name="场发射扫描电镜形貌分析", price_fen=40_000)
    xrd = make.service(automatic.provider, name="X射线衍射物相分析", price_fen=30_000)
    tem = make.service(manual.provider, name="透射电镜高分辨成像", price_fen=150_000)

    sign_in(page, live_server, enterprise)
    add_to_cart(page, live_server, sem, "1")
    add_to_cart(page, live_server, xrd, "2")
    page.goto(live_server + "/cart")
    assert "南京某大学分析测试中心" in page.inner_text("main") and "江苏某检测技术有限公司" in page.inner_text("main")
    page.click("a:has-text('去结算')")
    page.wait_for_selector("button:has-text('提交订单')")
    assert page.locator("section.checkout-order").count() == 2
    confirm_declarations(page)
    screenshot(page, "checkout-two-providers")
    page.click("button:has-text('提交订单')")
    page.wait_for_url("**/me/orders")
    numbers = re.findall(r"CXQ\d{12}", page.inner_text("#flashes"))
    assert len(set(numbers)) == 2
    counts = tab_counts(page)
    assert (counts["全部订单"], counts["订单沟通中"], counts["服务中"]) == (2, 1, 1)

    page.locator("tr", has_text="X射线衍射物相分析").locator("a").first.click()  # the auto-accepted one
    page.wait_for_selector("ol.progress-bar")
    steps = page.locator("ol.progress-bar li")
    assert steps.nth(0).get_attribute("class") == "done" and steps.nth(1).get_attribute("class") == "done"
    assert "自动接单" in page.inner_text(".timeline")
    sign_out(page)

    sign_in(page, live_server, manual)
    page.goto(live_server + "/seller/orders")
    row = page.locator("tr", has_text="场发射扫描电镜形貌分析")
    row.locator("button:has-text('接单')").first.click()
    page.wait_for_selector("tr:has-text('场发射扫描电镜形貌分析') .status:has-text('服务中')")
    screenshot(page, "seller-accepted")
    sign_out(page)

    sign_in(page, live_server, enterprise)
    page.goto(live_server + "/me/orders")
    counts = tab_counts(page)
    assert (counts["订单沟通中"], counts["服务中"]) == (0, 2)
    page.goto(f"{live_server}/services/{tem.id}")
    page.click("button:has-text('立即购买')")
    page.wait_for_selector("button:has-text('提交订单')")
    confirm_declarations(page)
    page.click("button:has-text('提交订单')")
    page.wait_for_url("**/me/orders")
    third = re.findall(r"CXQ\d{12}", page.inner_text("#flashes"))[0]
    assert tab_counts(page)["订单沟通中"] == 1
    page.click(f"a:has-text('{third}')")
    page.click("summary:has-text('撤回订单')")
    page.fill("[name=reason]", "需求变更")
    page.click("button:has-text('确认撤回')")
    page.wait_for_selector("#order-panel .status:has-text('已撤回')")
    assert "买家撤回订单：需求变更" in page.inner_text(".timeline")
    page.goto(live_server + "/me/orders")
    counts = tab_counts(page)
    assert (counts["全部订单"], counts["订单沟通中"], counts["服务中"], counts["订单失效"]) == (3, 0, 2, 1)
    screenshot(page, "my-orders-after-withdrawal")
