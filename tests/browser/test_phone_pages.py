"""Issue 16, Build 2 and 3, beyond what the page walk measures: on every page each role reaches (the walk's pages on the
demo database) list tables name each cell's column, ids are unique, labels name fields and headings step down one
level at a time; in Chromium a list table is labelled cards on a 390 px phone and a table on a desk, the offline
claim's 服务明细 is a stacked form on a phone, and links in running text are underlined while buttons, tabs and menus
are not."""
from collections import Counter
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Redemption

from .conftest import PHONE
from .page_walk import ROLES, crawl
from .test_every_page import signed_in_client

DESK = {"width": 1400, "height": 900}


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0, result.output
    return app


class Markup(HTMLParser):
    """What a screen reader and the stacked-table CSS need of a page's markup."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.ids: Counter = Counter()
        self.fields: set[str] = set()
        self.label_targets: list[str] = []
        self.tables: list[bool] = []  # for each open <table>: is it a list that stacks on a phone?
        self.header: str | None = None  # the text of the <th> being read
        self.headings: list[int] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids[attrs["id"]] += 1
            if tag in ("input", "select", "textarea"):
                self.fields.add(attrs["id"])
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        elif tag == "table":
            classes = (attrs.get("class") or "").split()
            self.tables.append("list" in classes and "grid" not in classes)
        elif tag == "td" and self.tables and self.tables[-1] and "data-label" not in attrs:
            self.problems.append(f"a cell without data-label (line {self.getpos()[0]})")
        elif tag == "th":
            self.header = ""
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            level = int(tag[1])
            if level > (self.headings[-1] if self.headings else 0) + 1:
                self.problems.append(f"<{tag}> after <h{self.headings[-1] if self.headings else 0}>")
            self.headings.append(level)

    def handle_data(self, data):
        if self.header is not None:
            self.header += data.strip()

    def handle_endtag(self, tag):
        if tag == "table" and self.tables:
            self.tables.pop()
        elif tag == "th":
            if not self.header:
                self.problems.append("an empty <th>")
            self.header = None

    def close(self):
        super().close()
        self.problems += [f'id="{i}" used {n} times' for i, n in self.ids.items() if n > 1]
        self.problems += [f'<label for="{i}"> names no field' for i in self.label_targets if i not in self.fields]
        if self.headings.count(1) != 1:
            self.problems.append(f"{self.headings.count(1)} <h1>")


def test_every_page_labels_list_cells_and_fields_repeats_no_id_and_steps_headings_down_one_level(demo):
    found = {}
    for role in ROLES:
        client = signed_in_client(demo, role)
        for url in crawl(demo, client, ROLES[role][1]).pages.values():
            markup = Markup()
            markup.feed(client.get(url).get_data(as_text=True))
            markup.close()
            if markup.problems:
                found[f"{role} {url}"] = sorted(set(markup.problems))
    assert found == {}


# Where each stacked cell's value starts left of the label column (its label's grid got two values).
VALUES_UNDER_LABELS = """() => [...document.querySelectorAll(
        'table.list:not(.grid) > tbody > tr > td[data-label]:not([data-label=""])')].flatMap(cell => {
    const style = getComputedStyle(cell), columns = style.gridTemplateColumns.split(' ');
    if (style.display !== 'grid' || columns.length !== 2) return [];
    const labelEnd = cell.getBoundingClientRect().left + parseFloat(style.paddingLeft) + parseFloat(columns[0]);
    return [...cell.childNodes].filter(node => node.nodeName !== 'BR' && node.textContent.trim()).filter(node => {
        const range = document.createRange();
        range.selectNode(node);
        const box = range.getBoundingClientRect();
        return box.width > 0 && box.left < labelEnd - 1;
    }).map(node => cell.dataset.label + ': ' + node.textContent.trim().slice(0, 20));
})"""
TABLE_LOOK = """() => [...document.querySelectorAll('table.list:not(.grid)')].map(table => [
    getComputedStyle(table).display, table.tHead ? getComputedStyle(table.tHead).display : 'table-header-group'])"""


def opened(browser, base, client, size):
    mobile = size == PHONE
    context = browser.new_context(locale="zh-CN", viewport=size, is_mobile=mobile, has_touch=mobile)
    cookie = client.get_cookie("session")
    if cookie:
        context.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.mark.browser
@pytest.mark.parametrize("role", ["enterprise", "provider", "reviewer"])
def test_list_tables_are_labelled_cards_on_a_phone_and_tables_on_a_desk(demo, live_server, browser, role):
    client = signed_in_client(demo, role)
    urls = [url for url in crawl(demo, client, ROLES[role][1]).pages.values()
            if 'table class="list' in client.get(url).get_data(as_text=True)]
    assert len(urls) >= 3
    page = opened(browser, live_server, client, PHONE)
    misplaced, desk = {}, {}
    try:
        for url in urls:
            page.set_viewport_size(PHONE)
            page.goto(live_server + url)
            if values := page.evaluate(VALUES_UNDER_LABELS):
                misplaced[url] = values
            page.set_viewport_size(DESK)
            if looks := [look for look in page.evaluate(TABLE_LOOK) if look != ["table", "table-header-group"]]:
                desk[url] = looks
    finally:
        page.context.close()
    assert (misplaced, desk) == ({}, {})


@pytest.mark.browser
def test_the_offline_claims_service_lines_are_a_stacked_form_on_a_phone(demo, live_server, browser):
    client = signed_in_client(demo, "enterprise")  # the walk's preparation fills an offline claim's first two steps
    claim_id = db.session.scalar(select(Redemption.id).where(Redemption.order_id.is_(None)))
    url = f"/me/offline-redemptions/{claim_id}/service"
    page = opened(browser, live_server, client, PHONE)
    try:
        page.goto(live_server + url)
        row = page.locator("table.service-lines tbody tr").first
        box = row.bounding_box()
        names = row.locator("input[type=text]")
        remove = row.locator("button[name=remove_line]").bounding_box()
        assert names.count() == 2
        for i in range(2):  # each name box nearly as wide as the card, under its label
            field = names.nth(i).bounding_box()
            assert field["width"] >= 0.8 * box["width"] and field["x"] + field["width"] <= box["x"] + box["width"]
        assert names.nth(0).bounding_box()["y"] < names.nth(1).bounding_box()["y"]
        assert remove["x"] + remove["width"] <= box["x"] + box["width"]
        assert remove["y"] < names.nth(0).bounding_box()["y"]
        page.set_viewport_size(DESK)  # a desk: one line per service, the two boxes side by side
        assert names.nth(0).bounding_box()["y"] == names.nth(1).bounding_box()["y"]
    finally:
        page.context.close()


UNDERLINED = "e => getComputedStyle(e).textDecorationLine"


@pytest.mark.browser
def test_links_in_running_text_are_underlined_and_buttons_tabs_and_menus_are_not(demo, live_server, browser):
    client = signed_in_client(demo, "reviewer")
    page = opened(browser, live_server, client, DESK)
    try:
        page.goto(live_server + "/admin/redemptions")
        for selector in (".crumbs a", "p.hint a", ".site-footer a"):
            assert page.locator(selector).first.evaluate(UNDERLINED) == "underline", selector
        for selector in ("a.button", ".tabs a", ".side-menu a", ".main-nav a"):
            assert page.locator(selector).first.evaluate(UNDERLINED) == "none", selector
    finally:
        page.context.close()
