"""Phone verification codes through a pluggable backend; the default backend writes to the log."""
import secrets
from datetime import timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import SmsCode, utcnow

CODE_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
MAX_ATTEMPTS = 5


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class LogBackend:
    """No real SMS here: the message goes to the application log."""
    def send(self, phone: str, text: str) -> None:
        current_app.logger.warning("SMS to %s: %s", phone, text)


BACKENDS: dict[str, type] = {"log": LogBackend}


class TooSoon(Exception):
    pass


def send_code(phone: str, purpose: str) -> None:
    """Send a fresh 6-digit code; refuses (TooSoon) within a minute of the previous one."""
    last = db.session.scalar(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose)
                             .order_by(SmsCode.created_at.desc()).limit(1))
    if last and utcnow() - last.created_at < RESEND_AFTER:
        raise TooSoon("验证码已发送，请60秒后再试")
    code = f"{secrets.randbelow(10**6):06d}"
    db.session.add(SmsCode(phone=phone, purpose=purpose, code_hash=generate_password_hash(code),
                           expires_at=utcnow() + CODE_TTL))
    db.session.commit()
    BACKENDS[current_app.config["SMS_BACKEND"]]().send(phone, f"【科技创新券】您的验证码为{code}，10分钟内有效。")


def verify_code(phone: str, purpose: str, code: str) -> bool:
    """True once for the latest unexpired code; wrong guesses are counted and capped."""
    row = db.session.scalar(select(SmsCode).where(SmsCode.phone == phone, SmsCode.purpose == purpose,
                                                  SmsCode.used_at.is_(None))
                            .order_by(SmsCode.created_at.desc()).limit(1))
    if row is None or row.expires_at < utcnow() or row.attempts >= MAX_ATTEMPTS:
        return False
    if not check_password_hash(row.code_hash, code.strip()):
        row.attempts += 1
        db.session.commit()
        return False
    row.used_at = utcnow()
    db.session.commit()
    return True
