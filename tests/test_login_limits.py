"""Limits that limit under concurrency (issue 15): twenty requests at the same moment through the real routes, each a
client of its own (its own database connection; on PostgreSQL twenty pooled connections). The database decides who
goes first (marketplace/locks.py), so the counts are exact whatever the timing: one SMS code for one phone, and
exactly LOGIN_MAX_FAILURES wrong passwords checked before the rest are refused without a hash check."""
import queue
from datetime import timedelta

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from marketplace.accounts import sms
from marketplace.extensions import db
from marketplace.models import LoginAttempt, SmsCode, VoucherApplication, utcnow
from marketplace.vouchers.forms import SMS_PURPOSE

from .conftest import fresh, run_at_once, signed_in_cookie
from .test_vouchers import form as application_form

THREADS = 20
PHONE = "13912345678"


def posted_at_once(app, path: str, data: dict, cookie: str | None = None) -> list[int]:
    """POST `data` to `path` from THREADS clients released together; their status codes."""
    statuses = queue.SimpleQueue()

    def post():
        client = app.test_client()
        if cookie:
            client.set_cookie("session", cookie)
        statuses.put(client.post(path, data=data).status_code)

    assert run_at_once(app, post, THREADS) == []
    db.session.commit()
    return sorted(statuses.get() for _ in range(THREADS))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_twenty_sms_requests_at_once_send_one_code(app, enterprise):
    statuses = posted_at_once(app, "/me/vouchers/apply/sms", {"contact_phone": PHONE},
                              signed_in_cookie(app, enterprise))
    assert statuses == [200] + [429] * (THREADS - 1)
    assert count(SmsCode, SmsCode.phone == PHONE) == 1


def test_twenty_wrong_passwords_at_once_check_only_five(app, enterprise):
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses = posted_at_once(app, "/auth/login", {"email": enterprise.email, "password": "wrong-password"})
    assert statuses == [422] * limit + [429] * (THREADS - limit)
    assert count(LoginAttempt, LoginAttempt.email == enterprise.email) == limit


CODE = "246810"


def code_sent_to(phone: str) -> SmsCode:
    """The code send_code would have written for the application's contact phone (a quick hash: the check is real)."""
    row = SmsCode(phone=phone, purpose=SMS_PURPOSE, code_hash=generate_password_hash(CODE, method="pbkdf2:sha256:1000"),
                  expires_at=utcnow() + sms.CODE_TTL)
    db.session.add(row)
    db.session.commit()
    return row


def saves_with_code_at_once(app, make, enterprise, code: str) -> tuple[list[int], SmsCode, VoucherApplication]:
    """THREADS saves of the enterprise's draft application at the same moment, each typing `code` for its contact
    phone; their statuses, the code's row and the application afterwards."""
    application = make.voucher_application(enterprise, contact_phone_verified_at=None)
    row = code_sent_to(application.contact_phone)
    data = application_form(enterprise, action="save", contact_phone=application.contact_phone, sms_code=code,
                            business_licence=None, financial_statement=None)
    statuses = posted_at_once(app, "/me/vouchers/apply", data, signed_in_cookie(app, enterprise))
    return statuses, fresh(SmsCode, row.id), fresh(VoucherApplication, application.id)


def test_twenty_saves_with_the_right_code_at_once_use_it_once(app, make, enterprise):
    statuses, row, application = saves_with_code_at_once(app, make, enterprise, CODE)
    assert statuses == [303] + [422] * (THREADS - 1)
    assert row.used_at is not None and row.attempts == 0
    assert application.contact_phone_verified_at is not None


def test_twenty_wrong_codes_at_once_are_all_counted_and_end_the_code_at_five(app, make, enterprise):
    statuses, row, application = saves_with_code_at_once(app, make, enterprise, "135790")
    assert statuses == [422] * THREADS
    assert (row.attempts, row.used_at) == (sms.MAX_ATTEMPTS, None)
    assert sms.matching_code(row.phone, SMS_PURPOSE, CODE) is None, "five wrong guesses end the code, the right one too"
    assert application.contact_phone_verified_at is None


def rows_aged(model, column: str, days_ago: list[float], **values) -> None:
    for days in days_ago:
        db.session.add(model(**{column: utcnow() - timedelta(days=days)}, **values))
    db.session.commit()


def test_the_daily_sweep_prunes_old_throttle_rows_and_keeps_those_still_counted(runner):
    """Failed sign-ins and SMS codes only serve the limits (15 minutes, a day) and a week of hindsight; the daily
    sweep removes older ones, so the tables stop growing forever."""
    rows_aged(LoginAttempt, "at", [30, 8, 6, 0.5, 0], email="someone@example.cn", ip="10.1.1.1")
    expired = utcnow() - timedelta(days=9)
    rows_aged(SmsCode, "created_at", [9, 8, 1, 0], phone=PHONE, purpose="contact", code_hash="-", expires_at=expired)
    result = runner.invoke(args=["sweep-uploads"])
    assert result.exit_code == 0, result.output
    assert "过期的登录失败与短信发送记录: 2 条" in result.output and "过期的短信验证码: 2 条" in result.output
    assert count(LoginAttempt) == 3 and count(SmsCode) == 2


def test_a_dry_run_counts_old_throttle_rows_and_keeps_them(runner):
    rows_aged(LoginAttempt, "at", [30], email="someone@example.cn", ip="10.1.1.1")
    result = runner.invoke(args=["sweep-uploads", "--dry-run"])
    assert "将删除过期的登录失败与短信发送记录: 1 条" in result.output
    assert count(LoginAttempt) == 1
