from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from .. import audit, related_parties
from ..accounts import sessions
from ..accounts.access import reviewer_required
from ..extensions import db
from ..htmx import is_htmx
from ..models import AccountStatus, Enterprise, Provider, Role, ShopStatus, User, utcnow
from ..pagination import paginate
from . import bp, providers, queue_filters, queues
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
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    user = _account(user_id)
    if not approve(user, form.reason.data or None):
        return _after_decision(user, f"{user.name}（{user.email}）的账号已被处理（{user.status_label}），未作更改", "info")
    db.session.commit()
    return _after_decision(user, f"已通过 {user.name}（{user.email}）的账号")


@bp.post("/accounts/approve")
def approve_accounts():
    """批量通过: each chosen account through approve(), one audit row each; those decided meanwhile are skipped."""
    if not DecisionForm().validate_on_submit():
        abort(400)
    ids = queues.selected_ids("user_id")
    if not ids:
        return _accounts_page("请勾选要通过的账号", []), 422
    found = db.session.scalars(select(User).where(User.id.in_(ids), User.role != Role.REVIEWER)
                               .order_by(User.id).with_for_update()).all()
    approved = sum(approve(user) for user in found)
    db.session.commit()
    flash(queues.bulk_outcome(approved, len(ids) - approved), "success")
    return redirect(url_for("admin.accounts", **queues.list_args("status", "role", "q")), 303)


@bp.post("/accounts/<int:user_id>/reject")
def reject_account(user_id: int):
    form = RejectForm()
    user = _account(user_id)
    if not form.validate_on_submit():
        return _refused(user, form)
    _decide(user, AccountStatus.REJECTED, form.reason.data)
    db.session.commit()
    return _after_decision(user, f"已驳回 {user.name}（{user.email}）的账号")


@bp.post("/accounts/<int:user_id>/disable")
def disable_account(user_id: int):
    """停用 an approved account: it is signed out everywhere on its next request (load_user refuses disabled
    accounts, and its session version moves on, so a later 恢复 revives no old session) and cannot sign in."""
    form = DisableAccountForm()
    user = _account(user_id)
    if not form.validate_on_submit():
        return _refused(user, disable_form=form)
    if user.status != AccountStatus.ACTIVE:
        return _unchanged(user, AccountStatus.ACTIVE)
    reason = form.reason.data.strip()
    _change_status(user, AccountStatus.DISABLED, "disable_account", reason)
    sessions.end_everywhere(user)
    closed = _stop_trading(user, reason)
    db.session.commit()
    shop = "，店铺已退出（服务已下架，不再接受新订单）" if closed else ""
    return _after_decision(user, f"已停用 {user.name}（{user.email}）的账号，其所有登录已退出{shop}",
                           back_to=AccountStatus.ACTIVE)


@bp.post("/accounts/<int:user_id>/enable")
def enable_account(user_id: int):
    """恢复 a disabled account: it signs in again with its password (its old sessions stay ended)."""
    form = DecisionForm()
    user = _account(user_id)
    if not form.validate_on_submit():
        abort(400)
    if user.status != AccountStatus.DISABLED:
        return _unchanged(user, AccountStatus.DISABLED)
    _change_status(user, AccountStatus.ACTIVE, "enable_account", (form.reason.data or "").strip() or None)
    db.session.commit()
    closed = user.provider is not None and user.provider.status == ShopStatus.REMOVED
    shop = "；其店铺仍为已退出，如需重新开放请在服务单位页面办理恢复" if closed else ""
    return _after_decision(user, f"已恢复 {user.name}（{user.email}）的账号{shop}", back_to=AccountStatus.DISABLED)


def _stop_trading(user: User, reason: str) -> bool:
    """A suspended provider's shop stops trading: 自动接单 goes off, and an open shop exits as a reviewer's removal
    makes it (listings leave the catalog, no new orders, pilot off; the catalog cache follows the shop row). 恢复 of
    the account does not reopen it: the reviewer reinstates the shop on its page. Whether an open shop closed."""
    shop = db.session.scalar(select(Provider).where(Provider.user_id == user.id).with_for_update())
    if shop is None:
        return False
    if shop.auto_accept:
        audit.record("provider", shop.id, "auto_accept_off", "on", "off", "随账号停用关闭自动接单")
        shop.auto_accept = False
    if shop.status != ShopStatus.OPEN:
        return False
    providers.remove(shop, f"账号停用：{reason}")
    return True


def _change_status(user: User, to_state: str, action: str, reason: str | None) -> None:
    audit.record("user", user.id, action, user.status, to_state, reason)
    user.status, user.status_reason = to_state, reason


def _unchanged(user: User, back_to: str):
    return _after_decision(user, f"{user.name}（{user.email}）的账号已被处理（{user.status_label}），未作更改", "info",
                           back_to=back_to)


def _refused(user: User, reject_form: RejectForm | None = None, **forms):
    """The account with the refused form's errors beside it: its row for htmx, else its page; 422."""
    reject_form = reject_form or RejectForm(formdata=None)
    if is_htmx():
        return _row(user, reject_form, **forms), 422
    return render_template("admin/account_decision.html", user=user, reject_form=reject_form,
                           related=related_parties.of_accounts([user]), **forms), 422


def approve(user: User, reason: str | None = None) -> bool:
    """The one way an account is approved (alone or in a batch): audited, and only while it waits.
    False when it was decided meanwhile, so nothing changes."""
    if user.status != AccountStatus.PENDING:
        return False
    _decide(user, AccountStatus.ACTIVE, reason)
    user.approved_at, user.approved_by_id = utcnow(), current_user.id
    return True


def _decide(user: User, to_state: str, reason: str | None) -> None:
    if user.status == to_state:
        return
    audit.record("user", user.id, "review_account", user.status, to_state, reason)
    user.status, user.status_reason = to_state, reason


def _after_decision(user: User, message: str, category: str = "success", back_to: str = AccountStatus.PENDING):
    if is_htmx():
        return _row(user, RejectForm(formdata=None))
    flash(message, category)
    return redirect(url_for("admin.accounts", status=back_to), 303)


def _row(user: User, reject_form: RejectForm, **forms) -> str:
    """The account's row in the queue (its checkbox column included), for an htmx swap."""
    return render_template("admin/partials/account_row.html", user=user, reject_form=reject_form, checked=set(),
                           related=related_parties.of_accounts([user]), **forms)
