"""Issue 14's "orders that must end can end" in real Chromium, on a phone: the enterprise asks to cancel an order
its provider accepted automatically (at first without a reason, which it is asked for), the provider agrees on the
order's page after confirming, and a reviewer closes another order stuck in service with a reason. Every page fits
the 390px screen."""
from datetime import timedelta

import pytest

from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, utcnow

from .conftest import fits_the_phone as fits_the_screen, screenshot, sign_in, sign_out

pytestmark = pytest.mark.browser

REASON = "项目暂停，暂不需要检测"


def fresh(order: Order) -> Order:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Order, order.id)


def ask_to_cancel(page, base, order):
    page.goto(f"{base}/me/orders/{order.order_no}")
    panel = page.locator("#order-panel")
    panel.locator("summary:has-text('申请取消')").click()
    panel.locator("button:has-text('提交取消申请')").click()   # the browser's own check stops an empty reason …
    field = page.locator(f"#request_cancel-{order.order_no}")
    field.evaluate("box => box.removeAttribute('required')")   # … so take it away to see the server's answer
    field.fill("  ")
    panel.locator("button:has-text('提交取消申请')").click()
    page.wait_for_selector(f"#request_cancel-{order.order_no}-error:has-text('请填写申请取消的原因')")
    assert fits_the_screen(page)
    screenshot(page, "cancel-request-needs-reason-390")
    page.fill(f"#request_cancel-{order.order_no}", REASON)
    page.locator("#order-panel button:has-text('提交取消申请')").click()
    page.wait_for_selector("#order-panel .cancel-request:has-text('买家申请取消订单')")
    assert REASON in page.inner_text("#order-panel") and fits_the_screen(page)


def agree_on_the_order_page(page, base, order):
    page.goto(f"{base}/seller/orders/{order.order_no}")
    actions = page.locator("#order-actions")
    assert "买家申请取消订单" in actions.inner_text() and REASON in actions.inner_text()
    actions.locator("summary:has-text('同意取消')").click()
    assert "不能恢复" in actions.inner_text()
    assert fits_the_screen(page)
    screenshot(page, "cancel-agree-confirm-390")
    actions.locator("button:has-text('确认同意取消')").click()
    page.wait_for_selector("#flashes:has-text('已同意取消，订单已取消')")
    assert "已取消" in page.inner_text("h1") and fits_the_screen(page)


def close_the_stuck_order(page, base, order):
    page.goto(f"{base}/admin/orders?status=stuck")
    assert fits_the_screen(page)
    page.click(f"a:has-text('{order.order_no}')")
    page.wait_for_url(f"**/admin/orders/{order.order_no}")
    page.click("#order-case summary:has-text('关闭订单')")
    page.fill("#reason", "双方长期未推进服务，联系不上买家")
    assert fits_the_screen(page)
    screenshot(page, "close-stuck-order-390")
    page.click("#order-case button:has-text('确认关闭订单')")
    page.wait_for_selector("#order-case:has-text('平台关闭订单：双方长期未推进服务，联系不上买家')")
    assert fits_the_screen(page)


def test_an_order_is_cancelled_by_both_sides_and_a_stuck_one_closed_by_a_reviewer_on_a_phone(
        live_server, phone, make, enterprise, provider, reviewer):
    provider.provider.auto_accept = True
    db.session.commit()
    service = make.service(provider.provider)
    order, stuck = make.order(enterprise, service), make.order(enterprise, service)
    stuck.accepted_at = utcnow() - timedelta(days=45)
    db.session.commit()
    sign_in(phone, live_server, enterprise)
    ask_to_cancel(phone, live_server, order)
    sign_out(phone)

    sign_in(phone, live_server, provider)
    agree_on_the_order_page(phone, live_server, order)
    sign_out(phone)

    sign_in(phone, live_server, reviewer)
    close_the_stuck_order(phone, live_server, stuck)
    assert fresh(order).status == OrderStatus.CANCELLED and fresh(stuck).status == OrderStatus.CLOSED
