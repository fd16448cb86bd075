import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import AccountStatus, AuditLog, User

from .conftest import NOT_REVIEWERS, sign_in_as


@pytest.fixture
def pending(make) -> User:
    return make.enterprise(status=AccountStatus.PENDING)


@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/"), ("get", "/admin/accounts"),
                                          ("post", "/admin/accounts/{id}/approve"),
                                          ("post", "/admin/accounts/{id}/reject")])
def test_only_approved_reviewers_reach_the_back_office(client, auth, make, pending, who, expected, method, path):
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path.format(id=pending.id), data={"reason": "x"})
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/auth/login")
    assert db.session.get(User, pending.id).status == AccountStatus.PENDING


def test_reviewer_sees_the_queue_with_the_organisation(client, auth, reviewer, pending):
    auth.login(reviewer)
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert pending.email in page and pending.enterprise.name in page
    assert "1" in client.get("/admin/").get_data(as_text=True)


def test_reviewer_approves_an_account_and_the_change_is_audited(client, auth, reviewer, pending):
    auth.login(reviewer)
    response = client.post(f"/admin/accounts/{pending.id}/approve")
    assert response.status_code == 303
    db.session.expire_all()
    user = db.session.get(User, pending.id)
    assert user.status == AccountStatus.ACTIVE and user.approved_by_id == reviewer.id
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "review_account"))
    assert (entry.actor_id, entry.from_state, entry.to_state) == (reviewer.id, "pending", "active")


def test_approval_over_htmx_returns_just_the_updated_row(client, auth, reviewer, pending):
    auth.login(reviewer)
    response = client.post(f"/admin/accounts/{pending.id}/approve", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="account-{pending.id}"') and "已通过" in body


def test_rejection_needs_a_reason(client, auth, reviewer, pending):
    auth.login(reviewer)
    for headers in ({}, {"HX-Request": "true"}):
        response = client.post(f"/admin/accounts/{pending.id}/reject", data={"reason": " "}, headers=headers)
        assert response.status_code == 422
        assert "请填写不通过的原因" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, pending.id).status == AccountStatus.PENDING


def test_rejection_keeps_the_reason_for_the_applicant(client, auth, reviewer, pending):
    auth.login(reviewer)
    client.post(f"/admin/accounts/{pending.id}/reject", data={"reason": "营业执照信息不一致"})
    auth.logout()
    auth.login(pending)
    assert "营业执照信息不一致" in client.get("/me").get_data(as_text=True)
