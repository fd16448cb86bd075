"""The pick-lists of /admin/publicity (待公示) and /admin/payments (待兑付): paged oldest first, searchable by
enterprise, order number and provider, 拨付 also by the enterprise's registered city; the filters stay on every
link, on 全选本页 and on the batch form, so ticking claims on page 2 publishes or pays exactly those. htmx gets the
list alone; without it the whole page. The batches below page with their own argument. Also the claim queue's
note and keyboard hooks."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from marketplace.extensions import db
from marketplace.models import Redemption, RedemptionStatus as R, china_today
from marketplace.redemption import settlement

HTMX = {"HX-Request": "true"}


def text_of(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="claim-(\d+)">', html)]


def ticked(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="claim_id" value="(\d+)" id="choose-\d+" checked', html)]


def query_of(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(unescape(href)).query).items()}


def link(html: str, label: str) -> dict[str, str]:
    """The arguments of the (first) link whose text is `label`."""
    return query_of(re.search(rf'<a href="([^"]+)"[^>]*>{label}</a>', html)[1])


def form_action(html: str, form_id: str) -> dict[str, str]:
    return query_of(re.search(rf'<form id="{form_id}" method="post" action="([^"]+)"', html)[1])


def fresh(claim_id: int) -> Redemption:
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Redemption, claim_id)


def claim_of(make, status: str, city: str = "南京", enterprise: str | None = None,
             provider: str | None = None) -> Redemption:
    """A claim in `status` of a new enterprise registered in `city`, named as given (names the counters of the
    factory make could be prefixes of one another)."""
    user = make.enterprise(city=city)
    make.voucher(user)
    claim = make.claim(user, status=status)
    if enterprise:
        claim.enterprise.name = enterprise
    if provider:
        claim.order.provider.name = provider
    db.session.commit()
    return claim


@pytest.fixture
def as_reviewer(auth, reviewer):
    auth.login(reviewer)
    return reviewer


@pytest.fixture
def three_approved(app, make):
    app.config["PER_PAGE"] = 2
    return [claim_of(make, R.APPROVED) for _ in range(3)]


@pytest.fixture
def three_awaiting(app, make):
    app.config["PER_PAGE"] = 2
    return [claim_of(make, R.AWAITING_PAYMENT, city) for city in ("南京", "徐州", "徐州")]


# ---------------------------------------------------------------- paging

@pytest.mark.parametrize("path, fixture", [("/admin/publicity", "three_approved"),
                                           ("/admin/payments", "three_awaiting")])
def test_each_pick_list_pages_its_claims_oldest_first(request, as_reviewer, client, path, fixture):
    made = [claim.id for claim in request.getfixturevalue(fixture)]
    first, second = text_of(client.get(path)), text_of(client.get(f"{path}?page=2"))
    assert rows(first) + rows(second) == made
    assert "共 <strong>3</strong> 项" in first and 'rel="next"' in first and "共 2 页" in first


def test_there_is_no_cap_on_how_many_claims_wait(client, as_reviewer, make, app):
    app.config["PER_PAGE"] = 1
    made = [claim_of(make, R.APPROVED).id for _ in range(2)]
    assert rows(text_of(client.get("/admin/publicity?page=2"))) == made[1:]


# ---------------------------------------------------------------- search and city

@pytest.mark.parametrize("path, status", [("/admin/publicity", R.APPROVED), ("/admin/payments", R.AWAITING_PAYMENT)])
def test_the_search_box_finds_claims_by_enterprise_order_number_or_provider(client, as_reviewer, make, path, status):
    wanted = claim_of(make, status, enterprise="苏州纳米材料有限公司", provider="东南大学分析测试中心")
    other = claim_of(make, status)
    assert rows(text_of(client.get(path))) == [wanted.id, other.id]
    for q in ("纳米材料", "东南大学", wanted.order.order_no, wanted.order.order_no.lower()):
        page = text_of(client.get(path, query_string={"q": q}))
        assert rows(page) == [wanted.id] and f'value="{q}"' in page
    nothing = text_of(client.get(path, query_string={"q": "不存在的单位"}))
    assert rows(nothing) == [] and "（符合筛选条件）" in nothing


def test_payments_filter_by_the_enterprises_registered_city(client, as_reviewer, three_awaiting):
    nanjing, *xuzhou = three_awaiting
    page = text_of(client.get("/admin/payments?city=徐州"))
    assert rows(page) == [c.id for c in xuzhou] and '<option value="徐州" selected>徐州</option>' in page
    assert rows(text_of(client.get("/admin/payments?city=南京"))) == [nanjing.id]
    assert rows(text_of(client.get("/admin/payments?city=火星&page=2"))) == [xuzhou[1].id]  # unknown: every city


def test_a_city_stored_with_its_suffix_is_found_by_the_short_name(client, as_reviewer, make):
    claim = claim_of(make, R.AWAITING_PAYMENT, "南通")
    claim.voucher.application.registered_city = "南通市"
    db.session.commit()
    assert rows(text_of(client.get("/admin/payments?city=南通"))) == [claim.id]


# ---------------------------------------------------------------- filters kept

def test_pager_select_all_and_the_batch_form_keep_the_filters(client, as_reviewer, three_awaiting, app):
    app.config["PER_PAGE"] = 1  # the two 徐州 claims on two pages
    first = text_of(client.get("/admin/payments?city=徐州&q=测试"))
    assert link(first, "下一页") == {"city": "徐州", "q": "测试", "page": "2"}
    assert link(first, "全选本页") == {"city": "徐州", "q": "测试", "page": "1", "all": "1"}
    assert link(first, "全不选") == {"city": "徐州", "q": "测试", "page": "1"}
    second = text_of(client.get("/admin/payments?city=徐州&q=测试&page=2"))
    assert form_action(second, "pay-claims") == {"city": "徐州", "q": "测试", "page": "2"}


def test_select_all_ticks_this_page_only_without_javascript(client, as_reviewer, three_approved):
    first, second, third = (c.id for c in three_approved)
    page = text_of(client.get("/admin/publicity?page=2&all=1"))
    assert rows(page) == [third] and ticked(page) == [third]
    assert ticked(text_of(client.get("/admin/publicity?all=1"))) == [first, second]
    assert ticked(text_of(client.get("/admin/publicity?page=2"))) == []


def test_checkboxes_join_the_batch_form_that_follows_the_list(client, as_reviewer, three_approved):
    page = text_of(client.get("/admin/publicity"))
    assert f'<input type="checkbox" form="publish-claims" name="claim_id" value="{three_approved[0].id}"' in page
    assert page.index("</table>") < page.index('<form id="publish-claims"')


# ---------------------------------------------------------------- the batch of page 2

def test_publishing_the_claims_ticked_on_page_2_publishes_those_alone(client, as_reviewer, three_approved):
    first, second, third = three_approved
    response = client.post("/admin/publicity?page=2&q=测试", data={"claim_id": [str(third.id)], "days": "5"})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/publicity?q=%E6%B5%8B%E8%AF%95"
    assert fresh(third.id).status == R.PUBLICITY
    assert [fresh(c.id).status for c in (first, second)] == [R.APPROVED, R.APPROVED]


def test_paying_the_claims_ticked_on_page_2_pays_those_alone(client, as_reviewer, three_awaiting):
    nanjing, xuzhou, later = three_awaiting
    response = client.post("/admin/payments?page=2", data={
        "claim_id": [str(later.id)], "paid_on": china_today().isoformat(), "reference": "GK2026-0002"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/payments/")
    assert fresh(later.id).status == R.PAID
    assert [fresh(c.id).status for c in (nanjing, xuzhou)] == [R.AWAITING_PAYMENT, R.AWAITING_PAYMENT]


def test_a_refused_batch_comes_back_on_its_page_with_its_ticks_and_filters(client, as_reviewer, three_awaiting):
    later = three_awaiting[2]
    response = client.post("/admin/payments?city=徐州&page=1", data={
        "claim_id": [str(later.id)], "paid_on": china_today().isoformat(), "reference": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写拨付凭证号" in page
    assert rows(page) == [c.id for c in three_awaiting[1:]] and ticked(page) == [later.id]
    assert '<option value="徐州" selected>徐州</option>' in page and "<html" in page
    assert fresh(later.id).status == R.AWAITING_PAYMENT


def test_nothing_ticked_is_answered_next_to_the_list(client, as_reviewer, three_approved):
    response = client.post("/admin/publicity?page=2", data={"days": "5"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="publish-claims-error" role="alert">请勾选要公示的兑付申请' in page
    assert rows(page) == [three_approved[2].id]


# ---------------------------------------------------------------- htmx and the full page

@pytest.mark.parametrize("path, list_id", [("/admin/publicity", "publish-list"), ("/admin/payments", "pay-list")])
def test_htmx_gets_the_list_alone_and_the_same_url_gets_the_page(client, as_reviewer, three_approved, path, list_id):
    fragment = text_of(client.get(f"{path}?q=测试", headers=HTMX))
    assert fragment.lstrip().startswith(f'<div id="{list_id}" hx-swap="outerHTML">') and "<html" not in fragment
    assert f'hx-target="#{list_id}" hx-push-url="true"' in fragment and 'id="batches"' not in fragment
    page = text_of(client.get(f"{path}?q=测试"))
    assert "<html" in page and f'<div id="{list_id}"' in page and 'id="batches"' in page
    assert '<script src="/static/js/admin-keys.js" defer></script>' in page and "data-kb-hint hidden" in page
    assert "data-kb-rows" in text_of(client.get("/admin/publicity")) and "data-kb-search" in page


def test_the_batches_page_with_their_own_argument_and_keep_the_list_filters(client, as_reviewer, make, reviewer, app):
    older, newer = claim_of(make, R.APPROVED), claim_of(make, R.APPROVED)
    settlement.publish([older], reviewer, days=5)
    settlement.publish([newer], reviewer, days=5)
    waiting = claim_of(make, R.APPROVED)
    app.config["PER_PAGE"] = 1
    page = text_of(client.get("/admin/publicity?q=测试&batches=2"))
    assert f'id="publicity-batch-{fresh(older.id).publicity_batch_id}"' in page
    assert f'id="publicity-batch-{fresh(newer.id).publicity_batch_id}"' not in page
    assert rows(page) == [waiting.id]  # the pick-list's page is its own
    batches_pager = page.split('id="batches"')[1]
    assert query_of(re.search(r'<a href="([^"]+)"[^>]*rel="prev"', batches_pager)[1]) == {
        "q": "测试", "page": "1", "batches": "1"}
    assert form_action(page, "publish-claims") == {"q": "测试", "batches": "2", "page": "1"}


# ---------------------------------------------------------------- the claim queue

def test_the_claim_queue_says_claims_are_reviewed_one_by_one_and_has_the_keyboard_hooks(client, as_reviewer, make):
    claim = claim_of(make, R.SUBMITTED, provider="东南大学分析测试中心")
    page = text_of(client.get("/admin/redemptions"))
    assert "兑付申请需逐件审核，不能批量通过" in page
    assert '<script src="/static/js/admin-keys.js" defer></script>' in page
    assert '<p class="hint" data-kb-hint hidden>快捷键：j/k 上下移动 · o 打开 · / 搜索</p>' in page
    assert "data-kb-rows" in page and "data-kb-search" in page
    found = text_of(client.get("/admin/redemptions?q=东南大学", headers=HTMX))
    assert f'id="redemption-{claim.id}"' in found
