from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import audit
from ..accounts.access import reviewer_required
from ..extensions import db
from ..htmx import is_htmx
from ..models import AccountStatus, Role, User, utcnow
from ..pagination import paginate
from . import bp
from .forms import DecisionForm, RejectForm
from .queues import QUEUES, register_queue


@bp.before_request
@reviewer_required
def require_reviewer():
    """Every /admin route is for approved reviewers only."""


register_queue("待审核账号", "admin.accounts", User.created_at, User.status == AccountStatus.PENDING,
               User.role != Role.REVIEWER)


@bp.get("/")
def home():
    queues = [(queue, *queue.summary()) for queue in QUEUES]
    return render_template("admin/home.html", queues=queues)


@bp.get("/accounts")
def accounts():
    status = request.args.get("status", AccountStatus.PENDING)
    if status not in AccountStatus.LABELS:
        status = AccountStatus.PENDING
    stmt = (select(User).where(User.status == status, User.role != Role.REVIEWER)
            .order_by(User.created_at.asc(), User.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    return render_template("admin/accounts.html", page=page, status=status, labels=AccountStatus.LABELS,
                           reject_form=RejectForm())


def _pending_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role == Role.REVIEWER:
        abort(404)
    return user


@bp.post("/accounts/<int:user_id>/approve")
def approve_account(user_id: int):
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    user = _pending_user(user_id)
    _decide(user, AccountStatus.ACTIVE, form.reason.data or None)
    user.approved_at, user.approved_by_id = utcnow(), current_user.id
    db.session.commit()
    return _after_decision(user, f"已通过 {user.name}（{user.email}）的账号")


@bp.post("/accounts/<int:user_id>/reject")
def reject_account(user_id: int):
    form = RejectForm()
    user = _pending_user(user_id)
    if not form.validate_on_submit():
        template = "admin/partials/account_row.html" if is_htmx() else "admin/account_decision.html"
        return render_template(template, user=user, reject_form=form), 422
    _decide(user, AccountStatus.REJECTED, form.reason.data)
    db.session.commit()
    return _after_decision(user, f"已驳回 {user.name}（{user.email}）的账号")


def _decide(user: User, to_state: str, reason: str | None) -> None:
    if user.status == to_state:
        return
    audit.record("user", user.id, "review_account", user.status, to_state, reason)
    user.status, user.status_reason = to_state, reason


def _after_decision(user: User, message: str):
    if is_htmx():
        return render_template("admin/partials/account_row.html", user=user, reject_form=RejectForm())
    flash(message, "success")
    return redirect(url_for("admin.accounts", status=AccountStatus.PENDING), 303)
