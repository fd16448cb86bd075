"""A real Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the real app served on loopback."""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from marketplace.workbench.desks import desk_of

from ..conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Without these, Chromium keeps trying to reach Google's services on a machine with no network.
QUIET_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium fonts-wqy-microhei)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app):
    """The test's app served by a real threaded HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    """A page on a 390 px phone screen (touch, mobile viewport)."""
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def fits_the_phone(page, selector: str = "html") -> bool:
    """Nothing in `selector` is wider than the phone. A mobile viewport widens itself to fit what overflows, so the
    element is measured against 390 px, not against the window."""
    return page.locator(selector).first.evaluate(
        f"e => e.getBoundingClientRect().right <= {PHONE['width']} && e.scrollWidth <= {PHONE['width']}")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# Where each workbench (marketplace/workbench/desks.py) is: a sign-in lands there.
DESK_PATHS = {"workbench.home": "/me", "seller.home": "/seller", "admin.home": "/admin/"}


def sign_in(page, base, user):
    """Through the login form; waits for the account's own workbench (/me, /seller or /admin/)."""
    page.goto(base + "/auth/login")
    page.fill("[name=email]", user.email)
    page.fill("[name=password]", PASSWORD)
    page.click("button[type=submit]:has-text('登录')")
    page.wait_for_url("**" + DESK_PATHS[desk_of(user).endpoint])


def sign_out(page):
    page.click("button:has-text('退出')")
    page.wait_for_url("**/")


def pytest_collection_modifyitems(items):
    """The threaded dev server may drop a static file half-sent when Chromium closes a connection early; the
    ResourceWarning that file raises when collected belongs to the server, not to the journey under test."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            item.add_marker(pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"))
