"""Sessions end (issue 15): logout, 退出所有设备, a password change and a reviewer's suspension end every session and
remember-me cookie of the account, checked on each request; each sign-in gets a remember-me cookie of its own;
`next` after sign-in stays a same-site path."""
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from marketplace.extensions import db
from marketplace.models import AccountStatus, AuditLog, User

from .conftest import PASSWORD, Auth, fresh

NEW_PASSWORD = "battery-staple-77"


def signed_in_client(app, user, remember: bool = False):
    client = app.test_client()
    Auth(client).login(user, **({"remember": "y"} if remember else {}))
    assert client.get("/me").status_code == 200
    return client


def replay(app, name: str, value: str):
    """A client of its own that carries only the saved cookie `name`, as an attacker who copied it would."""
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def is_signed_in(client) -> bool:
    return client.get("/me").status_code == 200


def audit_actions(user) -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "user",
                                                                 AuditLog.object_id == str(user.id))))


def test_a_session_cookie_saved_before_logout_no_longer_opens_me(app, enterprise):
    client = signed_in_client(app, enterprise)
    saved = client.get_cookie("session").value
    Auth(client).logout()
    stale = replay(app, "session", saved)
    response = stale.get("/me")
    assert response.status_code == 302 and response.location.startswith("/auth/login")


def test_a_remember_cookie_replayed_after_logout_signs_no_one_in(app, enterprise):
    client = signed_in_client(app, enterprise, remember=True)
    saved = client.get_cookie("remember_token").value
    assert is_signed_in(replay(app, "remember_token", saved))
    Auth(client).logout()
    assert client.get_cookie("remember_token") is None
    assert not is_signed_in(replay(app, "remember_token", saved))


def test_each_sign_in_gets_a_remember_cookie_of_its_own(app, enterprise):
    first = signed_in_client(app, enterprise, remember=True).get_cookie("remember_token").value
    second = signed_in_client(app, enterprise, remember=True).get_cookie("remember_token").value
    assert first != second
    assert is_signed_in(replay(app, "remember_token", first)) and is_signed_in(replay(app, "remember_token", second))


def test_remember_me_lasts_fourteen_days_not_a_year(app, enterprise):
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    client = app.test_client()
    response = Auth(client).login(enterprise, remember="y")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", header).group(1))
    assert abs(expires - datetime.now(timezone.utc) - timedelta(days=14)) < timedelta(minutes=5)


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/auth/password", data={"current_password": current, "password": new,
                                               "confirm": new if confirm is None else confirm})


def test_a_password_change_ends_other_sessions_and_keeps_this_one(app, enterprise):
    here = signed_in_client(app, enterprise, remember=True)
    elsewhere = signed_in_client(app, enterprise, remember=True)
    saved = elsewhere.get_cookie("remember_token").value
    response = change_password(here)
    assert response.status_code == 303
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere) and not is_signed_in(replay(app, "remember_token", saved))
    assert check_password_hash(fresh(User, enterprise.id).password_hash, NEW_PASSWORD)
    assert "change_password" in audit_actions(enterprise)
    assert Auth(app.test_client()).login(enterprise, password=NEW_PASSWORD).status_code == 303


@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong-password", NEW_PASSWORD, None, "当前密码不正确"),
    (PASSWORD, "short", None, "密码长度为8-128位"),
    (PASSWORD, NEW_PASSWORD, "something-else-1", "两次输入的密码不一致"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(app, enterprise, current, new, confirm, message):
    client = signed_in_client(app, enterprise)
    response = change_password(client, current, new, confirm)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert check_password_hash(fresh(User, enterprise.id).password_hash, PASSWORD)
    assert is_signed_in(client)


def test_guessing_the_current_password_counts_towards_the_sign_in_lockout(app, enterprise):
    client = signed_in_client(app, enterprise)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert change_password(client, current="wrong-password").status_code == 422
    assert change_password(client).status_code == 429
    assert check_password_hash(fresh(User, enterprise.id).password_hash, PASSWORD)


def test_the_account_security_page_is_for_signed_in_users(client, auth, enterprise):
    assert client.get("/auth/password").status_code == 302
    auth.login(enterprise)
    page = client.get("/auth/password").get_data(as_text=True)
    assert "修改密码" in page and "退出所有设备" in page
    assert "/auth/password" in client.get("/me").get_data(as_text=True)


def test_ending_every_session_signs_out_all_devices_including_this_one(app, enterprise):
    here = signed_in_client(app, enterprise)
    elsewhere = signed_in_client(app, enterprise, remember=True)
    saved = elsewhere.get_cookie("remember_token").value
    response = here.post("/auth/sessions/end")
    assert response.status_code == 303 and response.location.startswith("/auth/login")
    assert not any(is_signed_in(c) for c in (here, elsewhere, replay(app, "remember_token", saved)))
    assert "end_all_sessions" in audit_actions(enterprise)


def disable(client, user, reason="冒用他人单位信息", headers=None):
    return client.post(f"/admin/accounts/{user.id}/disable", data={"reason": reason}, headers=headers)


def test_a_suspended_account_is_signed_out_everywhere_on_its_next_request(app, enterprise, reviewer):
    device = signed_in_client(app, enterprise, remember=True)
    saved = device.get_cookie("remember_token").value
    assert disable(signed_in_client(app, reviewer), enterprise).status_code == 303
    assert not is_signed_in(device) and not is_signed_in(replay(app, "remember_token", saved))
    user = fresh(User, enterprise.id)
    assert (user.status, user.status_reason) == (AccountStatus.DISABLED, "冒用他人单位信息")
    assert "disable_account" in audit_actions(enterprise)
    refused = Auth(app.test_client()).login(enterprise)
    assert refused.status_code == 422 and "该账号已停用" in refused.get_data(as_text=True)


def test_a_disabled_account_whose_version_did_not_move_is_still_refused(app, enterprise):
    """load_user refuses disabled accounts itself, whatever way the status changed."""
    device = signed_in_client(app, enterprise)
    enterprise.status = AccountStatus.DISABLED
    db.session.commit()
    assert not is_signed_in(device)


@pytest.mark.parametrize("headers", [None, {"HX-Request": "true"}], ids=["page", "htmx row"])
def test_a_suspension_needs_a_reason(app, enterprise, reviewer, headers):
    response = disable(signed_in_client(app, reviewer), enterprise, reason="  ", headers=headers)
    assert response.status_code == 422 and "请填写停用原因" in response.get_data(as_text=True)
    assert f'id="account-{enterprise.id}"' in response.get_data(as_text=True)
    assert fresh(User, enterprise.id).status == AccountStatus.ACTIVE


def test_a_reviewer_restores_a_suspended_account_without_reviving_old_sessions(app, enterprise, reviewer):
    device = signed_in_client(app, enterprise)
    desk = signed_in_client(app, reviewer)
    disable(desk, enterprise)
    response = desk.post(f"/admin/accounts/{enterprise.id}/enable", data={"reason": "核实无误"})
    assert response.status_code == 303
    assert fresh(User, enterprise.id).status == AccountStatus.ACTIVE
    assert "enable_account" in audit_actions(enterprise)
    assert not is_signed_in(device)
    assert is_signed_in(signed_in_client(app, enterprise))


def test_the_accounts_queue_offers_suspension_with_a_confirmation(app, enterprise, reviewer):
    page = signed_in_client(app, reviewer).get("/admin/accounts?status=active").get_data(as_text=True)
    assert f"/admin/accounts/{enterprise.id}/disable" in page and "确认停用" in page


@pytest.mark.parametrize("target", [
    "/me\r\nSet-Cookie: evil=1", "/me\nX: y", "/me\t", "/\\evil.example", "/\\/evil.example", "\\\\evil.example",
    "/me\x00", "/me\x7f", "//evil.example", "https://evil.example/", "/me\u2028",
])
def test_a_hostile_next_after_sign_in_goes_to_the_workbench(auth, enterprise, target):
    response = auth.login(enterprise, next=target)
    assert response.status_code == 303 and response.location == "/me"


def test_a_plain_next_is_still_followed(auth, enterprise):
    assert auth.login(enterprise, next="/me/orders?page=2").location == "/me/orders?page=2"
