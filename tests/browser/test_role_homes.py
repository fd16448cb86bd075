"""Every role at home (issue 16) in real Chromium: each signs in through the login form and lands on its own
workbench, whose header offers what the role can use; on a 390 px phone the workbench menu waits behind its button
and the page fits the screen. The seller's and the reviewer's homes are drawn at 390 and 1400 px in test-artifacts/."""
import pytest

from marketplace.extensions import db
from marketplace.models import Role

from .conftest import PHONE, fits_the_phone, screenshot, sign_in

pytestmark = pytest.mark.browser

# role → (where it lands, the header's workbench link, whether the header has a cart)
HOMES = {"enterprise": ("/me", "我的工作台", True), "individual": ("/me", "我的工作台", True),
         "provider": ("/seller", "卖家工作台", True), "reviewer": ("/admin/", "审核后台", False)}


def user_of(make, role: str):
    if role == "individual":
        user = make.user(Role.INDIVIDUAL)
        db.session.commit()
        return user
    return getattr(make, role)()


@pytest.mark.parametrize("role", list(HOMES))
def test_each_role_signs_in_to_its_workbench_with_its_header_and_a_folded_menu_on_a_phone(
        phone, live_server, make, role):
    path, desk, cart = HOMES[role]
    sign_in(phone, live_server, user_of(make, role))
    assert phone.url == live_server + path
    header = phone.locator("header.site-header")
    assert header.locator("a.desk").inner_text() == desk
    assert (header.locator("a.cart").count() == 1) is cart
    menu = phone.locator("details.side-fold")
    assert menu.locator("summary").is_visible() and not menu.locator("nav.side-menu").is_visible()
    assert fits_the_phone(phone) and fits_the_phone(phone, "nav.main-nav")
    for label in ("首页", "科研仪器共享", "创新券", "政策解读", "公示"):  # the whole main nav, none scrolled away
        link = phone.locator(f"nav.main-nav a:has-text('{label}')")
        assert link.is_visible() and link.evaluate(f"a => a.getBoundingClientRect().right <= {PHONE['width']}")
    menu.locator("summary").click()
    assert menu.locator("nav.side-menu").is_visible() and fits_the_phone(phone)


def test_on_a_wide_screen_the_menu_stands_open_beside_the_page(page, live_server, provider):
    sign_in(page, live_server, provider)
    menu = page.locator("details.side-fold")
    assert not menu.locator("summary").is_visible() and menu.locator("nav.side-menu").is_visible()
    page.click("nav.side-menu a:has-text('我是买家')")
    page.wait_for_url("**/me")
    assert page.locator("nav.side-menu a[aria-current='true']").inner_text() == "我是买家"


def _draw(browser, live_server, user, path: str, name: str) -> None:
    for width in (PHONE["width"], 1400):
        context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900},
                                      is_mobile=width == PHONE["width"], has_touch=width == PHONE["width"])
        shot = context.new_page()
        try:
            sign_in(shot, live_server, user)
            shot.goto(live_server + path)
            assert shot.evaluate("() => document.documentElement.scrollWidth") <= width
            screenshot(shot, f"role-home-{name}-{width}")
        finally:
            context.close()


def test_the_seller_and_reviewer_homes_are_drawn_at_phone_and_desk_widths(browser, live_server, make, provider,
                                                                         reviewer):
    service = make.service(provider.provider)
    buyer = make.enterprise()
    make.order(buyer, service)
    make.order(buyer, service)
    _draw(browser, live_server, provider, "/seller", "seller")
    _draw(browser, live_server, reviewer, "/admin/", "admin")
