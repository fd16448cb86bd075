"""Provider exit (SPEC 1.6), end to end through HTTP: a reviewer removes a provider with a recorded reason; its
listings vanish from search and the home page, the cart and checkout refuse its services, its shop page stays
with a 已退出 notice, the audit log has the entry, and a reinstatement brings everything back."""
import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (
    AuditLog,
    CartLine,
    Complaint,
    Order,
    OrderStatus,
    Provider,
    Rating,
    Redemption,
    ShopStatus,
    utcnow,
)
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims

from .conftest import NOT_REVIEWERS, Auth, sign_in_as

HX = {"HX-Request": "true"}
REASON = "经查实采取虚开发票方式申领省创新券资金"


def remove(client, provider: Provider, kind: str = "cheating", reason: str = REASON, **kwargs):
    return client.post(f"/admin/providers/{provider.id}/remove", data={"kind": kind, "reason": reason}, **kwargs)


def reinstate(client, provider: Provider, reason: str = "复核后撤销退出决定", **kwargs):
    return client.post(f"/admin/providers/{provider.id}/reinstate", data={"reason": reason}, **kwargs)


def found_in_search(client, service, htmx: bool = False) -> bool:
    response = client.get("/services", query_string={"q": service.name}, headers=HX if htmx else {})
    assert response.status_code == 200
    return f'href="/services/{service.id}"' in response.get_data(as_text=True)


def reread(model, key):
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, key)


@pytest.fixture
def buyer_client(app, enterprise):
    """A second browser: the enterprise shopping while the reviewer works in `client`."""
    other = app.test_client()
    Auth(other).login(enterprise)
    return other


# ---------------------------------------------------------------- the whole story

@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_a_removed_providers_listing_vanishes_from_search_and_returns_on_reinstatement(client, auth, reviewer,
                                                                                       listed_service, htmx):
    provider = listed_service.provider
    assert found_in_search(client, listed_service, htmx)
    auth.login(reviewer)
    assert remove(client, provider).status_code == 303
    assert not found_in_search(client, listed_service, htmx)
    assert reinstate(client, provider).status_code == 303
    assert found_in_search(client, listed_service, htmx)


def test_a_removed_providers_listing_leaves_the_home_page(client, auth, reviewer, listed_service):
    link = f'href="/services/{listed_service.id}"'
    assert link in client.get("/").get_data(as_text=True)
    auth.login(reviewer)
    remove(client, listed_service.provider)
    assert link not in client.get("/").get_data(as_text=True)


def test_removal_takes_the_listing_off_its_page_but_keeps_the_shop_page_with_a_notice(client, auth, reviewer,
                                                                                      listed_service):
    auth.login(reviewer)
    remove(client, listed_service.provider)
    detail = client.get(f"/services/{listed_service.id}")
    assert detail.status_code == 404 and "已下架" in detail.get_data(as_text=True)
    shop = client.get(f"/shops/{listed_service.provider_id}")
    assert shop.status_code == 200 and "已退出" in shop.get_data(as_text=True)


def test_checkout_refuses_a_service_put_in_the_cart_before_its_provider_was_removed(client, auth, reviewer,
                                                                                    buyer_client, listed_service):
    added = buyer_client.post("/cart/add", data={"service_id": listed_service.id, "quantity": "1"})
    assert added.status_code == 303
    auth.login(reviewer)
    remove(client, listed_service.provider)

    refused = buyer_client.post("/checkout", data={}, follow_redirects=True)
    assert "已下架或所属店铺已关闭，不能下单" in refused.get_data(as_text=True)
    assert refused.request.path == "/cart"
    assert "已下架或所属店铺已关闭" in buyer_client.get("/checkout", follow_redirects=True).get_data(as_text=True)
    assert db.session.scalar(select(func.count(Order.id))) == 0


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_cart_refuses_a_removed_providers_service(client, auth, reviewer, buyer_client, listed_service, htmx):
    auth.login(reviewer)
    remove(client, listed_service.provider)
    response = buyer_client.post("/cart/add", data={"service_id": listed_service.id, "quantity": "1"},
                                 headers=HX if htmx else {}, follow_redirects=not htmx)
    assert response.status_code == (409 if htmx else 200)
    assert "所属店铺已关闭，不能下单" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CartLine.id))) == 0


def test_removal_is_in_the_audit_log_with_the_reason_kind_and_the_reviewer(client, auth, reviewer, listed_service):
    provider = listed_service.provider
    auth.login(reviewer)
    remove(client, provider, kind="complaints", reason="一年内投诉9次，均经核实")
    entry = db.session.scalar(select(AuditLog).where(AuditLog.object_type == "provider",
                                                     AuditLog.object_id == str(provider.id),
                                                     AuditLog.action == "remove"))
    assert (entry.from_state, entry.to_state, entry.actor_id) == (ShopStatus.OPEN, ShopStatus.REMOVED, reviewer.id)
    assert entry.reason == "投诉多、评价差：一年内投诉9次，均经核实"
    page = client.get(f"/admin/audit?object=provider:{provider.id}").get_data(as_text=True)
    assert "投诉多、评价差：一年内投诉9次，均经核实" in page and "已开店 → 已退出" in page


def test_removal_records_status_reason_and_time_and_reinstatement_clears_them(client, auth, reviewer, listed_service):
    provider_id = listed_service.provider_id
    auth.login(reviewer)
    remove(client, listed_service.provider, kind="other", reason="资质证书过期未续")
    provider = reread(Provider, provider_id)
    assert provider.status == ShopStatus.REMOVED and provider.removed_at is not None
    assert provider.status_reason == "其他原因：资质证书过期未续"
    reinstate(client, provider, reason="已换发新证")
    provider = reread(Provider, provider_id)
    assert (provider.status, provider.removed_at, provider.status_reason) == (ShopStatus.OPEN, None, None)
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "reinstate"))
    assert (entry.object_id, entry.from_state, entry.to_state, entry.reason) == (
        str(provider_id), ShopStatus.REMOVED, ShopStatus.OPEN, "已换发新证")


def test_orders_waiting_for_acceptance_stay_as_they_are_and_the_reviewer_is_told(client, auth, make, reviewer,
                                                                                  enterprise, listed_service):
    order = make.order(enterprise, listed_service)
    auth.login(reviewer)
    page = client.get(f"/admin/providers/{listed_service.provider_id}").get_data(as_text=True)
    assert "尚有 1 笔待接单订单保持原状" in page
    remove(client, listed_service.provider)
    assert reread(Order, order.id).status == OrderStatus.PENDING


def test_removing_a_pilot_ends_the_pilot_so_its_buyers_claims_go_to_the_reviewer(client, auth, make, reviewer,
                                                                                  enterprise, listed_service):
    provider = listed_service.provider
    provider.is_pilot = True
    db.session.commit()
    make.voucher(enterprise)
    order = make.order(enterprise, listed_service)
    order_lifecycle.act(order, "accept", provider.user)
    db.session.commit()
    claim = make.claim(enterprise, order=order)
    assert claims.is_pilot_claim(claim)
    auth.login(reviewer)
    page = client.get(f"/admin/providers/{provider.id}").get_data(as_text=True)
    assert "退出同时取消试点" in page
    assert remove(client, provider).status_code == 303
    claim = reread(Redemption, claim.id)
    assert not claim.order.provider.is_pilot and not claims.is_pilot_claim(claim)
    with pytest.raises(claims.Refused):
        claims.provider_confirm(claim, provider.user)
    db.session.rollback()
    assert (db.session.scalar(select(AuditLog.reason).where(AuditLog.action == "pilot_off"))
            == "随退出取消服务承诺制试点")


# ---------------------------------------------------------------- the answers

def test_removal_answers_htmx_with_the_exit_panel_showing_the_reinstatement_form(client, auth, reviewer, provider):
    auth.login(reviewer)
    response = remove(client, provider.provider, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="provider-exit"' in html and "已退出" in html and "恢复该服务单位" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("data, missing", [({"reason": REASON}, "请选择退出原因类别"),
                                           ({"kind": "cheating", "reason": "  "}, "请填写退出的具体说明"),
                                           ({"kind": "bribery", "reason": REASON}, "不是有效的选择")])
def test_removal_without_a_reason_is_refused_with_the_input_kept(client, auth, reviewer, provider, data, missing,
                                                                 htmx):
    auth.login(reviewer)
    response = client.post(f"/admin/providers/{provider.provider.id}/remove", data=data, headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'class="error"' in html and missing in html
    if data["reason"].strip():
        assert data["reason"] in html
    assert reread(Provider, provider.provider.id).status == ShopStatus.OPEN
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "remove")) == 0


def test_reinstatement_without_a_reason_is_refused(client, auth, reviewer, make):
    removed = make.provider(shop_status=ShopStatus.REMOVED).provider
    auth.login(reviewer)
    response = reinstate(client, removed, reason="")
    assert response.status_code == 422 and "请填写恢复的原因" in response.get_data(as_text=True)
    assert reread(Provider, removed.id).status == ShopStatus.REMOVED


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
@pytest.mark.parametrize("shop_status, move, message", [
    (ShopStatus.REMOVED, remove, "该服务单位已经退出，不能重复退出"),
    (ShopStatus.PENDING, remove, "只有已开店的服务单位可以办理退出"),
    (ShopStatus.OPEN, reinstate, "只有已退出的服务单位可以恢复"),
])
def test_illegal_moves_are_refused_with_409_and_the_reason(client, auth, reviewer, make, shop_status, move, message,
                                                           htmx):
    target = make.provider(shop_status=shop_status).provider
    auth.login(reviewer)
    response = move(client, target, headers=HX if htmx else {})
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    assert reread(Provider, target.id).status == shop_status
    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.object_type == "provider")) == 0


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/providers"), ("get", "/admin/providers/{id}"),
                                          ("post", "/admin/providers/{id}/remove"),
                                          ("post", "/admin/providers/{id}/reinstate")])
def test_only_reviewers_manage_provider_exit(client, auth, make, listed_service, who, expected, method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(id=listed_service.provider_id),
                                       data={"kind": "cheating", "reason": REASON})
    assert response.status_code == expected
    assert reread(Provider, listed_service.provider_id).status == ShopStatus.OPEN


# ---------------------------------------------------------------- the list and the detail page

def rate(make, buyer, service, score: int, complaint: str | None = None, complaint_status: str = "open") -> None:
    order = make.order(buyer, service, status=OrderStatus.COMPLETED)
    db.session.add(Rating(order_id=order.id, provider_id=service.provider_id, user_id=buyer.id, score=score))
    if complaint:
        db.session.add(Complaint(order_id=order.id, provider_id=service.provider_id, user_id=buyer.id,
                                 reason=complaint, status=complaint_status, created_at=utcnow()))
    db.session.commit()


@pytest.fixture
def two_providers(make, enterprise):
    """A well-rated provider and one with two complaints (one open) and poor ratings."""
    good = make.service(make.provider(name="江苏省好评检测中心").provider, name="X射线衍射物相分析")
    poor = make.service(make.provider(name="某某差评检测公司").provider, name="粒度分布测试")
    rate(make, enterprise, good, 5)
    rate(make, enterprise, good, 4)
    rate(make, enterprise, poor, 2, "报告迟迟不出，联系不上")
    rate(make, enterprise, poor, 1, "收费高于报价", complaint_status="resolved")
    return good.provider, poor.provider


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "fragment"])
def test_the_provider_list_shows_ratings_complaints_and_orders_worst_first(client, auth, reviewer, two_providers,
                                                                          htmx):
    good, poor = two_providers
    auth.login(reviewer)
    response = client.get("/admin/providers", headers=HX if htmx else {})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ("<html" in html) != htmx
    assert html.index(poor.name) < html.index(good.name)
    poor_row = html[html.index(f'id="provider-{poor.id}"'):html.index(f'id="provider-{good.id}"')]
    assert ("1.5 ★" in poor_row and "（2条评价）" in poor_row and ">1 / 2</td>" in poor_row
            and '订单数">2</td>' in poor_row)
    assert "4.5 ★" in html[html.index(f'id="provider-{good.id}"'):]


def test_the_provider_list_sorts_by_rating_and_filters_by_status_and_name(client, auth, reviewer, make,
                                                                          two_providers):
    good, poor = two_providers
    removed = make.provider(shop_status=ShopStatus.REMOVED, name="已退出的检测站").provider
    auth.login(reviewer)
    by_rating = client.get("/admin/providers?sort=rating").get_data(as_text=True)
    assert by_rating.index(poor.name) < by_rating.index(good.name) and removed.name not in by_rating
    only_removed = client.get("/admin/providers?status=removed").get_data(as_text=True)
    assert removed.name in only_removed and good.name not in only_removed
    everyone = client.get("/admin/providers?status=all").get_data(as_text=True)
    assert all(p.name in everyone for p in (good, poor, removed))
    named = client.get("/admin/providers", query_string={"q": "好评"}).get_data(as_text=True)
    assert good.name in named and poor.name not in named


def test_the_provider_list_is_paged(client, auth, reviewer, app, make):
    app.config["PER_PAGE"] = 2
    for n in range(3):
        make.provider(name=f"分页检测中心{n}")
    auth.login(reviewer)
    first = client.get("/admin/providers?sort=name").get_data(as_text=True)
    second = client.get("/admin/providers?sort=name&page=2").get_data(as_text=True)
    assert "分页检测中心0" in first and "分页检测中心1" in first and "分页检测中心2" not in first
    assert "分页检测中心2" in second and 'hx-push-url="true"' in first


def test_the_detail_page_shows_complaint_texts_rating_listings_and_the_removal_form(client, auth, reviewer,
                                                                                 two_providers):
    _, poor = two_providers
    poor.is_pilot = True
    db.session.commit()
    auth.login(reviewer)
    html = client.get(f"/admin/providers/{poor.id}").get_data(as_text=True)
    assert "报告迟迟不出，联系不上" in html and "收费高于报价" in html
    assert "1.5 ★" in html and "上架服务</dt><dd>1 项" in html and "服务承诺制试点" in html
    assert 'name="kind"' in html and "hx-confirm" in html and "确认退出" in html
    assert f'/admin/audit?object=provider:{poor.id}' in html


def test_the_shop_review_page_links_to_provider_exit(client, auth, reviewer, provider):
    auth.login(reviewer)
    html = client.get(f"/admin/shops/{provider.provider.id}").get_data(as_text=True)
    assert f'/admin/providers/{provider.provider.id}"' in html
