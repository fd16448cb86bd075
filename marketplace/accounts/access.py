"""Who may do what: one decorator factory for roles, answering pages and fragments differently."""
from functools import wraps

from flask import make_response, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import joinedload

from ..errors import forbidden
from ..extensions import db, login_manager
from ..htmx import is_htmx, redirect_htmx
from ..models import Cart, CartLine, User
from . import sessions

PENDING_DETAIL = "您的账号尚在审核中（通常1-2个工作日），审核通过后即可下单、申领创新券和开店。"


@login_manager.user_loader
def load_user(session_id: str):
    """The account a session or remember-me cookie names ("id:version:nonce", see sessions.py), on every request:
    nobody once its session_version has moved on (logout, 退出所有设备, a password change, a suspension), once the
    sign-in is older than REMEMBER_COOKIE_DURATION, nor while the account is disabled."""
    signed_in = sessions.parse(session_id)
    if signed_in is None:
        return None
    # One query a request: the account with what the header and most views ask of it (its enterprise or provider
    # unit, the pieces in its cart).
    row = db.session.execute(select(User, cart_pieces(User.id)).where(User.id == signed_in.user_id)
                             .options(joinedload(User.enterprise), joinedload(User.provider))).first()
    if row is None or not signed_in.admits(row.User.session_version, row.User.status):
        return None
    user = row.User
    user.sign_in_nonce = signed_in.nonce
    user.cart_pieces = row[1]  # the badge of a GET (orders/cart.py), which changes no cart
    return user


def cart_pieces(user_id) -> ScalarSelect:
    """How many pieces the cart of `user_id` (a value or a correlated column) holds: the header's 购物车 badge."""
    return (select(func.coalesce(func.sum(CartLine.quantity), 0)).join(Cart, Cart.id == CartLine.cart_id)
            .where(Cart.user_id == user_id).scalar_subquery())


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
