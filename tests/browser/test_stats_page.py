"""The statistics page in real Chromium: the reviewer sees six server-drawn charts with Chinese labels, and
choosing another year swaps the charts in place."""
import pytest

from marketplace.extensions import db

from ..test_stats import YEAR, seed_claims, seed_orders
from .conftest import screenshot, sign_in
from .test_smoke import CJK_GLYPHS_DIFFER

pytestmark = pytest.mark.browser

CHARTS = ["cities", "months", "claims", "fields", "providers", "local"]


def test_reviewer_reads_the_charts_with_chinese_labels(live_server, page, make, enterprise, reviewer):
    seed_claims(make)
    seed_orders(make, enterprise)
    sign_in(page, live_server, reviewer)
    page.goto(f"{live_server}/admin/stats")
    for key in CHARTS:
        page.locator(f"#stats-{key} svg").wait_for()
    text = page.locator("#stats-charts").inner_text()
    assert "南京" in text and "徐州" in text and "南京材料测试中心" in text
    city_label = page.locator("#stats-cities svg text", has_text="徐州").first
    assert city_label.is_visible() and city_label.bounding_box()["width"] > 10
    assert page.locator("#stats-cities svg rect.bar").count() == 26
    assert page.evaluate(CJK_GLYPHS_DIFFER), "Chinese text renders as boxes: install fonts-wqy-microhei"
    screenshot(page, "admin-stats")


def test_choosing_another_year_swaps_the_charts_in_place(live_server, page, make, enterprise, reviewer):
    seed_orders(make, enterprise)
    make.voucher(make.enterprise(city="徐州"))
    make.voucher(make.enterprise(city="南京")).year = YEAR - 1
    db.session.commit()
    sign_in(page, live_server, reviewer)
    page.goto(f"{live_server}/admin/stats")
    page.evaluate("window.__marker = 'same page'")
    assert page.locator("#stats-fields svg rect.bar").count() == 2
    page.locator("#stats-year").select_option(str(YEAR - 1))
    page.wait_for_url(f"**/admin/stats?year={YEAR - 1}")
    page.wait_for_function(f"() => document.querySelector('#stats-charts').dataset.year === '{YEAR - 1}'")
    assert page.evaluate("window.__marker") == "same page"  # swapped by htmx, not a full reload
    assert page.locator("#stats-fields svg text", has_text="暂无数据").is_visible()
    assert page.locator("#stats-cities svg rect.bar[data-label='南京'][data-series='发放总额']").get_attribute(
        "data-value") == "10000000"
