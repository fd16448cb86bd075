"""Throttling kept in the database, so it holds across workers and machines: failed sign-ins per (email, IP), and
other counted events per (subject, IP) in the same table, e.g. SMS codes sent from one address."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from .. import locks
from ..extensions import db
from ..models import LoginAttempt, utcnow


def _window_start():
    return utcnow() - timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])


def wait_message() -> str:
    """How long a locked sign-in waits, as the refusal says it."""
    return f"请{current_app.config['LOGIN_WINDOW_MINUTES']}分钟后再试"


def take_turn(email: str, ip: str) -> None:
    """Sign-ins of one (email, address) wait for each other until the earlier one commits or rolls back, so
    "locked yet?", the password check and the recorded failure happen one attempt at a time: exactly
    LOGIN_MAX_FAILURES passwords are ever checked, however many arrive at once."""
    locks.hold(f"login:{email}|{ip}")


def is_locked(email: str, ip: str) -> bool:
    return events_since(email, ip, _window_start()) >= current_app.config["LOGIN_MAX_FAILURES"]


def record_failure(email: str, ip: str) -> None:
    db.session.add(LoginAttempt(email=email, ip=ip))
    db.session.commit()


def clear(email: str, ip: str) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.ip == ip))


def record_event(subject: str, ip: str) -> None:
    """Count one event for a subject that is never an email address (e.g. "sms"), so the login counters and
    clear() never see it."""
    db.session.add(LoginAttempt(email=subject, ip=ip))


def events_since(subject: str, ip: str, since) -> int:
    """How many failures (subject: the email) or events (subject: e.g. "sms") came from `ip` since `since`."""
    return db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.email == subject, LoginAttempt.ip == ip, LoginAttempt.at >= since))
