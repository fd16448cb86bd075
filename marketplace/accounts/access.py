"""Who may do what: one decorator factory for roles, answering pages and fragments differently."""
from functools import wraps

from flask import make_response, redirect, request, url_for
from flask_login import current_user

from ..errors import forbidden
from ..extensions import db, login_manager
from ..htmx import is_htmx, redirect_htmx
from ..models import User
from . import sessions

PENDING_DETAIL = "您的账号尚在审核中（通常1-2个工作日），审核通过后即可下单、申领创新券和开店。"


@login_manager.user_loader
def load_user(session_id: str):
    """The account a session or remember-me cookie names ("id:version:nonce", see sessions.py), on every request:
    nobody once its session_version has moved on (logout, 退出所有设备, a password change, a suspension), once the
    sign-in is older than REMEMBER_COOKIE_DURATION, nor while the account is disabled."""
    signed_in = sessions.parse(session_id)
    user = None if signed_in is None else db.session.get(User, signed_in.user_id)
    if user is None or not signed_in.admits(user.session_version, user.status):
        return None
    user.sign_in_nonce = signed_in.nonce
    return user


@login_manager.unauthorized_handler
def unauthorized():
    """Pages go to the login form with `next`; htmx requests are told to navigate there."""
    login_url = url_for("accounts.login", next=request.full_path.rstrip("?"))
    if is_htmx():
        return redirect_htmx(make_response("请先登录", 401), login_url)
    return redirect(login_url)


def roles_required(*roles: str, approved: bool = True):
    """Require a signed-in user with one of `roles` (any role if none given); `approved` also
    requires the reviewer's approval of the account."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                raise forbidden("您的账号类型无权执行此操作。")
            if approved and not current_user.is_approved:
                raise forbidden(PENDING_DETAIL)
            return view(*args, **kwargs)
        return wrapped
    return decorator


reviewer_required = roles_required("reviewer")
