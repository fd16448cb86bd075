"""Phone verification codes through a pluggable backend; the default backend writes to the log."""
import secrets
from datetime import timedelta
from typing import Protocol

from flask import current_app, has_request_context, request
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import locks
from ..extensions import db
from ..models import SmsCode, utcnow
from . import throttle

CODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 5
# Each message costs money and may annoy whoever owns the number: a number gets at most this many codes a day,
# and one address (an office behind one IP may hold several enterprises) this many.
DAY = timedelta(hours=24)
MAX_PER_PHONE_PER_DAY = 10
MAX_PER_IP_PER_DAY = 30
IP_SUBJECT = "sms"  # codes sent from an address, counted in the throttle table


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogBackend:
    """No real SMS here: the message goes to the application log."""
    def send(self, phone: str, text: str) -> None:
        current_app.logger.warning("SMS to %s: %s", phone, text)


BACKENDS: dict[str, type] = {"log": LogBackend}


class TooSoon(Exception):
    """A code refused by a rate limit; the message says why and when to try again."""


def send_code(phone: str, purpose: str) -> None:
    """Send a fresh 6-digit code; refuses (TooSoon) within a minute of the previous one, and past the daily
    limits per number and per address. The limits are counted and the code added under the number's and the
    address's locks, released by the commit: requests at the same moment take turns, so each sees the others'
    codes."""
    ip = request.remote_addr if has_request_context() else None
    locks.hold(f"sms-phone:{phone}", f"sms-ip:{ip or '-'}")
    _check_limits(phone, purpose, ip or "-")
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(SmsCode(phone=phone, purpose=purpose, code_hash=generate_password_hash(code),
                           expires_at=utcnow() + CODE_TTL))
    throttle.record_event(IP_SUBJECT, ip or "-")
    db.session.commit()
    BACKENDS[current_app.config["SMS_BACKEND"]]().send(phone, f"【科技创新券】您的验证码为{code}，10分钟内有效。")


def _check_limits(phone: str, purpose: str, ip: str) -> None:
    now = utcnow()
    last = db.session.scalar(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                             .order_by(SmsCode.created_at.desc()).limit(1))
    if last and now - last.created_at < RESEND_AFTER:
        raise TooSoon("验证码已发送，请60秒后再试")
    sent_to_phone = db.session.scalar(select(func.count(SmsCode.id)).where(SmsCode.phone == phone,
                                                                          SmsCode.created_at >= now - DAY))
    if sent_to_phone >= MAX_PER_PHONE_PER_DAY:
        raise TooSoon(f"该手机号24小时内获取验证码已达{MAX_PER_PHONE_PER_DAY}次，请明天再试")
    if throttle.events_since(IP_SUBJECT, ip, now - DAY) >= MAX_PER_IP_PER_DAY:
        raise TooSoon("当前网络获取验证码过于频繁，请明天再试或联系省统筹中心")


def matching_code(phone: str, purpose: str, code: str) -> int | None:
    """The id of the latest unexpired code if `code` is it, or None; wrong guesses are counted (committed) and
    capped. A right code is not used up here: use_code() does that in the transaction of the change it verifies,
    so a save refused for another field leaves it good for the next try.

    Guesses for one number take turns under the lock send_code takes (released by the commit of a wrong guess, or
    by the caller's commit or rollback), so twenty at once check five wrong codes, not twenty, and the right one
    passes once. Each move is one guarded UPDATE as well, so the database refuses a sixth guess or a second use
    whatever the timing."""
    locks.hold(f"sms-phone:{phone}")
    row = db.session.scalar(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose,
                                                  SmsCode.used_at.is_(None))
                            .order_by(SmsCode.created_at.desc()).limit(1)
                            .execution_options(populate_existing=True))
    if row is None or row.expires_at < utcnow() or row.attempts >= MAX_ATTEMPTS:
        return None
    if not check_password_hash(row.code_hash, code.strip()):
        _guarded(row.id, SmsCode.attempts < MAX_ATTEMPTS, attempts=SmsCode.attempts + 1)
        db.session.commit()
        return None
    return row.id


def use_code(code_id: int) -> bool:
    """Use up the code matching_code() found, in the caller's transaction (not committed here); False when another
    request used it, or guessed it out, first."""
    return _guarded(code_id, SmsCode.used_at.is_(None), SmsCode.attempts < MAX_ATTEMPTS, used_at=utcnow())


def _guarded(code_id: int, *still, **values) -> bool:
    """One UPDATE of the code that happens only while `still` holds; whether it happened."""
    return db.session.execute(update(SmsCode).where(SmsCode.id == code_id, *still).values(**values)
                              .execution_options(synchronize_session=False)).rowcount == 1
