"""统计分析: every chart's numbers come from the data, its SVG draws those numbers, and its Excel export holds the
same rows as the table on the page."""
import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from urllib.parse import quote

import openpyxl
import pytest

from marketplace.extensions import db
from marketplace.models import Field, OrderStatus, Provider, Rating, Redemption, RedemptionStatus, china_today
from marketplace.policy import CITIES
from marketplace.stats import queries
from marketplace.stats.queries import CityMatching, CityVouchers, FieldOrders, MonthFlow, ProviderRank, StatusClaims
from marketplace.stats.reports import REPORTS

from .conftest import NOT_REVIEWERS, queries_sent, sign_in_as

HTMX = {"HX-Request": "true"}
YEAR = china_today().year
MONTH = china_today().month
SVG = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------- the world the charts describe

def seed_claims(make) -> dict[str, Redemption]:
    """A 南京 (苏南, 25%) and a 徐州 (苏北, 35%) enterprise with this year's vouchers and claims in several states."""
    nanjing, xuzhou = make.enterprise("南京"), make.enterprise(city="徐州")
    make.voucher(nanjing)
    make.voucher(xuzhou)
    claims = {
        "nanjing_paid": make.claim(nanjing, status=RedemptionStatus.PAID, amount_fen=1_000_000),
        "nanjing_approved": make.claim(nanjing, status=RedemptionStatus.APPROVED, amount_fen=1_000_000),
        "nanjing_draft": make.claim(nanjing, status=RedemptionStatus.DRAFT, amount_fen=1_000_000),
        "xuzhou_paid": make.claim(xuzhou, status=RedemptionStatus.PAID, amount_fen=2_000_000),
        "xuzhou_submitted": make.claim(xuzhou, status=RedemptionStatus.SUBMITTED, amount_fen=1_000_000),
    }
    db.session.expire_all()
    return {key: db.session.get(Redemption, claim.id) for key, claim in claims.items()}


def seed_orders(make, enterprise) -> tuple[Provider, Provider]:
    """Two providers: 南京材料测试中心 sells a service in two fields (新材料, 电子信息), three live orders and one
    withdrawn, rated 5 and 4; 苏州分析测试中心 one order of quantity 2 in 新材料, unrated."""
    first = make.provider(city="南京", name="南京材料测试中心").provider
    second = make.provider(city="苏州", name="苏州分析测试中心").provider
    make.provider(name="没有订单的服务单位")
    two_fields = make.service(first, price_fen=40_000)
    two_fields.fields.append(Field(name="电子信息", position=2))
    one_field = make.service(second, name="X射线衍射物相分析", price_fen=30_000)
    orders = [make.order(enterprise, two_fields) for _ in range(3)]
    make.order(enterprise, two_fields, status=OrderStatus.WITHDRAWN)
    make.order(enterprise, one_field, quantity=2)
    for order, score in zip(orders, (5, 4), strict=False):
        db.session.add(Rating(order_id=order.id, provider_id=first.id, user_id=enterprise.id, score=score))
    db.session.commit()
    return first, second


@pytest.fixture
def claims_world(make):
    return seed_claims(make)


@pytest.fixture
def orders_world(make, enterprise):
    return seed_orders(make, enterprise)


def zeros(row_type, keys, width):
    return [row_type(key, *[0] * width) for key in keys]


# ---------------------------------------------------------------- numbers in the query rows

def test_vouchers_by_city_count_issued_totals_and_split_used_from_approved_and_reserved(claims_world):
    rows = {row.city: row for row in queries.vouchers_by_city(YEAR)}
    assert list(rows) == list(CITIES)
    assert rows["南京"] == CityVouchers("南京", 1, 10_000_000, 250_000, 250_000, 0)
    assert rows["徐州"] == CityVouchers("徐州", 1, 14_000_000, 700_000, 0, 350_000)
    assert rows["徐州"].remaining_fen == 14_000_000 - 700_000 - 350_000
    assert rows["苏州"] == CityVouchers("苏州", 0, 0, 0, 0, 0)
    assert queries.vouchers_by_city(YEAR - 1) == zeros(CityVouchers, CITIES, 5)


def test_vouchers_by_month_put_issues_and_payments_in_their_china_month(claims_world):
    rows = queries.vouchers_by_month(YEAR)
    assert [row.month for row in rows] == list(range(1, 13))
    paid = claims_world["nanjing_paid"].approved_fen + claims_world["xuzhou_paid"].approved_fen
    assert rows[MONTH - 1] == MonthFlow(MONTH, 2, 24_000_000, 2, paid) and paid == 950_000
    assert all(row == MonthFlow(row.month, 0, 0, 0, 0) for row in rows if row.month != MONTH)


def test_a_month_is_counted_in_china_time_not_utc(make):
    """16:00 UTC on 31 January is already 1 February in China; 16:30 UTC on 31 December of the year before is
    already 1 January of this year."""
    issued = {"南京": datetime(YEAR, 1, 31, 15, 59), "无锡": datetime(YEAR, 1, 31, 16, 0),
              "常州": datetime(YEAR - 1, 12, 31, 16, 30), "苏州": datetime(YEAR, 12, 31, 16, 0)}
    for city, at in issued.items():
        make.voucher(make.enterprise(city)).issued_at = at
    db.session.commit()
    rows = queries.vouchers_by_month(YEAR)
    assert [row.issued_count for row in rows] == [2, 1] + [0] * 10  # 苏州's is 1 January of next year


def test_claims_by_status_leave_drafts_out_and_sum_requested_and_approved(claims_world):
    rows = {row.status: row for row in queries.claims_by_status(YEAR)}
    R = RedemptionStatus
    assert R.DRAFT not in rows and list(rows) == [s for s in R.LABELS if s != R.DRAFT]
    assert rows[R.PAID] == StatusClaims(R.PAID, "已兑付", 2, 950_000, 950_000)
    assert rows[R.APPROVED] == StatusClaims(R.APPROVED, "审核通过", 1, 250_000, 250_000)
    assert rows[R.SUBMITTED] == StatusClaims(R.SUBMITTED, "审核中", 1, 350_000, 0)
    assert rows[R.REJECTED] == StatusClaims(R.REJECTED, "审核不通过", 0, 0, 0)


def test_orders_by_field_count_an_order_once_per_field_it_touches(orders_world, make, enterprise):
    assert queries.orders_by_field(YEAR) == [FieldOrders("新材料", 4, 3 * 40_000 + 2 * 30_000),
                                              FieldOrders("电子信息", 3, 3 * 40_000)]
    assert queries.orders_by_field(YEAR - 1) == []


def test_top_providers_rank_by_orders_with_their_shop_rating(orders_world):
    first, second = orders_world
    assert queries.top_providers(YEAR) == [ProviderRank(first.id, "南京材料测试中心", 3, Decimal("4.5"), 2),
                                           ProviderRank(second.id, "苏州分析测试中心", 1, None, 0)]


def test_top_providers_stop_at_ten(make, enterprise):
    for n in range(11):
        make.order(enterprise, make.service(make.provider(name=f"服务单位{n:02d}").provider))
    assert len(queries.top_providers(YEAR)) == queries.TOP_PROVIDERS


def test_local_matching_by_city_sums_paid_claims_of_the_years_vouchers(claims_world):
    nanjing, xuzhou = claims_world["nanjing_paid"], claims_world["xuzhou_paid"]
    assert nanjing.local_match_fen > 0 and xuzhou.local_match_fen > 0
    rows = {row.city: row for row in queries.local_matching_by_city(YEAR)}
    assert list(rows) == list(CITIES)
    assert rows["南京"] == CityMatching("南京", 1, 250_000, nanjing.local_match_fen)
    assert rows["徐州"] == CityMatching("徐州", 1, 700_000, xuzhou.local_match_fen)
    assert xuzhou.local_match_fen == 700_000 * 3 // 7
    assert queries.local_matching_by_city(YEAR - 1) == zeros(CityMatching, CITIES, 3)


def test_a_registered_city_written_with_shi_counts_with_its_city(make):
    user = make.enterprise("南京")
    voucher = make.voucher(user)
    voucher.application.registered_city = "南京市"
    db.session.commit()
    assert queries.vouchers_by_city(YEAR)[0] == CityVouchers("南京", 1, 10_000_000, 0, 0, 0)


# ---------------------------------------------------------------- the page: SVG and table from the same numbers

def stats_page(client, auth, reviewer, year=YEAR, headers=None) -> str:
    auth.login(reviewer)
    response = client.get(f"/admin/stats?year={year}", headers=headers or {})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, key: str) -> str:
    match = re.search(rf'<section[^>]* id="stats-{key}".*?</section>', page, re.S)
    assert match, f"no section stats-{key}"
    return match.group(0)


def bars(page: str, key: str) -> dict[tuple[str, str], int]:
    """(category, series) -> data-value of every bar of the chart, read from the parsed SVG."""
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", section(page, key), re.S).group(0))
    return {(rect.get("data-label"), rect.get("data-series")): int(rect.get("data-value"))
            for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"}


def svg_texts(page: str, key: str) -> list[str]:
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", section(page, key), re.S).group(0))
    return [text.text for text in svg.iter(f"{SVG}text")]


def table_rows(page: str, key: str) -> list[list[str]]:
    """The chart's table as text: body rows, then the 合计 row if any."""
    table = re.search(r"<table.*?</table>", section(page, key), re.S).group(0)
    table = re.sub(r"<caption.*?</caption>", "", table, flags=re.S)
    rows = [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    return [row for row in rows if row != ["暂无数据"]]


def test_city_chart_draws_issued_and_used_bars_for_every_city(client, auth, reviewer, claims_world):
    page = stats_page(client, auth, reviewer)
    drawn = bars(page, "cities")
    assert len(drawn) == 2 * len(CITIES)
    assert drawn[("南京", "发放总额")] == 10_000_000 and drawn[("南京", "已兑付")] == 250_000
    assert drawn[("徐州", "发放总额")] == 14_000_000 and drawn[("徐州", "已兑付")] == 700_000
    assert {"南京", "徐州", "连云港", "发放总额", "已兑付", "单位：万元"} <= set(svg_texts(page, "cities"))
    rows = table_rows(page, "cities")
    assert rows[1] == ["南京", "1", "100,000.00", "2,500.00", "2,500.00", "0.00", "95,000.00"]
    assert rows[-1] == ["合计", "2", "240,000.00", "9,500.00", "2,500.00", "3,500.00", "224,500.00"]


def test_month_chart_draws_twelve_months_of_issues_and_payments(client, auth, reviewer, claims_world):
    drawn = bars(stats_page(client, auth, reviewer), "months")
    assert len(drawn) == 24
    assert drawn[(f"{MONTH}月", "发放金额")] == 24_000_000 and drawn[(f"{MONTH}月", "兑付金额")] == 950_000
    assert sum(drawn.values()) == 24_000_000 + 950_000


def test_claims_chart_draws_one_bar_per_status_with_its_count(client, auth, reviewer, claims_world):
    page = stats_page(client, auth, reviewer)
    drawn = bars(page, "claims")
    assert drawn == {(label, "笔数"): count for label, count in
                     [("审核中", 1), ("待补正", 0), ("审核通过", 1), ("公示中", 0), ("待兑付", 0), ("已兑付", 2),
                      ("审核不通过", 0)]}
    rows = table_rows(page, "claims")
    assert "暂存" not in [row[0] for row in rows] and rows[-1] == ["合计", "4", "15,500.00", "12,000.00"]


def test_field_and_provider_charts_draw_orders_with_the_tables_naming_amounts_and_ratings(client, auth, reviewer,
                                                                                        orders_world):
    page = stats_page(client, auth, reviewer)
    assert bars(page, "fields") == {("新材料", "订单数"): 4, ("电子信息", "订单数"): 3}
    assert table_rows(page, "fields")[1:] == [["新材料", "4", "1,800.00"], ["电子信息", "3", "1,200.00"]]
    assert bars(page, "providers") == {("南京材料测试中心", "订单数"): 3, ("苏州分析测试中心", "订单数"): 1}
    assert table_rows(page, "providers")[1:] == [["1", "南京材料测试中心", "3", "4.5", "2"],
                                                 ["2", "苏州分析测试中心", "1", "—", "0"]]


def test_local_chart_draws_provincial_and_local_money_per_city(client, auth, reviewer, claims_world):
    drawn = bars(stats_page(client, auth, reviewer), "local")
    assert drawn[("徐州", "省创新券")] == 700_000 and drawn[("徐州", "地方配套")] == 300_000
    assert drawn[("南京", "地方配套")] == claims_world["nanjing_paid"].local_match_fen
    assert sum(value for (_, series), value in drawn.items() if series == "地方配套") == (
        300_000 + claims_world["nanjing_paid"].local_match_fen)


def test_a_year_without_data_shows_no_data_instead_of_bars(client, auth, reviewer):
    page = stats_page(client, auth, reviewer, year=YEAR - 3)
    for key in REPORTS:
        assert bars(page, key) == {} and "暂无数据" in svg_texts(page, key)
    assert f'<option value="{YEAR - 3}" selected>' in page


@pytest.mark.parametrize("year", ["abc", "1800", str(YEAR + 5)])
def test_a_year_that_is_not_plausible_shows_this_year(client, auth, reviewer, year):
    auth.login(reviewer)
    response = client.get(f"/admin/stats?year={year}")
    assert response.status_code == 200 and f'data-year="{YEAR}"' in response.get_data(as_text=True)


def test_htmx_gets_only_the_charts_of_the_chosen_year(client, auth, reviewer, claims_world):
    fragment = stats_page(client, auth, reviewer, headers=HTMX)
    assert fragment.lstrip().startswith('<div id="stats-charts"') and "<html" not in fragment
    assert [key for key in REPORTS if f'id="stats-{key}"' in fragment] == list(REPORTS)


def test_page_has_a_year_filter_that_works_with_and_without_htmx(client, auth, reviewer):
    page = stats_page(client, auth, reviewer)
    form = re.search(r'<form class="filters".*?</form>', page, re.S).group(0)
    assert 'method="get" action="/admin/stats"' in form and 'hx-push-url="true"' in form
    assert 'hx-target="#stats-charts"' in form and '<select id="stats-year" name="year">' in form


# ---------------------------------------------------------------- Excel: the same rows as the screen

def cell_as_screen(value, column: str) -> str:
    if value is None:
        return "—"
    if column.endswith("（元）"):
        return f"{Decimal(str(value)):,.2f}"
    return str(value)


@pytest.mark.parametrize("key", list(REPORTS))
def test_excel_export_holds_the_same_rows_as_the_table_on_the_page(client, auth, reviewer, claims_world,
                                                                   orders_world, key):
    page = stats_page(client, auth, reviewer)
    response = client.get(f"/admin/stats/{key}.xlsx?year={YEAR}")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    report = REPORTS[key](YEAR)
    disposition = response.headers["Content-Disposition"]
    assert f'filename="stats-{key}-{YEAR}.xlsx"' in disposition
    assert f"filename*=UTF-8''{quote(f'{YEAR}年度{report.title}.xlsx')}" in disposition
    sheet = openpyxl.load_workbook(BytesIO(response.data)).active
    assert sheet.title == report.title
    header, *rows = [list(row) for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert header == list(report.columns)
    screen = table_rows(page, key)
    assert screen[0] == header
    assert [[cell_as_screen(value, column) for value, column in zip(row, header, strict=True)]
            for row in rows] == screen[1:]
    money_columns = [index for index, column in enumerate(header) if column.endswith("（元）")]
    for row in sheet.iter_rows(min_row=4):
        assert all(row[index].number_format == "#,##0.00" for index in money_columns)


def test_excel_export_of_the_city_chart_has_exact_yuan_and_a_total_row(client, auth, reviewer, claims_world):
    auth.login(reviewer)
    sheet = openpyxl.load_workbook(BytesIO(client.get(f"/admin/stats/cities.xlsx?year={YEAR}").data)).active
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    assert rows[0] == ("南京", 1, 100_000, 2_500, 2_500, 0, 95_000)
    assert rows[-1][0] == "合计" and rows[-1][2] == 240_000


def test_an_unknown_chart_has_no_export(client, auth, reviewer):
    auth.login(reviewer)
    assert client.get("/admin/stats/everything.xlsx").status_code == 404


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("path", ["/admin/stats", "/admin/stats/cities.xlsx"])
@pytest.mark.parametrize("who, status", NOT_REVIEWERS)
def test_only_reviewers_see_statistics(client, auth, make, who, status, path):
    sign_in_as(auth, make, who)
    response = client.get(path)
    assert response.status_code == status
    if status == 302:
        assert "/auth/login" in response.headers["Location"]


def test_statistics_read_in_a_few_queries_whatever_the_data(client, auth, reviewer, claims_world, orders_world):
    """No query per row: the signed-in user, the years, and ten grouped queries for the six charts."""
    auth.login(reviewer)
    with queries_sent() as sent:
        client.get(f"/admin/stats?year={YEAR}")
    assert len(sent) <= 12, sent.listing()


# ---------------------------------------------------------------- units (issue 16)

def test_a_small_amount_is_charted_in_yuan_not_as_a_fraction_of_wan(client, auth, reviewer, make):
    """A 徐州 (35%) claim of ¥320 pays ¥112 of provincial voucher: the local chart, whose largest bar is ¥112, counts
    in 元; it used to print "0.0112" 万元."""
    xuzhou = make.enterprise(city="徐州")
    make.voucher(xuzhou)
    make.claim(xuzhou, status=RedemptionStatus.PAID, amount_fen=32_000)
    page = stats_page(client, auth, reviewer)
    assert bars(page, "local")[("徐州", "省创新券")] == 11_200
    texts = svg_texts(page, "local")
    assert "单位：元" in texts and "112" in texts
    assert not [text for text in texts if text.startswith("0.0")]


def test_a_chart_reaching_a_hundred_thousand_yuan_counts_in_wan_to_two_decimals(client, auth, reviewer,
                                                                                  claims_world):
    texts = svg_texts(stats_page(client, auth, reviewer), "cities")
    assert "单位：万元" in texts and "14" in texts and "0.7" in texts  # 徐州: ¥140,000 issued, ¥7,000 paid
    assert not [text for text in texts if re.fullmatch(r"\d+\.\d{3,}", text or "")]


def test_every_table_is_a_grid_that_scrolls_inside_its_own_box(client, auth, reviewer, claims_world):
    page = stats_page(client, auth, reviewer)
    for key in REPORTS:
        assert re.search(r'<div class="scroll-box">\s*<table class="list stats-table grid">', section(page, key))
