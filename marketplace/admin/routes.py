from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import related_parties
from ..accounts import lifecycle
from ..accounts.access import reviewer_required
from ..extensions import db
from ..htmx import is_htmx
from ..models import AccountStatus, Enterprise, Provider, Role, ShopStatus, User, utcnow
from ..pagination import paginate
from . import bp, queue_filters, queues
from .decisions import Desk, button, decide
from .forms import DecisionForm, DisableAccountForm, RejectForm
from .queues import register_queue


@bp.before_request
@reviewer_required
def require_reviewer():
    """Every /admin route is for approved reviewers only."""


register_queue("待审核账号", "admin.accounts", User.created_at, User.status == AccountStatus.PENDING,
               User.role != Role.REVIEWER, area="账号与开店", position=1)


@bp.get("/")
def home():
    return render_template("admin/home.html", areas=queues.by_area(), now=utcnow())


# ---------------------------------------------------------------- 账号审核

@bp.get("/accounts")
def accounts():
    return _accounts_page()


def _accounts_page(selection_error: str | None = None, checked: list[int] | None = None):
    status = queue_filters.tab(AccountStatus.LABELS, AccountStatus.PENDING)
    role = queue_filters.tab(Role.SELF_SERVICE, "", name="role")
    q = queue_filters.search_text()
    stmt = (select(User).where(User.status == status, User.role != Role.REVIEWER, *_account_filters(role, q))
            .options(joinedload(User.enterprise), joinedload(User.provider))
            .order_by(User.created_at.asc(), User.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    args = {"status": status, "role": role or None, "q": q or None}
    return render_template("admin/accounts.html", page=page, status=status, labels=AccountStatus.LABELS,
                           roles={key: Role.LABELS[key] for key in Role.SELF_SERVICE}, role=role, q=q, args=args,
                           checked=queues.ticked(page.items, checked), selection_error=selection_error,
                           reject_form=RejectForm(), related=related_parties.of_accounts(page.items))


def _account_filters(role: str, q: str) -> list:
    """A role, and text matched against the person (name, email, phone) and their organisation
    (name, 统一社会信用代码)."""
    filters = [User.role == role] if role else []
    if q:
        def organisation(model):
            return User.id.in_(select(model.user_id).where(or_(model.name.contains(q, autoescape=True),
                                                               model.credit_code.contains(q.upper(), autoescape=True))))
        filters.append(or_(User.name.contains(q, autoescape=True), User.email.contains(q, autoescape=True),
                           User.phone.contains(q, autoescape=True), organisation(Enterprise), organisation(Provider)))
    return filters


def _account(user_id: int) -> User:
    """The account to decide, row-locked so two reviewers cannot decide it at once; reviewers' own
    accounts are not decided here."""
    user = db.session.scalar(select(User).where(User.id == user_id, User.role != Role.REVIEWER).with_for_update())
    if user is None:
        abort(404)
    return user


@bp.post("/accounts/<int:user_id>/approve")
def approve_account(user_id: int):
    user, form = _account(user_id), DecisionForm()
    return decide(DESK, user, lambda: lifecycle.require(user, AccountStatus.PENDING), button(form),
                  lambda: _approve(user, form.reason.data or None))


@bp.post("/accounts/approve")
def approve_accounts():
    """批量通过: each chosen account through the same rule as one alone, one audit row each; those decided
    meanwhile are skipped."""
    if not DecisionForm().validate_on_submit():
        abort(400)
    ids = queues.selected_ids("user_id")
    if not ids:
        return _accounts_page("请勾选要通过的账号", []), 422
    found = db.session.scalars(select(User).where(User.id.in_(ids), User.role != Role.REVIEWER)
                               .order_by(User.id).with_for_update()).all()
    approved = sum(_approved(user) for user in found)
    db.session.commit()
    flash(queues.bulk_outcome(approved, len(ids) - approved), "success")
    return redirect(url_for("admin.accounts", **queues.list_args("status", "role", "q")), 303)


def _approved(user: User) -> bool:
    try:
        lifecycle.approve(user, current_user.id)
    except lifecycle.Refused:  # refused before anything changed: decided meanwhile
        return False
    return True


@bp.post("/accounts/<int:user_id>/reject")
def reject_account(user_id: int):
    user, form = _account(user_id), RejectForm()
    return decide(DESK, user, lambda: lifecycle.require(user, AccountStatus.PENDING), form.validate_on_submit,
                  lambda: _reject(user, form.reason.data), reject_form=form)


@bp.post("/accounts/<int:user_id>/disable")
def disable_account(user_id: int):
    """停用 an approved account: it is signed out everywhere on its next request (load_user refuses disabled
    accounts, and its session version moves on, so a later 恢复 revives no old session) and cannot sign in."""
    user, form = _account(user_id), DisableAccountForm()
    return decide(DESK, user, lambda: lifecycle.require(user, AccountStatus.ACTIVE), form.validate_on_submit,
                  lambda: _disable(user, form.reason.data.strip()), disable_form=form)


@bp.post("/accounts/<int:user_id>/enable")
def enable_account(user_id: int):
    """恢复 a disabled account: it signs in again with its password (its old sessions stay ended)."""
    user, form = _account(user_id), DecisionForm()
    return decide(DESK, user, lambda: lifecycle.require(user, AccountStatus.DISABLED), button(form),
                  lambda: _enable(user, (form.reason.data or "").strip() or None))


# ---------------------------------------------------------------- decisions (the rules: accounts.lifecycle)

def _approve(user: User, reason: str | None) -> str:
    lifecycle.approve(user, current_user.id, reason)
    return f"已通过 {user.name}（{user.email}）的账号"


def _reject(user: User, reason: str) -> str:
    lifecycle.reject(user, current_user.id, reason)
    return f"已驳回 {user.name}（{user.email}）的账号"


def _disable(user: User, reason: str) -> str:
    closed = lifecycle.disable(user, current_user.id, reason)
    shop = "，店铺已退出（服务已下架，不再接受新订单）" if closed else ""
    return f"已停用 {user.name}（{user.email}）的账号，其所有登录已退出{shop}"


def _enable(user: User, reason: str | None) -> str:
    lifecycle.enable(user, current_user.id, reason)
    closed = user.provider is not None and user.provider.status == ShopStatus.REMOVED
    shop = "；其店铺仍为已退出，如需重新开放请在服务单位页面办理恢复" if closed else ""
    return f"已恢复 {user.name}（{user.email}）的账号{shop}"


# ---------------------------------------------------------------- the account's row

def _panel(user: User, status: int, reject_form: RejectForm | None = None, refusal: str | None = None,
           notice: str | None = None, **forms):
    """The account's row in the queue with the refusal or the refused form's errors beside it: the row alone for
    htmx, else the account's own page."""
    reject_form = reject_form or RejectForm(formdata=None)
    if is_htmx():
        return _row(user, reject_form, error=refusal, **forms), status
    return render_template("admin/account_decision.html", user=user, reject_form=reject_form, error=refusal,
                           related=related_parties.of_accounts([user]), **forms), status


DESK = Desk(_panel, lambda _user, came_from: url_for("admin.accounts", status=came_from))


def _row(user: User, reject_form: RejectForm, **forms) -> str:
    """The account's row in the queue (its checkbox column included), for an htmx swap."""
    return render_template("admin/partials/account_row.html", user=user, reject_form=reject_form, checked=set(),
                           related=related_parties.of_accounts([user]), **forms)
