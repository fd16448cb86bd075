"""Sessions that end. The session and the remember-me cookie carry "id:version:nonce" (User.get_id): the account's
session_version, checked on every request by access.load_user, and a nonce chosen at each sign-in, "<unix seconds
of the sign-in>.<random>", so no two sign-ins share a remember-me cookie. Raising session_version (logout, 退出所有设备,
a password change, a reviewer's suspension) ends every session and remember-me cookie the account has, on every
device and worker. The sign-in time ends a sign-in after REMEMBER_COOKIE_DURATION: Flask-Login signs only the id,
and a cookie's Expires binds only an honest browser, so a copied cookie would otherwise work for ever."""
import secrets
import time
from typing import NamedTuple

from flask import current_app, session
from flask_login import login_user
from sqlalchemy import update

from ..extensions import db
from ..ids import as_id
from ..models import AccountStatus, User

REMEMBERED = "remember_me"  # the session key keeping the sign-in's 记住我 choice


def sign_in(user: User, remember: bool) -> None:
    """A fresh session (nothing from before survives: fixation) for this sign-in only."""
    session.clear()
    session[REMEMBERED] = remember
    user.sign_in_nonce = new_nonce()
    login_user(user, remember=remember)


def new_nonce() -> str:
    """This sign-in's nonce: when it happened, and a random part no other sign-in shares."""
    return f"{int(time.time())}.{secrets.token_urlsafe(12)}"


def still_current(nonce: str) -> bool:
    """Whether a sign-in whose nonce is `nonce` is younger than REMEMBER_COOKIE_DURATION; a nonce without a time
    (made before sign-ins carried one, or forged) is not."""
    issued = nonce.partition(".")[0]
    if not issued.isascii() or not issued.isdigit():
        return False
    lasts = current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds()
    return time.time() - int(issued) <= lasts


class SessionId(NamedTuple):
    """What a session or remember-me cookie names: "id:version:nonce" (User.get_id)."""
    user_id: int
    version: str
    nonce: str

    def admits(self, session_version: int, status: str) -> bool:
        """Whether the account, as the database holds it now, still honours this sign-in."""
        return str(session_version) == self.version and status != AccountStatus.DISABLED


def parse(session_id: str) -> SessionId | None:
    """The sign-in a cookie names, or None when it is malformed or older than REMEMBER_COOKIE_DURATION. The caller
    reads the account and asks SessionId.admits() (access.load_user; uploads/early.py on a connection of its own)."""
    user_id, version, nonce = (session_id.split(":") + ["", ""])[:3]
    number = as_id(user_id)
    if number is None or not still_current(nonce):
        return None
    return SessionId(number, version, nonce)


def remembered() -> bool:
    """Whether this session's sign-in asked for 记住我 (a re-sign-in, after a password change, keeps the choice)."""
    return bool(session.get(REMEMBERED))


def end_everywhere(user: User) -> None:
    """Every session and remember-me cookie of `user` stops working once this transaction commits. One UPDATE,
    so two at once both count; the caller audits and commits."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user, ["session_version"])
