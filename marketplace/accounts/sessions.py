"""Sessions that end. The session and the remember-me cookie carry "id:version:nonce" (User.get_id): the account's
session_version, checked on every request by access.load_user, and a random nonce chosen at each sign-in, so no
two sign-ins share a remember-me cookie. Raising session_version (logout, 退出所有设备, a password change, a
reviewer's suspension) ends every session and remember-me cookie the account has, on every device and worker."""
import secrets

from flask import session
from flask_login import login_user
from sqlalchemy import update

from ..extensions import db
from ..models import User


def sign_in(user: User, remember: bool) -> None:
    """A fresh session (nothing from before survives: fixation) for this sign-in only."""
    session.clear()
    user.sign_in_nonce = secrets.token_urlsafe(16)
    login_user(user, remember=remember)


def end_everywhere(user: User) -> None:
    """Every session and remember-me cookie of `user` stops working once this transaction commits. One UPDATE,
    so two at once both count; the caller audits and commits."""
    db.session.execute(update(User).where(User.id == user.id)
                       .values(session_version=User.session_version + 1)
                       .execution_options(synchronize_session=False))
    db.session.refresh(user, ["session_version"])
