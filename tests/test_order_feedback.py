"""Ratings and complaints: the buyer rates a finished order once, complains at any time; the reviewer
resolves complaints from a queue; the shop shows its average rating."""
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AuditLog, Complaint, OrderStatus, Rating, utcnow
from marketplace.orders import lifecycle
from marketplace.orders.ratings import ShopRating, ratings_for, shop_rating

HTMX = {"HX-Request": "true"}
REASON = "检测报告迟迟未出，联系服务单位也无人回复。"


@pytest.fixture
def order(make, enterprise, listed_service):
    return make.order(enterprise, listed_service)


def finish(order, provider_user) -> None:
    lifecycle.act(order, "accept", provider_user)
    lifecycle.act(order, "finish", provider_user, amount_fen=order.quote_fen)
    db.session.commit()


def rate(client, order, score="5", comment="服务专业，出报告很快。", headers=None):
    data = {"rating-comment": comment} | ({} if score is None else {"rating-score": score})
    return client.post(f"/orders/{order.order_no}/rating", data=data, headers=headers or {})


def complain(client, order, reason=REASON, headers=None):
    return client.post(f"/orders/{order.order_no}/complaint", data={"complaint-reason": reason},
                       headers=headers or {})


def fresh(model, **where):
    db.session.commit()
    db.session.expire_all()
    return db.session.scalars(select(model).filter_by(**where)).all()


def audited(action: str) -> list[AuditLog]:
    return fresh(AuditLog, action=action)


# ---------------------------------------------------------------- ratings

def test_buyer_rates_a_finished_order_once(client, auth, order, enterprise, provider):
    finish(order, provider)
    auth.login(enterprise)
    assert 'name="rating-score"' in client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    response = rate(client, order, "4")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/me/orders/{order.order_no}#order-feedback"
    [rating] = fresh(Rating)
    assert (rating.order_id, rating.provider_id, rating.user_id, rating.score, rating.comment) == (
        order.id, order.provider_id, enterprise.id, 4, "服务专业，出报告很快。")
    assert [(a.object_id, a.reason) for a in audited("rate")] == [(order.order_no, "4分")]

    page = client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    assert "★★★★☆" in page and 'name="rating-score"' not in page

    again = rate(client, order, "1")
    assert again.status_code == 409 and "只能评价一次" in again.get_data(as_text=True)
    assert [r.score for r in fresh(Rating)] == [4]


def test_a_second_rating_with_htmx_answers_the_panel_with_the_refusal(client, auth, order, enterprise, provider):
    finish(order, provider)
    auth.login(enterprise)
    first = rate(client, order, "5", headers=HTMX)
    assert first.status_code == 200 and "感谢您的评价" in first.get_data(as_text=True)
    assert "<html" not in first.get_data(as_text=True)
    second = rate(client, order, "3", headers=HTMX)
    body = second.get_data(as_text=True)
    assert second.status_code == 409 and 'id="order-feedback"' in body and "只能评价一次" in body


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.IN_SERVICE, OrderStatus.WITHDRAWN])
def test_orders_not_yet_finished_cannot_be_rated(client, auth, make, enterprise, listed_service, status):
    order = make.order(enterprise, listed_service, status=status)
    auth.login(enterprise)
    assert 'name="rating-score"' not in client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    response = rate(client, order)
    assert response.status_code == 409 and "服务完成后才能评价" in response.get_data(as_text=True)
    assert fresh(Rating) == []


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.PAID])
def test_completed_or_paid_orders_may_be_rated(client, auth, make, enterprise, listed_service, status):
    order = make.order(enterprise, listed_service, status=status)
    auth.login(enterprise)
    assert rate(client, order).status_code == 303


def test_an_order_marked_finished_may_be_rated_while_the_voucher_claim_is_ahead(client, auth, order, enterprise):
    order.status, order.finished_at = OrderStatus.IN_SERVICE, utcnow()
    db.session.commit()
    auth.login(enterprise)
    assert rate(client, order).status_code == 303


@pytest.mark.parametrize("score", ["0", "6", "-1", "abc", None])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_scores_outside_one_to_five_are_refused_with_the_comment_kept(client, auth, order, enterprise, provider,
                                                                       score, headers):
    finish(order, provider)
    auth.login(enterprise)
    response = rate(client, order, score, "样品处理很细致", headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "样品处理很细致" in page
    assert "请选择1至5星的评分" in page
    assert ("<html" in page) == (not headers)
    assert fresh(Rating) == []


def test_a_comment_over_500_characters_is_refused(client, auth, order, enterprise, provider):
    finish(order, provider)
    auth.login(enterprise)
    response = rate(client, order, "3", "评" * 501)
    assert response.status_code == 422 and "评价内容不能超过500字" in response.get_data(as_text=True)
    assert rate(client, order, "3", "评" * 500).status_code == 303


@pytest.mark.parametrize("who, code", [("provider", 403), ("reviewer", 403), ("stranger", 404)])
def test_only_the_buyer_rates(client, auth, make, order, provider, who, code):
    finish(order, provider)
    user = {"provider": lambda: provider, "reviewer": make.reviewer, "stranger": make.enterprise}[who]()
    auth.login(user)
    assert rate(client, order).status_code == code
    assert fresh(Rating) == []


def test_the_provider_sees_the_rating_on_its_order(client, auth, order, enterprise, provider):
    finish(order, provider)
    auth.login(enterprise)
    rate(client, order, "2", "报告有错别字")
    auth.logout()
    auth.login(provider)
    page = client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)
    assert "★★☆☆☆" in page and "报告有错别字" in page and 'name="rating-score"' not in page


# ---------------------------------------------------------------- complaints

@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_buyer_files_a_complaint_shown_on_the_order_with_its_status(client, auth, order, enterprise, headers):
    auth.login(enterprise)
    response = complain(client, order, headers=headers)
    if headers:
        assert response.status_code == 200 and "投诉已提交" in response.get_data(as_text=True)
    else:
        assert response.status_code == 303
    [complaint] = fresh(Complaint)
    assert (complaint.order_id, complaint.provider_id, complaint.user_id, complaint.status, complaint.reason) == (
        order.id, order.provider_id, enterprise.id, "open", REASON)
    assert [(a.object_id, a.to_state) for a in audited("file")] == [(str(complaint.id), "open")]
    page = client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)
    assert REASON in page and "待处理" in page


@pytest.mark.parametrize("reason, message", [("", "请填写投诉原因"), ("太慢了", "投诉原因应为10至1000字"),
                                             ("慢" * 1001, "投诉原因应为10至1000字")])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_complaint_reasons_must_be_10_to_1000_characters(client, auth, order, enterprise, reason, message, headers):
    auth.login(enterprise)
    response = complain(client, order, reason, headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page and reason in page
    assert ("<html" in page) == (not headers)
    assert fresh(Complaint) == []


@pytest.mark.parametrize("who, code", [("provider", 403), ("reviewer", 403), ("stranger", 404)])
def test_only_the_buyer_complains(client, auth, make, order, provider, who, code):
    user = {"provider": lambda: provider, "reviewer": make.reviewer, "stranger": make.provider}[who]()
    auth.login(user)
    assert complain(client, order).status_code == code
    assert fresh(Complaint) == []


def test_the_provider_does_not_see_complaints_about_its_order(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    complain(client, order)
    auth.logout()
    auth.login(provider)
    assert REASON not in client.get(f"/seller/orders/{order.order_no}").get_data(as_text=True)


def test_complaints_without_the_csrf_token_are_refused(client, auth, order, enterprise, provider):
    auth.login(enterprise)
    assert client.post(f"/orders/{order.order_no}/complaint", data={"complaint-reason": REASON},
                       csrf=False).status_code == 400
    finish(order, provider)
    assert client.post(f"/orders/{order.order_no}/rating", data={"rating-score": "5"},
                       csrf=False).status_code == 400
    assert fresh(Complaint) == [] and fresh(Rating) == []


# ---------------------------------------------------------------- the reviewer's queue

@pytest.fixture
def filed(client, auth, order, enterprise):
    auth.login(enterprise)
    complain(client, order)
    auth.logout()
    return fresh(Complaint)[0]


def test_the_thread_and_the_complaint_queue_name_a_provider_that_bought_by_its_unit(client, auth, make,
                                                                                     listed_service, reviewer):
    unit = make.provider(name="南京某大学分析测试中心")
    order = make.order(unit, listed_service)
    db.session.add(Complaint(order_id=order.id, provider_id=order.provider_id, user_id=unit.id, reason=REASON))
    db.session.commit()
    auth.login(reviewer)
    named = "南京某大学分析测试中心<small>（服务单位）</small>"
    assert f"买家：{named}" in client.get(f"/orders/{order.order_no}/messages").text
    assert named in client.get("/admin/complaints").text


def test_open_complaints_are_a_queue_on_the_admin_home(client, auth, filed, reviewer):
    auth.login(reviewer)
    home = client.get("/admin/").get_data(as_text=True)
    assert "待处理投诉" in home and 'href="/admin/complaints"' in home


def test_the_queue_lists_open_complaints_first_with_the_providers_record(client, auth, make, order, filed, enterprise,
                                                                          provider, reviewer):
    older = Complaint(order_id=order.id, provider_id=order.provider_id, user_id=enterprise.id,
                      reason="早先的投诉已经处理完毕了", status="resolved", resolution="已协调", resolved_at=utcnow())
    db.session.add(older)
    db.session.add(Rating(order_id=order.id, provider_id=order.provider_id, user_id=enterprise.id, score=4))
    db.session.commit()
    auth.login(reviewer)
    page = client.get("/admin/complaints?status=all").get_data(as_text=True)
    assert page.index(REASON) < page.index("早先的投诉已经处理完毕了")
    assert order.order_no in page and enterprise.enterprise.name in page and provider.provider.name in page
    assert "投诉 2 次" in page and "4.0 ★" in page


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_reviewer_resolves_a_complaint_with_a_resolution(client, auth, filed, enterprise, order, reviewer, headers):
    auth.login(reviewer)
    response = client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "已督促服务单位三日内出具报告"},
                           headers=headers)
    if headers:
        row = response.get_data(as_text=True)
        assert response.status_code == 200 and row.lstrip().startswith(f'<tr id="complaint-{filed.id}"')
        assert "已处理" in row and "已督促服务单位三日内出具报告" in row
    else:
        assert response.status_code == 303 and response.headers["Location"] == "/admin/complaints"
    [complaint] = fresh(Complaint)
    assert complaint.status == "resolved" and complaint.resolved_at is not None
    assert complaint.resolution == "已督促服务单位三日内出具报告"
    [entry] = audited("resolve")
    assert (entry.object_id, entry.from_state, entry.to_state, entry.actor_id) == (
        str(filed.id), "open", "resolved", reviewer.id)
    auth.logout()
    auth.login(enterprise)
    assert "已督促服务单位三日内出具报告" in client.get(f"/me/orders/{order.order_no}").get_data(as_text=True)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
def test_resolving_requires_a_resolution(client, auth, filed, reviewer, headers):
    auth.login(reviewer)
    response = client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "  "}, headers=headers)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写处理结果" in page and REASON in page
    assert ("<html" in page) == (not headers)
    assert fresh(Complaint)[0].status == "open"


def test_a_resolved_complaint_cannot_be_resolved_again(client, auth, filed, reviewer):
    auth.login(reviewer)
    client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "第一次处理"})
    response = client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "第二次处理"}, headers=HTMX)
    assert response.status_code == 409 and "已经处理过了" in response.get_data(as_text=True)
    assert fresh(Complaint)[0].resolution == "第一次处理"


def test_resolving_without_the_csrf_token_is_refused(client, auth, filed, reviewer):
    auth.login(reviewer)
    response = client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "处理"}, csrf=False)
    assert response.status_code == 400 and fresh(Complaint)[0].status == "open"


@pytest.mark.parametrize("who", ["enterprise", "provider"])
def test_only_reviewers_reach_the_complaint_queue(client, auth, filed, make, who):
    auth.login(getattr(make, who)())
    assert client.get("/admin/complaints").status_code == 403
    assert client.post(f"/admin/complaints/{filed.id}/resolve", data={"resolution": "处理"}).status_code == 403


def test_the_reviewer_reads_the_orders_thread_and_feedback_from_the_queue(client, auth, filed, order, reviewer):
    auth.login(reviewer)
    page = client.get(f"/orders/{order.order_no}/messages").get_data(as_text=True)
    assert REASON in page and 'href="/admin/complaints"' in page and 'name="complaint-reason"' not in page


# ---------------------------------------------------------------- the shop's rating

def rated(make, buyer, service, *scores) -> None:
    for score in scores:
        order = make.order(buyer, service, status=OrderStatus.COMPLETED)
        db.session.add(Rating(order_id=order.id, provider_id=order.provider_id, user_id=buyer.id, score=score))
    db.session.commit()


def test_the_shop_shows_its_average_rating_and_count(client, make, enterprise, provider, listed_service):
    assert "暂无评价" in client.get(f"/shops/{provider.provider.id}").get_data(as_text=True)
    rated(make, enterprise, listed_service, 5, 4, 4)
    page = client.get(f"/shops/{provider.provider.id}").get_data(as_text=True)
    assert "4.3 ★" in page and "3条评价" in page and "暂无评价" not in page


def test_average_ratings_round_half_up_to_one_decimal_per_provider(make, enterprise, provider, listed_service):
    other = make.provider()
    rated(make, enterprise, listed_service, 5, 4, 4, 4)  # 4.25
    assert shop_rating(provider.provider.id) == (Decimal("4.3"), 4)
    assert ratings_for([provider.provider.id, other.provider.id])[other.provider.id] == ShopRating(None, 0)
