"""Issue 16's HTMX history in real Chromium: on /services, Back and Forward show the filters their URL says, a filter
changed after Back keeps the others, paging brings the results' top into view, and the header's search box follows
the query. (Without JavaScript the same controls come from the URL: tests/test_catalog_search_history.py.)"""
import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

FIRST_CARD = "#results .service-card h3 a >> nth=0"


@pytest.fixture
def many(make, provider):
    """45 electron-microscope services at ¥1 … ¥45: three pages of 20, the dearest first when sorted by price."""
    for n in range(45):
        make.service(provider.provider, name=f"电镜测试{n:02d}", price_fen=100 * (n + 1))


def controls(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelector('form.filters').elements]
        .filter(e => e.name).map(e => [e.name, e.type === 'checkbox' ? e.checked : e.value]))""")


def first_card(page) -> str:
    return page.locator(FIRST_CARD).inner_text()


def test_back_and_forward_show_the_filters_and_results_of_their_url(live_server, page, many):
    page.goto(live_server + "/services?q=电镜")
    page.evaluate("window.__marker = 'same page'")
    page.select_option("#search-sort", "price_desc")
    page.wait_for_url("**/services?q=*&sort=price_desc")
    page.wait_for_function("() => document.querySelector('#results h3 a').innerText === '电镜测试44'")
    page.click("#results a[rel=next]")
    page.wait_for_url("**&page=2")
    page.wait_for_function("() => document.querySelector('#results h3 a').innerText === '电镜测试24'")

    page.go_back()
    page.wait_for_url("**/services?q=*&sort=price_desc")
    assert first_card(page) == "电镜测试44" and controls(page)["sort"] == "price_desc"
    assert page.locator("#search-sort option:checked").inner_text() == "价格从高到低"
    page.go_forward()
    page.wait_for_url("**&page=2")
    assert first_card(page) == "电镜测试24" and controls(page)["sort"] == "price_desc"
    assert page.locator("#results .pager [aria-current=page]").inner_text() == "2"

    page.go_back()
    page.wait_for_url("**/services?q=*&sort=price_desc")
    page.fill("#search-price-max", "30")
    page.press("#search-price-max", "Enter")  # a filter changed after Back keeps the sort
    page.wait_for_url("**price_max=30**")
    assert "sort=price_desc" in page.url
    page.wait_for_function("() => document.querySelector('#results h3 a').innerText === '电镜测试29'")
    assert controls(page) == {"q": "电镜", "field": "", "category": "", "city": "", "district": "", "price_min": "",
                              "price_max": "30", "sort": "price_desc", "voucher": False, "qualified": False}
    assert page.evaluate("window.__marker") == "same page"  # all of it by htmx, no page load


def test_paging_brings_the_top_of_the_results_into_view_and_the_focus_to_their_count(live_server, page, many):
    page.goto(live_server + "/services?q=电镜")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("() => document.querySelector('#results').getBoundingClientRect().top") < -100
    page.focus("#results a[rel=next]")
    page.keyboard.press("Enter")  # by keyboard: the link that had the focus is swapped away with the results
    page.wait_for_url("**page=2")
    page.wait_for_function("() => Math.abs(document.querySelector('#results').getBoundingClientRect().top) < 2")
    page.wait_for_function("() => document.activeElement.matches('#results .result-count')")
    screenshot(page, "catalog-services-paged-by-keyboard-1280")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.service-card') !== null")  # on to the first card
    page.wait_for_timeout(300)  # the focus did not scroll the page away from the results' top
    assert abs(page.evaluate("() => document.querySelector('#results').getBoundingClientRect().top")) < 2


def test_the_header_box_and_the_window_title_follow_an_htmx_search_and_back(live_server, page, many):
    page.goto(live_server + "/services?q=电镜")
    assert page.title() == "电镜 - 科研仪器共享 · 江苏科技创新券"
    page.evaluate("window.__marker = 'same page'")
    page.fill("#search-q", "")
    page.locator("#search-q").press_sequentially("SU8010")  # keys, so the search-as-you-type fires (keyup)
    page.wait_for_url("**/services?q=SU8010&*")
    assert page.input_value("#header-q") == "SU8010" and page.evaluate("window.__marker") == "same page"
    page.wait_for_function("() => document.title === 'SU8010 - 科研仪器共享 · 江苏科技创新券'")
    page.go_back()
    page.wait_for_url("**/services?q=%E7%94%B5%E9%95%9C")
    assert page.input_value("#header-q") == page.input_value("#search-q") == "电镜"
    assert page.title() == "电镜 - 科研仪器共享 · 江苏科技创新券"
    page.go_forward()
    page.wait_for_url("**/services?q=SU8010&*")
    assert page.input_value("#header-q") == page.input_value("#search-q") == "SU8010"
    assert page.title() == "SU8010 - 科研仪器共享 · 江苏科技创新券"
    page.check("#search-voucher")  # the window, the heading and the main nav say 创新券 now
    page.wait_for_url("**voucher=1**")
    page.wait_for_function("() => document.title === 'SU8010 - 创新券服务 · 江苏科技创新券'")
    assert page.locator("nav.main-nav a[aria-current=page]").inner_text() == "创新券"
    assert page.locator("h1").inner_text() == "创新券服务" and page.evaluate("window.__marker") == "same page"


def test_an_answer_does_not_replace_the_box_while_the_user_types_on(live_server, page, many):
    """The search for "SU80" comes back after "10" was typed: the box keeps "SU8010", and its own search follows."""
    held = []
    page.route(lambda url: "/services?q=SU80&" in url, lambda route: held.append(route))
    page.goto(live_server + "/services")
    page.locator("#search-q").press_sequentially("SU80")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    page.locator("#search-q").press_sequentially("10")
    held[0].continue_()
    page.wait_for_url("**/services?q=SU8010&*")
    page.wait_for_function("() => document.querySelector('.result-count').innerText.includes('SU8010')")
    assert page.input_value("#search-q") == "SU8010"
    assert page.evaluate("document.activeElement.id") == "search-q"


@pytest.mark.parametrize("width", [390, 1400])
def test_the_search_and_home_pages_are_drawn_at_phone_and_desk_widths(live_server, browser, many, width):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900}, is_mobile=width == 390,
                                  has_touch=width == 390)
    page = context.new_page()
    try:
        for path, name in (("/", "home"), ("/services?q=电镜&sort=price_desc", "services")):
            page.goto(live_server + path)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= width
            screenshot(page, f"catalog-{name}-{width}")
        if width == 390:  # the filters fold: the first result is on the first screen, the filters a tap away
            assert page.locator("#search-sort").is_hidden()
            first_result = page.locator("#results .service-card").first
            assert first_result.evaluate("card => card.getBoundingClientRect().top") < 500
            page.click(".search-fold summary")
            assert page.locator("#search-sort").is_visible()
            screenshot(page, "catalog-services-filters-open-390")
    finally:
        context.close()
