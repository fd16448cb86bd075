"""After review (SPEC 7.4, 1.3): the reviewer puts approved claims on /publicity, settles objections, closes the
periods that are over and records payment batches (with the Excel sheet for the bank and the cities).

Every move is a function of redemption.claims, which checks the claim's state, moves the voucher's money through
the ledger, keeps the order's timeline and writes the audit log; this module only asks, shows and commits."""
from dataclasses import dataclass

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import case, distinct, func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import DateField, IntegerField, RadioField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from .. import policy
from ..errors import render_error
from ..extensions import db
from ..forms import Form, choices, tidy
from ..htmx import is_htmx, render_either
from ..models import (
    Enterprise,
    Objection,
    Order,
    PaymentBatch,
    PublicityBatch,
    Redemption,
    RedemptionStatus,
    User,
    Voucher,
    VoucherApplication,
    china_today,
)
from ..models.redemption import OBJECTION_LABELS
from ..pagination import Page, page_number, paginate
from ..redemption import claims, export, ledger, settlement
from ..vouchers import local
from . import bp, queue_filters
from .decisions import Desk, decide
from .queue_filters import SETTLEMENT_TABS
from .queues import register_queue, selected_ids, ticked
from .redemptions import claim_search

OPEN = "open"
MAX_PUBLICITY_DAYS = 30
# The pick-lists (待公示, 待兑付) are paged with `page`; the batches below them with this argument.
BATCHES = "batches"

register_queue("待公示", "admin.publicity", Redemption.decided_at, Redemption.status == RedemptionStatus.APPROVED,
               area="兑付", position=2)
register_queue("兑付异议", "admin.objections", Objection.created_at, Objection.status == OPEN,
               Objection.redemption_id.is_not(None), area="兑付", position=3)
register_queue("待拨付", "admin.payments", Redemption.updated_at,
               Redemption.status == RedemptionStatus.AWAITING_PAYMENT, area="兑付", position=4)


class PublishForm(Form):
    days = IntegerField("公示天数", validators=[
        InputRequired(message="请填写公示天数"),
        NumberRange(min=1, max=MAX_PUBLICITY_DAYS, message=f"公示天数应为1至{MAX_PUBLICITY_DAYS}天")])


class ResolveForm(Form):
    upheld = RadioField("处理结论", choices=choices((("0", "异议不成立，继续兑付"), ("1", "异议成立，撤销兑付"))),
                        validators=[InputRequired(message="请选择处理结论")])
    resolution = TextAreaField("处理意见", filters=[tidy], validators=[
        DataRequired(message="请填写处理意见"), Length(max=2000, message="处理意见不能超过2000字")])


class PaymentForm(Form):
    paid_on = DateField("拨付日期", validators=[InputRequired(message="请填写拨付日期")])
    reference = StringField("拨付凭证号", filters=[tidy], validators=[
        DataRequired(message="请填写拨付凭证号"), Length(max=100, message="凭证号不能超过100字")])

    def validate_paid_on(self, field):
        if field.data is not None and field.data > china_today():
            raise ValidationError("拨付日期不能晚于今天")


# ---------------------------------------------------------------- shared

def _locked_claims(ids: list[int]) -> list[Redemption]:
    """The chosen claims, locked for the move; one that no longer exists is a stale page (409)."""
    found = db.session.scalars(select(Redemption).where(Redemption.id.in_(ids)).order_by(Redemption.id)
                               .with_for_update()).all()
    if len(found) != len(ids):
        raise claims.Refused("所选兑付申请有的已不存在，请刷新页面后重试。")
    return list(found)


def _pick_list(status: str, oldest_first_by, *filters, checked: list[int] | None = None) -> dict:
    """The pick-list of a batch (公示, 拨付): one page of the claims in `status`, oldest first, matching the search
    box (enterprise, order number, provider) and `filters`. Ticked are the ids a refused batch posted (they stay
    ticked on its page), else the whole page after 全选本页 (?all=1). Returns the template's context."""
    q = queue_filters.search_text()
    stmt = (select(Redemption).where(Redemption.status == status, *claim_search(q), *filters)
            .options(joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider),
                     joinedload(Redemption.voucher).joinedload(Voucher.application))
            .order_by(oldest_first_by, Redemption.id))
    picks = paginate(stmt, current_app.config["PER_PAGE"])
    return {"picks": picks, "q": q, "checked": ticked(picks.items, checked)}


def _kept_args(q: str, batches: Page, city: str = "") -> dict:
    """What the pick-list's links and its batch form carry on: its filters, and the page of the batches below."""
    return {"q": q or None, "city": city or None, BATCHES: batches.page if batches.page > 1 else None}


def _refused(refusal: Exception):
    db.session.rollback()
    return render_error(409, str(refusal))


# ---------------------------------------------------------------- 公示

@dataclass
class BatchStats:
    claims: int = 0
    in_publicity: int = 0
    passed: int = 0
    rejected: int = 0
    objected: int = 0


@bp.get("/publicity")
def publicity():
    return _publicity_page(PublishForm(formdata=None, days=current_app.config["PUBLICITY_DAYS"]))


@bp.post("/publicity")
def publish_claims():
    form = PublishForm()
    ids = selected_ids("claim_id")
    if not form.validate_on_submit() or not ids:
        return _publicity_page(form, ids, None if ids else "请勾选要公示的兑付申请"), 422
    try:
        batch = settlement.publish(_locked_claims(ids), current_user, days=form.days.data)
    except claims.Refused as refusal:
        return _refused(refusal)
    db.session.commit()
    flash(f"已公示 {len(ids)} 项兑付，公示期 {batch.starts_on:%Y-%m-%d} 至 {batch.ends_on:%Y-%m-%d}。", "success")
    return redirect(url_for("admin.publicity", q=queue_filters.search_text() or None), 303)


@bp.post("/publicity/close")
def close_publicity():
    """公示期满: claims whose period is over and that have no open objection move to 待兑付."""
    moved = settlement.close_publicity(actor_id=current_user.id)
    db.session.commit()
    flash(f"已结束公示：{moved} 项兑付转入待兑付。" if moved else "没有公示期满且无异议的兑付。",
          "success" if moved else "info")
    return redirect(url_for("admin.publicity"), 303)


def _publicity_page(form: PublishForm, checked: list[int] | None = None, selection_error: str | None = None):
    stmt = (select(PublicityBatch).where(PublicityBatch.kind == "redemption")
            .order_by(PublicityBatch.starts_on.desc(), PublicityBatch.id.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"], page_number(BATCHES))
    pick = _pick_list(RedemptionStatus.APPROVED, Redemption.decided_at, checked=checked)
    return render_either("admin/publicity_batches.html", "admin/partials/publicity_pick_list.html", form=form,
                         selection_error=selection_error, args=_kept_args(pick["q"], page), page=page,
                         stats=_batch_stats([batch.id for batch in page.items]), today=china_today(), **pick)


def _batch_stats(batch_ids: list[int]) -> dict[int, BatchStats]:
    stats = {batch_id: BatchStats() for batch_id in batch_ids}
    if not batch_ids:
        return stats
    counted = db.session.execute(
        select(Redemption.publicity_batch_id, func.count(),
               func.sum(case((Redemption.status == RedemptionStatus.PUBLICITY, 1), else_=0)),
               func.sum(case((Redemption.status.in_((RedemptionStatus.AWAITING_PAYMENT, RedemptionStatus.PAID)), 1),
                             else_=0)),
               func.sum(case((Redemption.status == RedemptionStatus.REJECTED, 1), else_=0)))
        .where(Redemption.publicity_batch_id.in_(batch_ids)).group_by(Redemption.publicity_batch_id))
    for batch_id, total, in_publicity, passed, rejected in counted:
        stats[batch_id] = BatchStats(total, int(in_publicity or 0), int(passed or 0), int(rejected or 0))
    objected = db.session.execute(
        select(Redemption.publicity_batch_id, func.count(distinct(Objection.redemption_id)))
        .join(Objection, Objection.redemption_id == Redemption.id)
        .where(Redemption.publicity_batch_id.in_(batch_ids), Objection.status == OPEN)
        .group_by(Redemption.publicity_batch_id))
    for batch_id, count in objected:
        stats[batch_id].objected = count
    return stats


# ---------------------------------------------------------------- 异议

@dataclass
class ObjectionRow:
    objection: Objection
    claim: Redemption
    lodger: User
    form: ResolveForm
    refusal: str | None = None
    labels = OBJECTION_LABELS


@bp.get("/objections")
def objections():
    status = queue_filters.tab(SETTLEMENT_TABS, OPEN)
    q = queue_filters.search_text()
    stmt = (_objection_listing(status)
            .where(*queue_filters.settlement_filter(Objection.status, status), *_objection_search(q)))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_either("admin/objections.html", "admin/partials/payment_objection_list.html", page=page,
                         rows=_objection_rows(page.items), status=status, labels=SETTLEMENT_TABS, q=q,
                         args=queue_filters.kept_args(status, q))


@bp.post("/objections/<int:objection_id>/resolve")
def resolve_objection(objection_id: int):
    objection, form = db.session.get(Objection, objection_id, with_for_update=True), ResolveForm()
    if objection is None or objection.redemption_id is None:
        abort(404)
    return decide(OBJECTION_DESK, objection, lambda: settlement.require_open_objection(objection),
                  form.validate_on_submit, lambda: _resolve(objection, form), form=form)


def _resolve(objection: Objection, form: ResolveForm) -> str:
    settlement.resolve_objection(objection, current_user, form.upheld.data == "1", form.resolution.data)
    return "异议已处理：" + OBJECTION_LABELS[objection.status] + "。"


def _objection_listing(status: str = queue_filters.ALL):
    """Objections to claims with the claim and who lodged them, in the order of the tab (see queue_filters)."""
    return (select(Objection, Redemption, User)
            .join(Redemption, Objection.redemption_id == Redemption.id)
            .join(User, Objection.user_id == User.id)
            .options(joinedload(Redemption.enterprise), joinedload(User.enterprise))
            .order_by(*queue_filters.settlement_order(status, Objection.status, Objection.created_at,
                                                      Objection.resolved_at, Objection.id)))


def _objection_search(q: str) -> list:
    """Text matched against the claiming enterprise's name and the lodger (name, email, or enterprise name)."""
    if not q:
        return []
    named = select(Enterprise.id).where(Enterprise.name.contains(q, autoescape=True))
    lodgers = select(Enterprise.user_id).where(Enterprise.name.contains(q, autoescape=True))
    return [or_(Redemption.enterprise_id.in_(named), User.name.contains(q, autoescape=True),
                User.email.contains(q, autoescape=True), Objection.user_id.in_(lodgers))]


def _objection_rows(items, form: ResolveForm | None = None, refusal: str | None = None) -> list[ObjectionRow]:
    return [ObjectionRow(objection, claim, lodger, form or ResolveForm(formdata=None), refusal)
            for objection, claim, lodger in items]


def _objection_answer(objection: Objection, status: int, form: ResolveForm | None = None,
                      refusal: str | None = None, notice: str | None = None):
    """The objection's row alone (htmx), or the list page holding just that row (without JavaScript); the row
    shows the objection's status, not the notice."""
    items = db.session.execute(_objection_listing().where(Objection.id == objection.id)).all()
    rows = _objection_rows(items, form, refusal)
    if is_htmx():
        return render_template("admin/partials/payment_objection_row.html", row=rows[0]), status
    return render_template("admin/objections.html", page=None, rows=rows), status


OBJECTION_DESK = Desk(_objection_answer, lambda _objection, _came_from: url_for("admin.objections"))


# ---------------------------------------------------------------- 拨付

@bp.get("/payments")
def payments():
    return _payments_page(PaymentForm(formdata=None, paid_on=china_today()))


@bp.post("/payments")
def pay_claims():
    form = PaymentForm()
    ids = selected_ids("claim_id")
    if not form.validate_on_submit() or not ids:
        return _payments_page(form, ids, None if ids else "请勾选要拨付的兑付申请"), 422
    try:
        batch = settlement.pay(_locked_claims(ids), current_user, form.paid_on.data, form.reference.data)
    except (claims.Refused, ledger.BalanceRefused) as refusal:
        return _refused(refusal)
    db.session.commit()
    flash(f"已登记拨付批次 #{batch.id}：{len(ids)} 项兑付。", "success")
    return redirect(url_for("admin.payment_batch", batch_id=batch.id), 303)


@bp.get("/payments/<int:batch_id>")
def payment_batch(batch_id: int):
    batch = _batch(batch_id)
    rows = export.payment_rows(batch)
    return render_template("admin/payment_batch.html", batch=batch, rows=rows, cities=export.city_totals(rows),
                           local_total=sum(row.local_match_fen for row in rows))


@bp.get("/payments/<int:batch_id>.xlsx")
def payment_batch_xlsx(batch_id: int):
    batch = _batch(batch_id)
    body = export.workbook_bytes(batch, export.payment_rows(batch))
    return Response(body, mimetype=export.XLSX_MIMETYPE,
                    headers={"Content-Disposition": export.content_disposition(batch)})


def _payments_page(form: PaymentForm, checked: list[int] | None = None, selection_error: str | None = None):
    city = _chosen_city()
    stmt = select(PaymentBatch).order_by(PaymentBatch.paid_on.desc(), PaymentBatch.id.desc())
    page = paginate(stmt, current_app.config["PER_PAGE"], page_number(BATCHES))
    pick = _pick_list(RedemptionStatus.AWAITING_PAYMENT, Redemption.updated_at, *_registered_in(city), checked=checked)
    shown = pick["picks"].items
    return render_either("admin/payments.html", "admin/partials/payment_pick_list.html", form=form,
                         selection_error=selection_error, args=_kept_args(pick["q"], page, city), city=city,
                         city_choices=policy.CITIES, page=page, counts=_batch_sizes(page.items),
                         previews=settlement.local_matches_for(shown),
                         claim_cities={claim.id: export.city_of(local.voucher_city(claim.voucher.application))
                                       for claim in shown}, **pick)


def _chosen_city() -> str:
    """The 拨付 list's city filter: one of Jiangsu's cities, or none (every city)."""
    city = request.args.get("city", "")
    return city if city in policy.CITIES else ""


def _registered_in(city: str) -> list:
    """Claims of enterprises registered in `city`, by their voucher's city (the 注册地 the reviewer confirmed, which
    export.city_of names in the batch's sheet); the application keeps the city as chosen, with or without 市."""
    if not city:
        return []
    vouchers = (select(Voucher.id).join(VoucherApplication, Voucher.application_id == VoucherApplication.id)
                .where(local.VOUCHER_CITY.in_((city, f"{city}市"))))
    return [Redemption.voucher_id.in_(vouchers)]


def _batch_sizes(batches) -> dict[int, int]:
    ids = [batch.id for batch in batches]
    if not ids:
        return {}
    return dict(db.session.execute(select(Redemption.payment_batch_id, func.count()).where(
        Redemption.payment_batch_id.in_(ids)).group_by(Redemption.payment_batch_id)).all())


def _batch(batch_id: int) -> PaymentBatch:
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        abort(404)
    return batch
