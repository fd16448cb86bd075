"""Limits that limit under concurrency (issue 15): twenty requests at the same moment through the real routes, each a
client of its own (its own database connection; on PostgreSQL twenty pooled connections). The database decides who
goes first (marketplace/locks.py), so the counts are exact whatever the timing: one SMS code for one phone, and
exactly LOGIN_MAX_FAILURES wrong passwords checked before the rest are refused without a hash check."""
import queue
from datetime import timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import LoginAttempt, SmsCode, utcnow

from .conftest import run_at_once
from .test_order_concurrency import signed_in_cookie

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
