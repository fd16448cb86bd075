"""Sessions end (issue 15): logout, 退出所有设备, a password change and a reviewer's suspension end every session and
remember-me cookie of the account, checked on each request; each sign-in gets a remember-me cookie of its own;
`next` after sign-in stays a same-site path."""
import queue
import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from marketplace.extensions import db
from marketplace.models import AccountStatus, AuditLog, CartLine, Provider, ShopStatus, User

from .conftest import PASSWORD, Auth, fresh, run_at_once, signed_in_cookie

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
    assert abs(expires - datetime.now(UTC) - timedelta(days=14)) < timedelta(minutes=5)


def signed_in_at(user, issued: datetime) -> str:
    """The id a sign-in of `user` at `issued` carries in its session and remember-me cookie (sessions.py)."""
    return f"{user.id}:{user.session_version}:{int(issued.timestamp())}.nonce"


def remembered_since(app, user, issued: datetime):
    """A client carrying only a remember-me cookie signed with the app's own key for a sign-in at `issued`."""
    return replay(app, "remember_token", encode_cookie(signed_in_at(user, issued)))


def test_a_remember_cookie_older_than_remember_days_signs_no_one_in(app, enterprise):
    """The cookie's Expires is only a request to the browser: a copied cookie is refused by the server too."""
    lasts, now = app.config["REMEMBER_COOKIE_DURATION"], datetime.now(UTC)
    assert is_signed_in(remembered_since(app, enterprise, now - lasts + timedelta(hours=1)))
    assert not is_signed_in(remembered_since(app, enterprise, now - lasts - timedelta(hours=1)))


def test_a_session_kept_open_longer_than_remember_days_ends(app, enterprise):
    client = signed_in_client(app, enterprise)
    with client.session_transaction() as session:
        session["_user_id"] = signed_in_at(enterprise, datetime.now(UTC)
                                           - app.config["REMEMBER_COOKIE_DURATION"] - timedelta(minutes=1))
    assert not is_signed_in(client)


def test_an_id_without_a_sign_in_time_is_refused(app, enterprise):
    """Cookies signed before sign-ins carried their time (a random nonce alone) end at once."""
    assert not is_signed_in(replay(app, "remember_token",
                                   encode_cookie(f"{enterprise.id}:{enterprise.session_version}:abc")))


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


def remember_cookies_set(response) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith("remember_token=")]


@pytest.mark.parametrize("remember", [True, False], ids=["remembered", "not remembered"])
def test_a_password_change_keeps_the_sign_ins_remember_choice(app, enterprise, remember):
    """The choice made at sign-in, not whatever remember_token cookie the browser happens to send."""
    client = signed_in_client(app, enterprise, remember=remember)
    if not remember:
        client.set_cookie("remember_token", "left-by-an-earlier-sign-in")
    response = change_password(client)
    assert response.status_code == 303
    assert bool(remember_cookies_set(response)) == remember
    if remember:
        assert is_signed_in(replay(app, "remember_token", client.get_cookie("remember_token").value))


def test_twenty_password_changes_at_once_from_twenty_sessions_change_it_once(app, enterprise):
    """Each change ends the other sessions: the first to commit wins, and the others, whose session it ended while
    they waited, are sent to sign in again rather than overwriting the password with the old one."""
    threads = 20
    sessions = queue.SimpleQueue()
    for n in range(threads):
        sessions.put((n, signed_in_cookie(app, enterprise)))
    answers = queue.SimpleQueue()

    def change():
        n, cookie = sessions.get()
        client = app.test_client()
        client.set_cookie("session", cookie)
        answers.put((n, change_password(client, new=f"{NEW_PASSWORD}-{n}")))

    assert run_at_once(app, change, threads) == []
    answers = [answers.get() for _ in range(threads)]
    changed = [n for n, response in answers if response.location == "/auth/password"]
    assert len(changed) == 1
    assert all(response.location.startswith("/auth/login") for n, response in answers if n not in changed)
    assert check_password_hash(fresh(User, enterprise.id).password_hash, f"{NEW_PASSWORD}-{changed[0]}")
    assert audit_actions(enterprise).count("change_password") == 1


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


def test_logout_says_every_device_is_signed_out(app, enterprise):
    client = signed_in_client(app, enterprise)
    Auth(client).logout()
    assert "所有设备上的登录均已失效" in client.get("/").get_data(as_text=True)


def test_ending_every_session_asks_for_confirmation_without_javascript(app, enterprise):
    page = signed_in_client(app, enterprise).get("/auth/password").get_data(as_text=True)
    confirmation = re.search(r'<details class="confirm">(.*?)</details>', page, re.S)
    assert confirmation and 'action="/auth/sessions/end"' in confirmation.group(1)
    assert "确认退出所有设备" in confirmation.group(1)
    assert page.count('action="/auth/sessions/end"') == 1


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


def provider_actions(provider: Provider) -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "provider",
                                                                 AuditLog.object_id == str(provider.id))))


def test_a_suspended_providers_shop_stops_trading_and_stays_closed_when_the_account_returns(
        app, make, provider, enterprise, reviewer):
    """停用 closes the shop the way a reviewer's removal does (its listings leave the catalog, cached pages
    included; no new orders; 自动接单 off), and 恢复 of the account does not reopen it behind the reviewer's back."""
    service = make.service(provider.provider)
    provider.provider.auto_accept = True
    db.session.commit()
    buyer, link = signed_in_client(app, enterprise), f'href="/services/{service.id}"'
    assert link in buyer.get("/").get_data(as_text=True)
    desk = signed_in_client(app, reviewer)
    assert disable(desk, provider).status_code == 303
    shop = fresh(Provider, provider.provider.id)
    assert (shop.status, shop.auto_accept) == (ShopStatus.REMOVED, False)
    assert shop.status_reason == "账号停用：冒用他人单位信息"
    assert {"remove", "auto_accept_off"} <= set(provider_actions(shop))
    assert link not in buyer.get("/").get_data(as_text=True)
    assert buyer.get(f"/services/{service.id}").status_code == 404
    assert buyer.post("/cart/add", data={"service_id": service.id, "quantity": "1"},
                      headers={"HX-Request": "true"}).status_code == 409
    assert db.session.scalar(select(func.count(CartLine.id))) == 0
    restored = desk.post(f"/admin/accounts/{provider.id}/enable", data={"reason": "核实无误"}, follow_redirects=True)
    assert "店铺仍为已退出" in restored.get_data(as_text=True)
    assert fresh(Provider, shop.id).status == ShopStatus.REMOVED


def test_suspending_a_provider_says_what_happens_to_its_shop(app, provider, reviewer):
    page = signed_in_client(app, reviewer).get("/admin/accounts?status=active").get_data(as_text=True)
    assert "店铺随之退出" in page and "恢复账号不会重新开店" in page


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
