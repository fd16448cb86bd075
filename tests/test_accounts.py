import logging
from urllib.parse import unquote

import pytest
from flask import Blueprint
from sqlalchemy import func, select

from marketplace.accounts import sms
from marketplace.accounts.access import roles_required
from marketplace.extensions import db
from marketplace.models import AccountStatus, AuditLog, LoginAttempt, Provider, Role, ShopStatus, User
from marketplace.validators import make_credit_code

from .conftest import PASSWORD

VALID_CODE = make_credit_code("91320100MA1ABCDE0")


def register(client, **overrides):
    data = {"account_type": "enterprise", "email": "new@corp.cn", "phone": "13912345678", "name": "王林",
            "password": "s3cret-pass", "confirm": "s3cret-pass", "org_name": "南京新材料科技有限公司",
            "credit_code": VALID_CODE, "city": "南京", "unit_type": ""}
    data.update(overrides)
    return client.post("/auth/register", data=data)


def test_enterprise_registration_creates_a_pending_account_signed_in(client, app):
    response = register(client)
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new@corp.cn"))
    assert user.status == AccountStatus.PENDING and user.role == Role.ENTERPRISE
    assert user.password_hash != "s3cret-pass"
    assert user.enterprise.credit_code == VALID_CODE and user.enterprise.city == "南京"
    page = client.get("/me").get_data(as_text=True)
    assert "等待省统筹中心审核" in page
    assert db.session.scalar(select(AuditLog).where(AuditLog.object_type == "user")).to_state == AccountStatus.PENDING


def test_provider_registration_opens_a_draft_shop(client):
    response = register(client, account_type="provider", unit_type="third_party", org_name="徐州某检测有限公司",
                        city="徐州")
    assert response.status_code == 303
    provider = db.session.scalar(select(Provider))
    assert provider.status == ShopStatus.DRAFT and provider.city == "徐州" and provider.unit_type == "third_party"


@pytest.mark.parametrize("overrides, field_message", [
    ({"credit_code": VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1")}, "校验位"),
    ({"confirm": "different"}, "两次输入的密码不一致"),
    ({"email": "not-an-email"}, "邮箱格式不正确"),
    ({"phone": "12345"}, "手机"),
    ({"city": ""}, "请选择注册地"),
    ({"org_name": ""}, "请填写单位名称"),
    ({"account_type": "provider", "unit_type": ""}, "请选择服务单位类型"),
    ({"password": "short", "confirm": "short"}, "密码长度为8-128位"),
])
def test_bad_registration_gets_422_a_chinese_message_and_keeps_input(client, overrides, field_message):
    response = register(client, **overrides)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field_message in page
    assert 'value="王林"' in page  # what the user typed is still there
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_registering_an_email_twice_is_refused(client, enterprise):
    response = register(client, email=enterprise.email.upper())
    assert response.status_code == 422
    assert "该邮箱已注册" in response.get_data(as_text=True)


def test_registering_a_credit_code_twice_is_refused(client, enterprise):
    response = register(client, credit_code=enterprise.enterprise.credit_code)
    assert response.status_code == 422
    assert "该统一社会信用代码已注册" in response.get_data(as_text=True)


def test_login_and_logout(client, auth, enterprise):
    response = auth.login(enterprise)
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert enterprise.name in client.get("/me").get_data(as_text=True)
    assert auth.logout().status_code == 303
    assert client.get("/me").status_code == 302


def test_wrong_password_is_refused_with_a_message(auth, enterprise):
    response = auth.login(enterprise, password="wrong-password")
    assert response.status_code == 422
    assert "邮箱或密码不正确" in response.get_data(as_text=True)


def test_five_failures_lock_the_account_for_that_address_even_with_the_right_password(auth, enterprise):
    for _ in range(5):
        assert auth.login(enterprise, password="wrong-password").status_code == 422
    response = auth.login(enterprise)
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


# Longer than the 254 characters login_attempts.email holds: 300 typed, or 205 that lower-case to 405.
TOO_LONG_EMAILS = ["a" * 290 + "@corp.cn", "İ" * 200 + "@x.cn"]


@pytest.mark.parametrize("email", TOO_LONG_EMAILS, ids=["typed", "lower-cased"])
def test_a_sign_in_with_an_email_too_long_to_record_is_refused_beside_the_field(auth, email):
    response = auth.login(email, password="wrong-password")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "邮箱不超过254个字符" in page and email in page
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0


@pytest.mark.parametrize("email", TOO_LONG_EMAILS, ids=["typed", "lower-cased"])
def test_registering_an_email_too_long_to_store_is_refused_beside_the_field(client, email):
    response = register(client, email=email)
    assert response.status_code == 422 and "邮箱不超过254个字符" in response.get_data(as_text=True)


def test_the_lockout_message_names_the_configured_window(app, auth, enterprise):
    app.config["LOGIN_WINDOW_MINUTES"] = 30
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(enterprise, password="wrong-password")
    assert "请30分钟后再试" in auth.login(enterprise).get_data(as_text=True)


def test_login_follows_only_same_site_next(auth, enterprise):
    assert unquote(auth.login(enterprise, next="/services?q=电镜").headers["Location"]) == "/services?q=电镜"
    auth.logout()
    assert auth.login(enterprise, next="//evil.example/").headers["Location"] == "/me"


def test_logout_is_not_possible_by_get(client, auth, enterprise):
    auth.login(enterprise)
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/me").status_code == 200


def test_post_without_csrf_token_is_refused(client, enterprise):
    response = client.post("/auth/login", data={"email": enterprise.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)


def test_signing_in_starts_a_fresh_session(client, auth, enterprise):
    with client.session_transaction() as session:
        session["planted"] = "by-attacker"
    auth.login(enterprise)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_a_password_change_ends_other_sessions(client, auth, enterprise):
    auth.login(enterprise)
    enterprise.session_version += 1
    db.session.commit()
    assert client.get("/me").status_code == 302


@pytest.fixture
def transact_route(app):
    """A route guarded like every transacting route will be: approved enterprises only."""
    bp = Blueprint("guarded", __name__)

    @bp.post("/guarded/order")
    @roles_required(Role.ENTERPRISE)
    def order():
        return "ordered"

    app.register_blueprint(bp)
    return "/guarded/order"


def test_pending_account_can_browse_but_not_transact(client, auth, make, transact_route):
    pending = make.enterprise(status=AccountStatus.PENDING)
    auth.login(pending)
    assert client.get("/services").status_code == 200
    response = client.post(transact_route)
    assert response.status_code == 403
    assert "审核中" in response.get_data(as_text=True)


def test_approved_enterprise_may_transact(client, auth, enterprise, transact_route):
    auth.login(enterprise)
    assert client.post(transact_route).get_data(as_text=True) == "ordered"


def test_wrong_role_gets_403_page_or_fragment(client, auth, provider, transact_route):
    auth.login(provider)
    page = client.post(transact_route)
    fragment = client.post(transact_route, headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 403
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True) and "没有权限" in fragment.get_data(as_text=True)


def test_anonymous_page_goes_to_login_and_htmx_is_told_to_navigate(client, transact_route):
    page = client.post(transact_route)
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login?next=")
    fragment = client.post(transact_route, headers={"HX-Request": "true"})
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"].startswith("/auth/login?next=")


def test_sms_code_goes_to_the_log_and_verifies_once(app, caplog):
    """A right code stays good until the change it verifies commits with it used up (a refused save rolls back)."""
    with caplog.at_level(logging.WARNING):
        sms.send_code("13912345678", "contact")
    code = next(r.getMessage() for r in caplog.records if "SMS to 13912345678" in r.getMessage())
    code = code.split("验证码为")[1][:6]
    assert sms.matching_code("13912345678", "contact", "000000" if code != "000000" else "111111") is None
    code_id = sms.matching_code("13912345678", "contact", code)
    assert code_id is not None and sms.use_code(code_id)
    db.session.rollback()  # the save it verified was refused for another field
    assert sms.matching_code("13912345678", "contact", code) == code_id and sms.use_code(code_id)
    db.session.commit()
    assert sms.matching_code("13912345678", "contact", code) is None


def test_sms_codes_cannot_be_resent_within_a_minute(app):
    sms.send_code("13912345678", "contact")
    with pytest.raises(sms.TooSoon):
        sms.send_code("13912345678", "contact")


def test_create_reviewer_command_makes_an_approved_reviewer(runner, auth, client):
    result = runner.invoke(args=["create-reviewer", "Chief@JSSIC.cn"], input="review-pass-1\nreview-pass-1\n")
    assert result.exit_code == 0, result.output
    reviewer = db.session.scalar(select(User).where(User.email == "chief@jssic.cn"))
    assert reviewer.is_reviewer
    auth.login("chief@jssic.cn", password="review-pass-1")
    assert client.get("/admin/").status_code == 200


def test_create_reviewer_refuses_a_short_password(runner):
    result = runner.invoke(args=["create-reviewer", "x@jssic.cn"], input="short\nshort\n")
    assert result.exit_code != 0 and "至少8位" in result.output


def test_a_choice_outside_the_list_is_refused_in_chinese(client):
    response = register(client, city="上海")
    assert response.status_code == 422
    assert "不是有效的选择" in response.get_data(as_text=True)
