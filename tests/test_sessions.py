"""Sessions and rate limits: production cookies, a new session at sign-in, login throttling, SMS code limits."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace import create_app
from marketplace.accounts import sms, throttle
from marketplace.config import Config
from marketplace.extensions import db
from marketplace.models import SmsCode, utcnow

from .conftest import PASSWORD, TEST_CONFIG

PHONE = "13912345678"


def page_token(client, path: str = "/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def cookie_attributes(response, name: str) -> set[str]:
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "="))
    return {part.strip().lower() for part in header.split(";")[1:]}


def test_production_config_makes_every_cookie_secure_httponly_and_lax(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "real-secret")
    config = Config()
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        assert getattr(config, f"{prefix}_SECURE") and getattr(config, f"{prefix}_HTTPONLY")
        assert getattr(config, f"{prefix}_SAMESITE") == "Lax"


def test_production_sign_in_sets_secure_httponly_lax_session_and_remember_cookies(monkeypatch, make, database_url,
                                                                                  tmp_path, enterprise):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "real-secret")
    app = create_app({**TEST_CONFIG, "SECRET_KEY": "real-secret", "DATABASE_URL": database_url,
                      "UPLOAD_FOLDER": str(tmp_path), "WTF_CSRF_ENABLED": False})
    try:
        with app.app_context():
            response = app.test_client().post("/auth/login", data={"email": enterprise.email, "password": PASSWORD,
                                                                   "remember": "y"})
        assert response.status_code == 303
        for name in ("session", "remember_token"):
            assert {"secure", "httponly", "samesite=lax"} <= cookie_attributes(response, name)
    finally:
        with app.app_context():
            db.engine.dispose()


def test_signing_in_changes_the_session_cookie(client, auth, enterprise):
    page_token(client)
    before = session_cookie(client)
    assert auth.login(enterprise).status_code == 303
    assert session_cookie(client) not in (None, before)


def test_the_csrf_token_from_before_sign_in_no_longer_works_after_it(client, enterprise):
    """A token an attacker planted or read before sign-in must not carry over into the signed-in session."""
    old = page_token(client)
    response = client.post("/auth/login", data={"email": enterprise.email, "password": PASSWORD, "csrf_token": old},
                           csrf=False)
    assert response.status_code == 303
    new = page_token(client, "/me")
    assert new != old
    refused = client.post("/auth/logout", data={"csrf_token": old}, csrf=False)
    assert refused.status_code == 400 and client.get("/me").status_code == 200
    assert client.post("/auth/logout", data={"csrf_token": new}, csrf=False).status_code == 303
    assert client.get("/me").status_code == 302


def test_the_next_address_survives_the_fresh_session(auth, enterprise):
    assert auth.login(enterprise, next="/me/orders").headers["Location"] == "/me/orders"


def test_login_lockout_is_per_address_and_other_addresses_still_sign_in(client, auth, enterprise):
    for _ in range(5):
        auth.login(enterprise, password="wrong-password")
    assert auth.login(enterprise).status_code == 429
    other = client.post("/auth/login", data={"email": enterprise.email, "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 303


def test_a_successful_sign_in_clears_earlier_failures(auth, enterprise):
    for _ in range(4):
        auth.login(enterprise, password="wrong-password")
    assert auth.login(enterprise).status_code == 303
    auth.logout()
    for _ in range(4):
        auth.login(enterprise, password="wrong-password")
    assert auth.login(enterprise).status_code == 303


def sent_codes(phone: str, count: int, hours_ago: float) -> None:
    """Codes sent earlier (their rows, as send_code writes them), past the one-minute resend wait."""
    at = utcnow() - timedelta(hours=hours_ago)
    db.session.add_all(SmsCode(phone=phone, purpose="contact", code_hash="-", created_at=at,
                               expires_at=at + sms.CODE_TTL) for _ in range(count))
    db.session.commit()


def test_a_phone_gets_at_most_ten_codes_a_day(app):
    sent_codes(PHONE, sms.MAX_PER_PHONE_PER_DAY, hours_ago=2)
    with pytest.raises(sms.TooSoon, match="24小时内获取验证码已达10次"):
        sms.send_code(PHONE, "contact")


def test_codes_older_than_a_day_do_not_count(app):
    sent_codes(PHONE, sms.MAX_PER_PHONE_PER_DAY, hours_ago=25)
    sms.send_code(PHONE, "contact")
    assert len(db.session.scalars(select(SmsCode).where(SmsCode.phone == PHONE)).all()) == 11


def send_from(app, ip: str, phone: str) -> None:
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": ip}):
        sms.send_code(phone, "contact")


def test_one_address_gets_at_most_thirty_codes_a_day_whatever_the_numbers(app):
    for _ in range(sms.MAX_PER_IP_PER_DAY - 1):
        throttle.record_event(sms.IP_SUBJECT, "10.1.1.1")  # as send_code counts them, without 29 slow hashes
    db.session.commit()
    send_from(app, "10.1.1.1", "13912345600")
    with pytest.raises(sms.TooSoon, match="当前网络获取验证码过于频繁"):
        send_from(app, "10.1.1.1", "13912345699")
    send_from(app, "10.2.2.2", "13912345699")


def test_asking_for_codes_too_often_is_answered_429_next_to_the_phone(client, auth, enterprise):
    auth.login(enterprise)
    assert client.post("/me/vouchers/apply/sms", data={"contact_phone": PHONE}, headers={"HX-Request": "true"}
                       ).status_code == 200
    refused = client.post("/me/vouchers/apply/sms", data={"contact_phone": PHONE}, headers={"HX-Request": "true"})
    assert refused.status_code == 429 and "请60秒后再试" in refused.get_data(as_text=True)
