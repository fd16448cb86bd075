"""The search page's filter form is drawn from the URL alone, for a plain page load and for htmx alike: the same
HTML is what htmx swaps in and keeps in its history, so Back and Forward show the controls of their URL (the
browser side: tests/browser/test_search_history.py)."""
import re
from html.parser import HTMLParser

import pytest

from marketplace.catalog.search_views import MAX_QUERY
from marketplace.extensions import db
from marketplace.models import Category, Field

HTMX = {"HX-Request": "true"}


class FilterControls(HTMLParser):
    """What each control of the search form shows: a text box its value, a select its selected option, a checkbox
    whether it is ticked."""

    def __init__(self, html: str):
        super().__init__()
        self.shown: dict[str, str | bool | None] = {}
        self.in_form = False
        self.select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and "filters" in (attrs.get("class") or "").split():
            self.in_form = True
        elif not self.in_form:
            return
        elif tag == "input" and attrs.get("type") == "checkbox":
            self.shown[attrs["name"]] = "checked" in attrs
        elif tag == "input":
            self.shown[attrs["name"]] = attrs.get("value", "")
        elif tag == "select":
            self.select = attrs["name"]
            self.shown[self.select] = None
        elif tag == "option" and "selected" in attrs:
            self.shown[self.select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


@pytest.fixture
def choices(make, provider):
    """A Nanjing shop in 鼓楼区 (so the district filter has a choice), a field and a category to pick."""
    nanjing = make.provider(city="南京").provider
    nanjing.district = "鼓楼区"
    field, category = Field(name="生物医药", position=2), Category(name="基因测序", position=2)
    db.session.add_all([field, category])
    db.session.commit()
    make.service(nanjing, name="基因测序服务")
    return field, category


EVERY_FILTER = "q=测序&field={field}&category={category}&city=南京&district=鼓楼区&price_min=100&price_max=2000" \
               "&sort=price_desc&voucher=1&qualified=1&page=2"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_every_filter_control_is_drawn_as_the_url_says(client, choices, headers):
    field, category = choices
    html = client.get("/services?" + EVERY_FILTER.format(field=field.id, category=category.id),
                      headers=headers).get_data(as_text=True)
    assert FilterControls(html).shown == {
        "q": "测序", "field": str(field.id), "category": str(category.id), "city": "南京", "district": "鼓楼区",
        "price_min": "100", "price_max": "2000", "sort": "price_desc", "voucher": True, "qualified": True}


def test_without_filters_every_control_shows_its_default(client, choices):
    html = client.get("/services").get_data(as_text=True)
    assert FilterControls(html).shown == {
        "q": "", "field": None, "category": None, "city": None, "district": None, "price_min": "", "price_max": "",
        "sort": "relevance", "voucher": False, "qualified": False}  # None: no option marked, so the first, 全部…


def test_htmx_gets_the_filters_and_results_that_the_page_shows_below_its_header(client, choices):
    page = client.get("/services?q=测序&city=南京").get_data(as_text=True)
    fragment = client.get("/services?q=测序&city=南京", headers=HTMX).get_data(as_text=True)
    assert "<html" in page and "<html" not in fragment
    assert '<div id="search">' in page and '<div id="search">' not in fragment  # htmx swaps the fragment into it
    below_the_header = fragment.split("<summary>")[1].rsplit('<input type="search" name="q" id="header-q"')[0].rstrip()
    assert below_the_header in page and '<details class="fold search-fold" open>' in fragment
    assert "基因测序服务" in fragment and ">鼓楼区</option>" in fragment
    assert "HX-Request" in client.get("/services", headers=HTMX).headers["Vary"]


def test_the_header_search_box_comes_out_of_band_with_each_htmx_search(client, choices):
    fragment = client.get("/services?q=测序", headers=HTMX).get_data(as_text=True)
    assert 'name="q" id="header-q" value="测序"' in fragment and 'hx-swap-oob="true"' in fragment
    page = client.get("/services?q=测序").get_data(as_text=True)
    assert 'id="header-q" value="测序"' in page and 'hx-swap-oob' not in page


def window_title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()


@pytest.mark.parametrize("query", ["q=测序", "q=测序&voucher=1", "", "q=%3Cb%3E"])
def test_an_htmx_search_retitles_the_window_as_a_page_load_would(client, choices, query):
    page = client.get("/services?" + query).get_data(as_text=True)
    fragment = client.get("/services?" + query, headers=HTMX).get_data(as_text=True)
    assert fragment.lstrip().startswith("<title>")  # htmx takes a <title> only at the top level of what it swaps
    assert fragment.count("<title>") == 1 and window_title(fragment) == window_title(page)
    assert window_title(client.get("/services?q=测序&voucher=1").get_data(as_text=True)).startswith("测序 - 创新券服务")


def test_the_header_box_shows_the_query_as_searched_and_allows_no_longer_one(client, choices):
    for headers in ({}, HTMX):
        html = client.get("/services?q=%20%20测序%20", headers=headers).get_data(as_text=True)
        assert f'id="header-q" value="测序" maxlength="{MAX_QUERY}"' in html
        long = client.get("/services?q=" + "电" * (MAX_QUERY + 20), headers=headers).get_data(as_text=True)
        assert f'id="header-q" value="{"电" * MAX_QUERY}" maxlength' in long
    assert f'id="search-q" value="测序" maxlength="{MAX_QUERY}"' in html
    elsewhere = client.get("/policy?q=测序").get_data(as_text=True)
    assert f'id="header-q" value="" maxlength="{MAX_QUERY}"' in elsewhere


def current_nav_link(html: str) -> str:
    nav = re.search(r'<nav class="main-nav".*?</nav>', html, re.S).group(0)
    return re.search(r'aria-current="page">([^<]+)</a>', nav).group(1)


def test_the_main_nav_marks_voucher_services_after_an_htmx_toggle_as_after_a_page_load(client, choices):
    for query, current in (("voucher=1", "创新券"), ("", "科研仪器共享"), ("q=测序&voucher=1&page=2", "创新券")):
        fragment = client.get("/services?" + query, headers=HTMX).get_data(as_text=True)
        page = client.get("/services?" + query).get_data(as_text=True)
        assert current_nav_link(fragment) == current_nav_link(page) == current
        assert '<nav class="main-nav" id="main-nav" aria-label="主导航" hx-swap-oob="true">' in fragment
    assert 'hx-swap-oob' not in page


def test_a_phone_folds_the_filters_behind_a_summary_of_the_conditions(client, choices):
    field, category = choices
    page = client.get("/services?" + EVERY_FILTER.format(field=field.id, category=category.id)).get_data(as_text=True)
    assert '<details class="fold search-fold">' in page  # closed on a page load; an htmx swap keeps it open
    assert ('<small class="active-filters">“测序” · 生物医药 · 基因测序 · 南京市鼓楼区 · 100–2000 元 · 创新券服务 · '
            '有资质 · 价格从高到低</small>') in page
    plain = client.get("/services?price_min=50").get_data(as_text=True)
    assert '<small class="active-filters">50 元以上 · 综合排序</small>' in plain


def test_choosing_a_city_offers_its_districts_and_forgets_another_citys(client, choices, make):
    xuzhou = FilterControls(client.get("/services?city=徐州&district=鼓楼区", headers=HTMX).get_data(as_text=True))
    assert xuzhou.shown["city"] == "徐州" and xuzhou.shown["district"] is None  # 鼓楼区 is Nanjing's
    nanjing = client.get("/services?city=南京", headers=HTMX).get_data(as_text=True)
    assert ">鼓楼区</option>" in nanjing and "云龙区" not in nanjing
    assert 'name="district" id="district-filter" aria-label="所在区县" disabled hidden' in \
        client.get("/services", headers=HTMX).get_data(as_text=True)
