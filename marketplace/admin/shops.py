"""Reviewing 开店申请 (SPEC 1.6, 3.1): the queue, one application in full, and the decisions.

Direct-eligible units open on approval; third-party units go to publicity (公示) first and open when
the reviewer confirms after the period, unless an objection is still open.
"""
from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import audit, related_parties
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import (Objection, Provider, PublicityBatch, Service, ServiceStatus, ShopStatus, User, china_today,
                      utcnow)
from ..pagination import paginate
from ..seller.shop import SHOP_LABELS, attachments, entry_problems, publicity_batch
from . import bp, queue_filters
from .forms import DecisionForm, RejectForm
from .queues import register_queue

register_queue("待审核开店申请", "admin.shops", Provider.submitted_at, Provider.status == ShopStatus.PENDING,
               area="账号与开店", position=2)
register_queue("公示中的开店申请", "admin.shops", Provider.submitted_at, Provider.status == ShopStatus.PUBLICITY,
               area="账号与开店", position=3, status=ShopStatus.PUBLICITY)


# Tabs of the queue, in the order a reviewer works through them.
TABS = {status: ShopStatus.LABELS[status] for status in (
    ShopStatus.PENDING, ShopStatus.PUBLICITY, ShopStatus.REJECTED, ShopStatus.OPEN, ShopStatus.DRAFT,
    ShopStatus.REMOVED)}


class Refused(Exception):
    """A decision the application's current state does not allow; the message says why."""


@bp.get("/shops")
def shops():
    status = queue_filters.tab(TABS, ShopStatus.PENDING)
    q = queue_filters.search_text()
    stmt = (select(Provider, PublicityBatch)
            .outerjoin(PublicityBatch, Provider.publicity_batch_id == PublicityBatch.id)
            .where(Provider.status == status, *_shop_search(q))
            .order_by(Provider.submitted_at.asc(), Provider.id.asc()))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_either("admin/shops.html", "admin/partials/shop_list.html", page=page, status=status, labels=TABS,
                         q=q, args=queue_filters.kept_args(status, q), shop_labels=SHOP_LABELS,
                         entry_problems=entry_problems)


def _shop_search(q: str) -> list:
    """Text matched against the unit (name, 统一社会信用代码), its contact person and its account's email."""
    if not q:
        return []
    accounts = select(User.id).where(User.email.contains(q, autoescape=True))
    return [or_(Provider.name.contains(q, autoescape=True), Provider.credit_code.contains(q.upper(), autoescape=True),
                Provider.contact_name.contains(q, autoescape=True), Provider.user_id.in_(accounts))]


@bp.get("/shops/<int:provider_id>")
def shop_detail(provider_id: int):
    return render_template("admin/shops_detail.html", **_context(_provider(provider_id)))


@bp.post("/shops/<int:provider_id>/approve")
def approve_shop(provider_id: int):
    if not DecisionForm().validate_on_submit():
        abort(400)
    provider = _provider(provider_id)
    return _decide(provider, _approve, "已通过开店申请：{name}（{status}）")


@bp.post("/shops/<int:provider_id>/reject")
def reject_shop(provider_id: int):
    form = RejectForm()
    provider = _provider(provider_id)
    if not form.validate_on_submit():
        return _render(provider, reject_form=form), 422
    return _decide(provider, lambda p: _reject(p, form.reason.data.strip()), "已驳回开店申请：{name}")


@bp.post("/shops/<int:provider_id>/open")
def open_shop(provider_id: int):
    if not DecisionForm().validate_on_submit():
        abort(400)
    provider = _provider(provider_id)
    return _decide(provider, _open_after_publicity, "公示期满，已开店：{name}")


@bp.post("/shops/<int:provider_id>/pilot")
def shop_pilot(provider_id: int):
    """服务承诺制 pilots (SPEC 7.4): their services show 免审 and the provider confirms its buyers' materials."""
    if not DecisionForm().validate_on_submit():
        abort(400)
    provider = _provider(provider_id)
    on = request.form.get("pilot") == "1"
    done = "已列为服务承诺制试点：{name}" if on else "已取消服务承诺制试点：{name}"
    return _decide(provider, lambda p: _set_pilot(p, on), done)


# ---------------------------------------------------------------- transitions

def _set_pilot(provider: Provider, on: bool) -> None:
    _require(provider, ShopStatus.OPEN)
    if provider.is_pilot == on:
        raise Refused("该服务单位" + ("已是" if on else "不是") + "服务承诺制试点单位。")
    audit.record("provider", provider.id, "pilot_on" if on else "pilot_off", "pilot" if not on else "regular",
                 "pilot" if on else "regular")
    provider.is_pilot = on


def _approve(provider: Provider) -> None:
    _require(provider, ShopStatus.PENDING)
    problems = entry_problems(provider)
    if problems:
        raise Refused("不符合入库条件，不能通过：" + "；".join(p.message for p in problems))
    if provider.is_direct:
        _open(provider, "approve_application")
        return
    today, days = china_today(), current_app.config["PUBLICITY_DAYS"]  # as long as the claims' (SPEC 7.4)
    batch = PublicityBatch(kind="shop", title=f"服务单位入库公示：{provider.name}", starts_on=today,
                           ends_on=today + timedelta(days=days - 1), created_by_id=current_user.id)
    db.session.add(batch)
    db.session.flush()
    audit.record("provider", provider.id, "approve_application", provider.status, ShopStatus.PUBLICITY)
    provider.status, provider.publicity_batch_id = ShopStatus.PUBLICITY, batch.id


def _open_after_publicity(provider: Provider) -> None:
    _require(provider, ShopStatus.PUBLICITY)
    batch = publicity_batch(provider)
    if batch and not publicity_over(batch):
        raise Refused(f"公示期至{batch.ends_on.isoformat()}（含当天），公示期满后才能开店。")
    if _open_objections(provider):
        raise Refused("该服务单位有尚未处理的异议，处理完毕后才能开店。")
    if batch:
        batch.closed_at = utcnow()
    _open(provider, "open_after_publicity")


def publicity_over(batch: PublicityBatch) -> bool:
    """The period counts its first and last days (PublicityBatch.days): it is over the day after `ends_on`, as a
    claim's (settlement.close_publicity)."""
    return china_today() > batch.ends_on


def _reject(provider: Provider, reason: str) -> None:
    _require(provider, ShopStatus.PENDING, ShopStatus.PUBLICITY)
    audit.record("provider", provider.id, "reject_application", provider.status, ShopStatus.REJECTED, reason)
    provider.status, provider.status_reason = ShopStatus.REJECTED, reason
    batch = publicity_batch(provider)
    if batch and batch.closed_at is None:
        batch.closed_at = utcnow()
    # The services submitted with the application return to draft, to be edited and resubmitted with it.
    waiting = db.session.scalars(select(Service).where(Service.provider_id == provider.id,
                                                       Service.status == ServiceStatus.PENDING))
    for service in waiting:
        audit.record("service", service.id, "return_with_shop", service.status, ServiceStatus.DRAFT, reason)
        service.status = ServiceStatus.DRAFT


def _open(provider: Provider, action: str) -> None:
    audit.record("provider", provider.id, action, provider.status, ShopStatus.OPEN)
    provider.status, provider.status_reason, provider.opened_at = ShopStatus.OPEN, None, utcnow()


def _require(provider: Provider, *allowed: str) -> None:
    if provider.status not in allowed:
        wanted = "或".join(f"“{ShopStatus.LABELS[s]}”" for s in allowed)
        raise Refused(f"该申请当前为“{provider.status_label}”，只有{wanted}的申请可以执行此操作。")


def _open_objections(provider: Provider) -> int:
    return db.session.scalar(select(func.count(Objection.id)).where(Objection.provider_id == provider.id,
                                                                    Objection.status == "open"))


# ---------------------------------------------------------------- responses

def _decide(provider: Provider, transition, message: str):
    came_from = provider.status
    try:
        transition(provider)
    except Refused as refusal:
        db.session.rollback()
        return _render(db.session.get(Provider, provider.id), refusal=str(refusal)), 409
    db.session.commit()
    done = message.format(name=provider.name, status=provider.status_label)
    if is_htmx():
        return _render(provider, notice=done)
    flash(done, "success")
    return redirect(url_for("admin.shops", status=came_from), 303)


def _render(provider: Provider, **extra):
    template = "admin/partials/shop_decision.html" if is_htmx() else "admin/shops_detail.html"
    return render_template(template, **_context(provider, **extra))


def _context(provider: Provider, reject_form=None, refusal=None, notice=None) -> dict:
    services = db.session.scalars(select(Service).where(Service.provider_id == provider.id)
                                  .order_by(Service.id)).all()
    batch = publicity_batch(provider)
    return dict(provider=provider, attachments=attachments(provider), problems=entry_problems(provider),
                related=related_parties.enterprises_related_to([provider])[provider.id],
                services=services, batch=batch, open_objections=_open_objections(provider),
                publicity_over=batch is not None and publicity_over(batch),
                reject_form=reject_form or RejectForm(), refusal=refusal, notice=notice,
                shop_labels=SHOP_LABELS, embed=True)


def _provider(provider_id: int) -> Provider:
    provider = db.session.get(Provider, provider_id)
    if provider is None:
        abort(404)
    return provider
