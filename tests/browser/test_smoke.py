"""Smoke journey in real Chromium: home → search by a two-character Chinese word → service detail."""
import pytest

from .conftest import screenshot

pytestmark = pytest.mark.browser

# Two different CJK characters drawn on a canvas look the same only if both came out as
# "tofu" boxes, i.e. no font on the machine has Chinese glyphs.
CJK_GLYPHS_DIFFER = """() => {
  const draw = (ch) => {
    const canvas = document.createElement('canvas'); canvas.width = canvas.height = 40;
    const ctx = canvas.getContext('2d'); ctx.font = '32px ' + getComputedStyle(document.body).fontFamily;
    ctx.fillText(ch, 2, 34); return Array.from(ctx.getImageData(0, 0, 40, 40).data).join(',');
  };
  return draw('电') !== draw('镜') && draw('电') !== draw('\\uE000');
}"""


def test_visitor_finds_a_service_by_a_chinese_word_and_opens_it(live_server, page, listed_service):
    page.goto(live_server + "/")
    assert page.title().startswith("首页")
    assert page.locator(".counters").inner_text().count("入驻服务单位") == 1
    assert page.evaluate(CJK_GLYPHS_DIFFER), "Chinese text renders as boxes: install fonts-wqy-microhei"
    screenshot(page, "smoke-home")

    page.locator(".big-search input[name=q]").fill("电镜")
    page.locator(".big-search button").click()
    page.wait_for_url("**/services?q=*")
    assert "共找到 1 项服务" in page.locator(".result-count").inner_text()

    page.get_by_role("link", name=listed_service.name).first.click()
    page.wait_for_url(f"**/services/{listed_service.id}")
    assert page.locator("h1").inner_text().startswith(listed_service.name)
    assert "该价格为参考价" in page.locator(".price-line").inner_text()
    screenshot(page, "smoke-service")


def test_search_filters_swap_results_in_place_and_update_the_url(live_server, page, make, provider):
    make.service(provider.provider, name="徐州扫描电镜服务")
    nanjing = make.provider(city="南京")
    make.service(nanjing.provider, name="南京扫描电镜服务")
    page.goto(live_server + "/services?q=电镜")
    page.evaluate("window.__marker = 'same page'")
    page.locator("select[name=city]").select_option("南京")
    page.wait_for_url("**city=*")
    page.wait_for_function("() => document.querySelector('.result-count').innerText.includes('共找到 1 项')")
    assert page.evaluate("window.__marker") == "same page"  # swapped by htmx, not a full reload
    assert "南京扫描电镜服务" in page.locator("#results").inner_text()
    page.go_back()
    page.wait_for_function("() => document.querySelector('.result-count').innerText.includes('共找到 2 项')")
