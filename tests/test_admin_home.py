"""The reviewer's home and the queues it leads to: counts and waiting times by area, filters and paging,
bulk approval of accounts and listings, and keyboard shortcuts that the pages do not depend on."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.admin.queues import AREAS, OTHER, Queue, waiting_time
from marketplace.extensions import db
from marketplace.models import AccountStatus, AuditLog, Role, Service, ServiceStatus, ShopStatus, User, utcnow

from .conftest import NOT_REVIEWERS, sign_in_as

CARD = re.compile(r'<a class="queue" href="(?P<href>[^"]+)">\s*<strong>(?P<count>\d+)</strong>'
                  r'<span>(?P<label>[^<]+)</span>\s*<small>(?P<note>[^<]*)</small>')
HINT = "快捷键：j/k 上下移动 · x 勾选 · o 打开 · / 搜索"


def text_of(response) -> str:
    return response.get_data(as_text=True)


def cards(html: str) -> dict[str, dict]:
    return {match["label"]: match.groupdict() for match in CARD.finditer(html)}


def audited(object_type: str, action: str) -> list[tuple[str, str, str]]:
    entries = db.session.scalars(select(AuditLog).where(AuditLog.object_type == object_type, AuditLog.action == action)
                                 .order_by(AuditLog.id))
    return [(entry.object_id, entry.from_state, entry.to_state) for entry in entries]


def waiting_since(item, column: str, **ago) -> None:
    setattr(item, column, utcnow() - timedelta(**ago))
    db.session.commit()


def pending_listing(make, name: str = "透射电镜分析", provider=None) -> Service:
    provider = provider or make.provider()
    return make.service(provider.provider, name=name, status=ServiceStatus.PENDING)


# ---------------------------------------------------------------- the home

def test_home_shows_each_queues_count_and_how_long_its_oldest_item_has_waited(client, auth, make, reviewer):
    oldest, newer = make.enterprise(status=AccountStatus.PENDING), make.user(Role.INDIVIDUAL, AccountStatus.PENDING)
    waiting_since(oldest, "created_at", days=3, hours=2)
    waiting_since(newer, "created_at", hours=1)
    waiting_since(pending_listing(make), "updated_at", hours=5)
    claimant = make.enterprise()
    make.voucher(claimant)
    waiting_since(make.claim(claimant), "submitted_at", days=2)
    auth.login(reviewer)

    found = cards(text_of(client.get("/admin/")))

    assert found["待审核账号"]["count"] == "2" and found["待审核账号"]["note"].endswith("已等待 3 天")
    assert found["待审核账号"]["note"].startswith("最早提交：")
    assert found["待审核服务上架"]["count"] == "1" and found["待审核服务上架"]["note"].endswith("已等待 5 小时")
    assert found["兑付审核"]["count"] == "1" and found["兑付审核"]["note"].endswith("已等待 2 天")
    assert found["待审核创新券申请"]["count"] == "0" and found["待审核创新券申请"]["note"] == "队列已清空"
    assert found["待审核账号"]["href"] == "/admin/accounts"


def test_home_groups_the_queues_by_area_in_a_fixed_order(client, auth, reviewer):
    auth.login(reviewer)
    html = text_of(client.get("/admin/"))
    areas = re.findall(r'<h2 id="area-\d+">([^<]+)</h2>', html)
    assert areas[:5] == ["账号与开店", "服务上架", "创新券申领", "兑付", "投诉"]
    labels = list(cards(html))
    expected = ["待审核账号", "待审核开店申请", "公示中的开店申请", "待审核服务上架", "待审核创新券申请",
                "兑付审核", "待公示", "兑付异议", "待拨付", "待处理投诉"]
    assert [label for label in labels if label in expected] == expected
    assert "不能批量通过" in html


def test_a_queue_registered_with_an_area_goes_there_and_one_without_comes_last(app):
    assert (Queue("专家复核", "admin.expert_reviews", User.created_at, area="兑付", position=9).placement()
            == (AREAS[3], 9))
    assert Queue("其他事项", "admin.something_new", User.created_at).placement() == (OTHER, 0)


@pytest.mark.parametrize("waited, text", [(timedelta(minutes=20), "已等待不到 1 小时"),
                                          (timedelta(hours=23, minutes=59), "已等待 23 小时"),
                                          (timedelta(days=1), "已等待 1 天"),
                                          (timedelta(days=40, hours=5), "已等待 40 天")])
def test_the_waiting_time_is_whole_days_after_a_day_else_whole_hours(waited, text):
    now = datetime(2026, 3, 1, 8, 0)
    assert waiting_time(now - waited, now) == text


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("kind", ["accounts", "listings"])
def test_only_approved_reviewers_approve_in_bulk(client, auth, make, who, expected, kind):
    account, listing = make.enterprise(status=AccountStatus.PENDING), pending_listing(make)
    sign_in_as(auth, make, who)
    data = {"user_id": [account.id]} if kind == "accounts" else {"service_id": [listing.id]}
    response = client.post(f"/admin/{kind}/approve", data=data)
    assert response.status_code == expected
    db.session.expire_all()
    assert db.session.get(User, account.id).status == AccountStatus.PENDING
    assert db.session.get(Service, listing.id).status == ServiceStatus.PENDING


@pytest.mark.parametrize("kind", ["accounts", "listings"])
def test_a_bulk_approval_without_the_csrf_token_is_refused(client, auth, make, reviewer, kind):
    account, listing = make.enterprise(status=AccountStatus.PENDING), pending_listing(make)
    auth.login(reviewer)
    data = {"user_id": [account.id]} if kind == "accounts" else {"service_id": [listing.id]}
    assert client.post(f"/admin/{kind}/approve", data=data, csrf=False).status_code == 400
    db.session.expire_all()
    assert db.session.get(User, account.id).status == AccountStatus.PENDING
    assert db.session.get(Service, listing.id).status == ServiceStatus.PENDING


# ---------------------------------------------------------------- accounts

def test_reviewer_approves_several_accounts_at_once_each_audited_and_decided_ones_skipped(client, auth, make,
                                                                                          reviewer):
    first, second, taken = (make.enterprise(status=AccountStatus.PENDING) for _ in range(3))
    auth.login(reviewer)
    client.post(f"/admin/accounts/{taken.id}/reject", data={"reason": "营业执照不清晰"})  # another decision came first

    response = client.post("/admin/accounts/approve", data={"user_id": [first.id, second.id, taken.id]})

    assert response.status_code == 303 and response.headers["Location"].startswith("/admin/accounts")
    assert "已通过 2 项，跳过 1 项（已被处理）" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert [db.session.get(User, user.id).status for user in (first, second, taken)] == ["active", "active", "rejected"]
    assert db.session.get(User, first.id).approved_by_id == reviewer.id
    assert audited("user", "review_account") == [(str(taken.id), "pending", "rejected"),
                                                 (str(first.id), "pending", "active"),
                                                 (str(second.id), "pending", "active")]


def test_approving_an_account_already_decided_changes_nothing(client, auth, make, reviewer):
    """As every reviewer decision on an object decided meanwhile (admin.decisions): 409 with the reason."""
    account = make.enterprise(status=AccountStatus.PENDING)
    auth.login(reviewer)
    client.post(f"/admin/accounts/{account.id}/reject", data={"reason": "信息不全"})
    response = client.post(f"/admin/accounts/{account.id}/approve")
    assert response.status_code == 409
    assert "已被处理" in text_of(response)
    db.session.expire_all()
    assert db.session.get(User, account.id).status == AccountStatus.REJECTED
    assert audited("user", "review_account") == [(str(account.id), "pending", "rejected")]


def test_a_bulk_approval_comes_back_to_the_filtered_list_it_was_made_from(client, auth, make, reviewer):
    company = make.enterprise(status=AccountStatus.PENDING)
    auth.login(reviewer)
    page = text_of(client.get(f"/admin/accounts?role=enterprise&q={company.email}"))
    action = re.search(r'form id="bulk-accounts" method="post" action="([^"]+)"', page).group(1).replace("&amp;", "&")
    response = client.post(action, data={"user_id": [company.id]})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/accounts?status=pending&role=enterprise&q={company.email}"


def test_a_bulk_approval_with_nothing_ticked_asks_for_a_choice(client, auth, make, reviewer):
    make.enterprise(status=AccountStatus.PENDING)
    auth.login(reviewer)
    response = client.post("/admin/accounts/approve", data={})
    assert response.status_code == 422 and "请勾选要通过的账号" in text_of(response)


def test_select_all_ticks_every_pending_account_on_the_page_without_javascript(client, auth, make, reviewer):
    accounts = [make.enterprise(status=AccountStatus.PENDING) for _ in range(2)]
    auth.login(reviewer)
    plain, everything = text_of(client.get("/admin/accounts")), text_of(client.get("/admin/accounts?all=1"))
    for account in accounts:
        box = f'name="user_id" value="{account.id}" form="bulk-accounts" id="choose-account-{account.id}"'
        assert box + " aria-label" in plain and box + " checked" in everything
    assert 'form id="bulk-accounts" method="post" action="/admin/accounts/approve?status=pending"' in plain
    assert 'href="/admin/accounts?status=pending&amp;page=1&amp;all=1"' in plain


def test_the_account_queue_filters_by_text_and_type(client, auth, make, reviewer):
    company, unit = make.enterprise(status=AccountStatus.PENDING), make.provider(status=AccountStatus.PENDING)
    person = make.user(Role.INDIVIDUAL, AccountStatus.PENDING)
    db.session.commit()
    auth.login(reviewer)
    for q in (company.enterprise.name, company.enterprise.credit_code.lower(), company.email):
        page = text_of(client.get("/admin/accounts", query_string={"q": q}))
        assert company.email in page and unit.email not in page and person.email not in page
    page = text_of(client.get("/admin/accounts", query_string={"q": unit.provider.credit_code}))
    assert unit.email in page and company.email not in page
    page = text_of(client.get("/admin/accounts", query_string={"role": "individual"}))
    assert person.email in page and company.email not in page and unit.email not in page
    assert "没有待审核的账号（符合筛选条件）" in text_of(client.get("/admin/accounts?q=不存在的单位"))


def test_the_account_queue_pages_oldest_first_and_keeps_the_filter(client, auth, make, reviewer, app):
    app.config["PER_PAGE"] = 2
    accounts = [make.enterprise(status=AccountStatus.PENDING) for _ in range(3)]
    for days, account in zip((3, 2, 1), accounts, strict=True):
        waiting_since(account, "created_at", days=days)
    auth.login(reviewer)
    first = text_of(client.get("/admin/accounts?q=example.cn"))
    second = text_of(client.get("/admin/accounts?q=example.cn&page=2"))
    assert accounts[0].email in first and accounts[1].email in first and accounts[2].email not in first
    assert accounts[2].email in second and 'rel="prev"' in second
    assert 'href="/admin/accounts?status=pending&amp;q=example.cn&amp;page=2"' in first


def test_an_account_approved_over_htmx_returns_its_row_with_the_checkbox_column(client, auth, make, reviewer):
    account = make.enterprise(status=AccountStatus.PENDING)
    auth.login(reviewer)
    refused = client.post(f"/admin/accounts/{account.id}/reject", data={"reason": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and f'value="{account.id}" form="bulk-accounts"' in text_of(refused)
    body = text_of(client.post(f"/admin/accounts/{account.id}/approve", headers={"HX-Request": "true"}))
    assert body.lstrip().startswith(f'<tr id="account-{account.id}">') and body.count("<td ") == 7
    assert 'form="bulk-accounts"' not in body  # approved: nothing left to tick


# ---------------------------------------------------------------- listings

def test_reviewer_approves_several_listings_at_once_each_audited_and_decided_ones_skipped(client, auth, make,
                                                                                          reviewer):
    shop = make.provider()
    first, second, taken = (pending_listing(make, name, shop) for name in ("透射电镜", "拉曼光谱", "核磁共振"))
    auth.login(reviewer)
    client.post(f"/admin/listings/{taken.id}/reject", data={"reason": "价格说明不清"})

    response = client.post("/admin/listings/approve", data={"service_id": [first.id, second.id, taken.id]})

    assert response.status_code == 303 and response.headers["Location"] == "/admin/listings"
    assert "已通过 2 项，跳过 1 项（已被处理）" in text_of(client.get("/admin/listings"))
    db.session.expire_all()
    assert [db.session.get(Service, s.id).status for s in (first, second, taken)] == ["listed", "listed", "rejected"]
    assert audited("service", "approve") == [(str(first.id), "pending", "listed"),
                                             (str(second.id), "pending", "listed")]


def test_a_listing_whose_shop_closed_meanwhile_is_skipped_in_bulk(client, auth, make, reviewer):
    closing, open_one = pending_listing(make), pending_listing(make)
    closing.provider.status = ShopStatus.REMOVED
    db.session.commit()
    auth.login(reviewer)
    client.post("/admin/listings/approve", data={"service_id": [closing.id, open_one.id]})
    assert "已通过 1 项，跳过 1 项（已被处理）" in text_of(client.get("/admin/listings"))
    db.session.expire_all()
    assert db.session.get(Service, closing.id).status == ServiceStatus.PENDING


def test_the_listing_queue_offers_select_all_and_asks_for_a_choice(client, auth, make, reviewer):
    listings = [pending_listing(make), pending_listing(make)]
    auth.login(reviewer)
    page = text_of(client.get("/admin/listings?all=1"))
    for listing in listings:
        assert f'value="{listing.id}" form="bulk-listings" id="choose-listing-{listing.id}" checked' in page
    response = client.post("/admin/listings/approve", data={})
    assert response.status_code == 422 and "请勾选要通过的服务" in text_of(response)


def test_the_listing_queue_filters_by_name_provider_and_status(client, auth, make, reviewer):
    electron = pending_listing(make, "场发射电镜形貌分析", make.provider(name="南京大学分析测试中心"))
    raman = pending_listing(make, "激光拉曼光谱", make.provider(name="东南大学测试中心"))
    rejected = make.service(raman.provider, name="X射线衍射物相分析", status=ServiceStatus.REJECTED)
    auth.login(reviewer)
    page = text_of(client.get("/admin/listings", query_string={"q": "南京大学"}))
    assert electron.name in page and raman.name not in page
    page = text_of(client.get("/admin/listings", query_string={"q": raman.provider.credit_code}))
    assert raman.name in page and electron.name not in page
    page = text_of(client.get("/admin/listings?status=rejected"))
    assert rejected.name in page and raman.name not in page and 'form="bulk-listings"' not in page


def test_the_listing_queue_pages_through_long_lists(client, auth, make, reviewer, app):
    app.config["PER_PAGE"] = 2
    shop = make.provider()
    names = [f"服务{n}号" for n in range(3)]
    for hours, name in zip((3, 2, 1), names, strict=True):
        waiting_since(pending_listing(make, name, shop), "updated_at", hours=hours)
    auth.login(reviewer)
    first, second = text_of(client.get("/admin/listings")), text_of(client.get("/admin/listings?page=2"))
    assert names[0] in first and names[1] in first and names[2] not in first
    assert names[2] in second and 'rel="prev"' in second


# ---------------------------------------------------------------- keyboard

@pytest.mark.parametrize("path, check", [("/admin/accounts", True), ("/admin/listings", True),
                                         ("/admin/vouchers", False)])
def test_queue_pages_load_the_shortcut_script_and_hint_at_the_keys(client, auth, make, reviewer, path, check):
    make.enterprise(status=AccountStatus.PENDING)
    pending_listing(make)
    make.voucher_application(make.enterprise(), status="submitted")
    auth.login(reviewer)
    page = text_of(client.get(path))
    assert '<script src="/static/js/admin-keys.js" defer></script>' in page
    hint = HINT if check else HINT.replace(" · x 勾选", "")
    assert f'<p class="hint" data-kb-hint hidden>{hint}</p>' in page  # shown by the script, so never without it
    assert "data-kb-rows" in page and "data-kb-search" in page
    assert client.get("/static/js/admin-keys.js").status_code == 200


def test_voucher_applications_say_they_cannot_be_approved_in_bulk(client, auth, reviewer):
    auth.login(reviewer)
    page = text_of(client.get("/admin/vouchers"))
    assert "不能批量通过" in page and "bulk" not in page
