"""The shop-application, complaint and objection queues: a search box that keeps the status tab, tabs that keep the
search, paging that keeps both, the list swapped whole by htmx (the same partial the full page includes) and the
keyboard hooks of the other queues."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace.extensions import db
from marketplace.models import Complaint, RedemptionStatus, Role, ShopStatus, User, utcnow
from marketplace.redemption import settlement

HTMX = {"HX-Request": "true"}
LISTS = {"shops": "shop-list", "complaints": "complaint-list", "objections": "objection-list"}


def text_of(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def query_of(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(unescape(href)).query).items()}


def tab_links(html: str) -> dict[str, dict]:
    """Each status tab's label and the arguments its link carries."""
    nav = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', html, re.S).group(1)
    return {label: query_of(href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav)}


def current_tab(html: str) -> str:
    return re.search(r'<nav class="tabs"[^>]*>.*?aria-current="page">([^<]+)</a>', html, re.S).group(1)


def next_page(html: str) -> dict[str, str]:
    return query_of(re.search(r'<a href="([^"]+)"[^>]*rel="next"', html).group(1))


# ---------------------------------------------------------------- building the queues

def shop(make, name: str, status: str = ShopStatus.PENDING):
    provider = make.provider(shop_status=status, name=name).provider
    provider.submitted_at = utcnow()
    db.session.commit()
    return provider


def complaint(make, reason: str, status: str = "open", buyer: User | None = None, provider: User | None = None,
              order_no: str | None = None) -> Complaint:
    buyer, provider = buyer or make.enterprise(), provider or make.provider()
    order = make.order(buyer, make.service(provider.provider), order_no=order_no)
    filed = Complaint(order_id=order.id, provider_id=provider.provider.id, user_id=buyer.id, reason=reason,
                      status=status, resolution="已协调" if status != "open" else None,
                      resolved_at=utcnow() if status != "open" else None)
    db.session.add(filed)
    db.session.commit()
    return filed


def lodger(make, name: str) -> User:
    user = make.user(Role.INDIVIDUAL)
    user.name = name
    db.session.commit()
    return user


def named(enterprise: User, name: str) -> User:
    """The enterprise renamed, so a search for it cannot match another test enterprise's numbered name."""
    enterprise.enterprise.name = name
    db.session.commit()
    return enterprise


def claimant(make) -> User:
    enterprise = make.enterprise()
    make.voucher(enterprise)
    return enterprise


def objection(make, enterprise: User, by: User, reason: str, settled_by: User | None = None):
    lodged = settlement.lodge_objection(make.claim(enterprise, status=RedemptionStatus.PUBLICITY), by, reason)
    db.session.commit()
    if settled_by:
        settlement.resolve_objection(lodged, settled_by, False, "异议不成立")
        db.session.commit()
    return lodged


@pytest.fixture
def signed_in(auth, reviewer):
    auth.login(reviewer)
    return reviewer


@pytest.fixture
def per_page_one(app):
    app.config["PER_PAGE"] = 1


# ---------------------------------------------------------------- 开店申请

def test_shop_search_matches_the_unit_name_within_the_chosen_tab(client, make, signed_in):
    shop(make, "甲市检测中心")
    shop(make, "乙市检测中心")
    shop(make, "甲市分析测试所", ShopStatus.PUBLICITY)
    html = text_of(client.get("/admin/shops?q=甲市"))
    assert "甲市检测中心" in html and "乙市检测中心" not in html and "甲市分析测试所" not in html
    assert current_tab(html) == "审核中"
    html = text_of(client.get("/admin/shops?status=publicity&q=甲市"))
    assert "甲市分析测试所" in html and "甲市检测中心" not in html and current_tab(html) == "公示中"


def test_shop_search_matches_the_credit_code_in_any_case_and_the_account_email(client, make, signed_in):
    found, other = shop(make, "甲市检测中心"), shop(make, "乙市检测中心")
    html = text_of(client.get("/admin/shops", query_string={"q": found.credit_code[-8:].lower()}))
    assert "甲市检测中心" in html and "乙市检测中心" not in html
    html = text_of(client.get("/admin/shops", query_string={"q": other.user.email}))
    assert "乙市检测中心" in html and "甲市检测中心" not in html


def test_shop_search_that_matches_nothing_says_so(client, make, signed_in):
    shop(make, "甲市检测中心")
    html = text_of(client.get("/admin/shops?q=不存在的单位"))
    assert "没有审核中的开店申请（符合“不存在的单位”）" in html and "甲市检测中心" not in html


def test_shop_tabs_keep_the_search(client, make, signed_in):
    tabs = tab_links(text_of(client.get("/admin/shops?status=publicity&q=甲市")))
    assert tabs["审核中"] == {"status": "pending", "q": "甲市"} and tabs["已开店"] == {"status": "open", "q": "甲市"}


def test_an_unknown_shop_tab_shows_the_waiting_applications(client, make, signed_in):
    shop(make, "甲市检测中心")
    html = text_of(client.get("/admin/shops?status=bogus"))
    assert current_tab(html) == "审核中" and "甲市检测中心" in html


# ---------------------------------------------------------------- 投诉

def test_complaints_open_on_the_waiting_ones_and_the_tabs_split_them(client, make, signed_in):
    complaint(make, "报告迟迟未出")
    complaint(make, "早先的投诉已处理", status="resolved")
    html = text_of(client.get("/admin/complaints"))
    assert current_tab(html) == "待处理" and list(tab_links(html)) == ["待处理", "已处理", "全部"]
    assert "报告迟迟未出" in html and "早先的投诉已处理" not in html
    html = text_of(client.get("/admin/complaints?status=resolved"))
    assert "早先的投诉已处理" in html and "报告迟迟未出" not in html
    html = text_of(client.get("/admin/complaints?status=all"))
    assert html.index("报告迟迟未出") < html.index("早先的投诉已处理")


def test_settled_complaints_come_most_recently_settled_first(client, make, signed_in):
    earlier, later = complaint(make, "先处理的投诉", "resolved"), complaint(make, "后处理的投诉", "resolved")
    earlier.resolved_at, later.resolved_at = utcnow().replace(year=2025), utcnow()
    db.session.commit()
    html = text_of(client.get("/admin/complaints?status=resolved"))
    assert html.index("后处理的投诉") < html.index("先处理的投诉")


def test_complaint_search_matches_order_number_provider_and_buyer(client, make, signed_in):
    person = make.user(Role.INDIVIDUAL)
    person.name = "王小明"
    complaint(make, "按订单号找到", order_no="CXQ20260101ABCD")
    complaint(make, "按服务单位找到", provider=make.provider(name="紫金山检测中心"))
    complaint(make, "按买家单位找到", buyer=named(make.enterprise(), "玄武湖科技有限公司"))
    complaint(make, "按买家姓名找到", buyer=person)
    searches = {"0101abcd": "按订单号找到", "紫金山": "按服务单位找到", "玄武湖科技": "按买家单位找到",
                "王小明": "按买家姓名找到"}
    for q, wanted in searches.items():
        html = text_of(client.get("/admin/complaints", query_string={"q": q}))
        assert [found for found in searches.values() if found in html] == [wanted], q


def test_complaint_search_keeps_the_tab_and_the_tabs_keep_the_search(client, make, signed_in):
    complaint(make, "紫金山的待处理投诉", provider=make.provider(name="紫金山检测中心"))
    complaint(make, "紫金山的已处理投诉", "resolved", provider=make.provider(name="紫金山分析所"))
    html = text_of(client.get("/admin/complaints?status=resolved&q=紫金山"))
    assert "紫金山的已处理投诉" in html and "紫金山的待处理投诉" not in html
    assert tab_links(html)["全部"] == {"status": "all", "q": "紫金山"}
    assert 'name="status" value="resolved"' in html


# ---------------------------------------------------------------- 兑付异议

def test_objections_open_on_the_waiting_ones_and_the_tabs_split_them(client, make, signed_in, reviewer):
    enterprise, someone = claimant(make), lodger(make, "李异议")
    objection(make, enterprise, someone, "第一条异议", settled_by=reviewer)
    objection(make, enterprise, someone, "第二条异议")
    html = text_of(client.get("/admin/objections"))
    assert current_tab(html) == "待处理" and list(tab_links(html)) == ["待处理", "已处理", "全部"]
    assert "第二条异议" in html and "第一条异议" not in html
    html = text_of(client.get("/admin/objections?status=resolved"))
    assert "第一条异议" in html and "第二条异议" not in html
    html = text_of(client.get("/admin/objections?status=all"))
    assert html.index("第二条异议") < html.index("第一条异议")


def test_objection_search_matches_the_claimant_and_the_lodger(client, make, signed_in):
    quiet = lodger(make, "赵旁人")
    objection(make, named(claimant(make), "玄武湖科技有限公司"), quiet, "按申请企业找到")
    objection(make, claimant(make), lodger(make, "李异议"), "按提出人姓名找到")
    objection(make, claimant(make), named(make.enterprise(), "栖霞山材料有限公司"), "按提出人单位找到")
    searches = {"玄武湖科技": "按申请企业找到", "李异议": "按提出人姓名找到", "栖霞山材料": "按提出人单位找到"}
    for q, wanted in searches.items():
        html = text_of(client.get("/admin/objections", query_string={"q": q}))
        assert [found for found in searches.values() if found in html] == [wanted], q


def test_objection_search_keeps_the_tab(client, make, signed_in, reviewer):
    enterprise = claimant(make)
    objection(make, enterprise, lodger(make, "李异议"), "已处理的异议", settled_by=reviewer)
    objection(make, enterprise, lodger(make, "李异议"), "待处理的异议")
    html = text_of(client.get("/admin/objections?status=resolved&q=李异议"))
    assert "已处理的异议" in html and "待处理的异议" not in html and current_tab(html) == "已处理"
    assert tab_links(html)["待处理"] == {"status": "open", "q": "李异议"}
    html = text_of(client.get("/admin/objections?q=没有这个人"))
    assert "没有待处理的兑付异议（符合“没有这个人”）" in html


# ---------------------------------------------------------------- what the three share

def two_matching(make, kind: str) -> str:
    """Two items of `kind` that the search "紫金山" finds on the waiting tab and one it does not; the search's URL."""
    if kind == "shops":
        shop(make, "紫金山检测中心")
        shop(make, "紫金山分析所")
        shop(make, "栖霞山检测中心")
    elif kind == "complaints":
        hill = make.provider(name="紫金山检测中心")
        complaint(make, "投诉一", provider=hill)
        complaint(make, "投诉二", provider=hill)
        complaint(make, "投诉三")
    else:
        enterprise, hill = claimant(make), lodger(make, "紫金山")
        objection(make, enterprise, hill, "异议一")
        objection(make, enterprise, hill, "异议二")
        objection(make, enterprise, lodger(make, "栖霞山"), "异议三")
    return f"/admin/{kind}?q=紫金山"


@pytest.mark.parametrize("kind", list(LISTS))
def test_paging_keeps_the_search_and_the_tab(client, make, signed_in, per_page_one, kind):
    url = two_matching(make, kind)
    first = text_of(client.get(url))
    assert "共 <strong>2</strong>" in first
    following = next_page(first)
    assert following["q"] == "紫金山" and following["page"] == "2" and following["status"] in ("pending", "open")
    second = text_of(client.get(url + "&page=2&status=" + following["status"]))
    assert 'rel="prev"' in second and 'rel="next"' not in second and current_tab(second) in ("审核中", "待处理")


@pytest.mark.parametrize("kind", list(LISTS))
def test_htmx_gets_the_list_alone_and_a_browser_the_whole_page(client, make, signed_in, per_page_one, kind):
    url = two_matching(make, kind)
    fragment = text_of(client.get(url, headers=HTMX))
    assert fragment.lstrip().startswith(f'<div id="{LISTS[kind]}" hx-swap="outerHTML">')
    assert "<html" not in fragment and 'class="crumbs"' not in fragment
    assert f'hx-target="#{LISTS[kind]}"' in fragment and 'hx-push-url="true"' in fragment
    response = client.get(url)
    page = text_of(response)
    assert "<html" in page and f'<div id="{LISTS[kind]}"' in page and 'class="crumbs"' in page
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.parametrize("kind", list(LISTS))
def test_the_lists_carry_the_keyboard_hooks_that_stay_hidden_without_javascript(client, make, signed_in, kind):
    two_matching(make, kind)
    page = text_of(client.get(f"/admin/{kind}"))
    assert "js/admin-keys.js" in page and 'data-kb-search' in page
    assert re.search(r'<table class="list[^"]*" data-kb-rows>', page)
    assert "<p class=\"hint\" data-kb-hint hidden>快捷键：j/k 上下移动 · o 打开 · / 搜索</p>" in page


@pytest.mark.parametrize("kind", list(LISTS))
def test_the_search_form_works_without_javascript(client, make, signed_in, kind):
    page = text_of(client.get(f"/admin/{kind}"))
    form = re.search(r'<form class="filters" method="get" action="([^"]+)" role="search"', page)
    assert form and form.group(1) == f"/admin/{kind}"
    assert 'type="search" name="q"' in page
