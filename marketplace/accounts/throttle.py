"""Login throttling kept in the database, so it holds across workers and machines."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginAttempt, utcnow


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def is_locked(email: str, ip: str) -> bool:
    failures = db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.email == email, LoginAttempt.ip == ip, LoginAttempt.at >= _window_start()))
    return failures >= current_app.config["LOGIN_MAX_FAILURES"]


def record_failure(email: str, ip: str) -> None:
    db.session.add(LoginAttempt(email=email, ip=ip))
    db.session.commit()


def clear(email: str, ip: str) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.ip == ip))
