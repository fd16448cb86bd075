"""Reviewing claims (兑付, SPEC 7.4 and 11): the queue with each claim's risk flags, one claim with every material
previewed inline, the decisions — approve an amount, 待补正 with a note per material, reject — and the expert
review batches (专家集中审核) a decision can be recorded under.

The moves themselves (voucher ledger, order timeline, audit rows) live in marketplace.redemption.claims; this
module shows the reviewer what to check and turns decisions into pages and htmx fragments.
"""
import re

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, Length

from .. import audit, policy, uploads
from ..extensions import db
from ..forms import Form, MoneyField, choices
from ..htmx import render_either
from ..models import (
    AuditLog,
    Enterprise,
    Order,
    Provider,
    Redemption,
    RedemptionStatus,
    ReviewBatch,
    StoredFile,
    utcnow,
)
from ..pagination import paginate
from ..redemption import checks, claims, flags, offline_checks
from . import bp, queue_filters
from .decisions import Desk, decide
from .forms import RejectForm
from .queues import register_queue

# Claims on orders of 服务承诺制 pilot providers: the provider confirms them, so they wait outside the reviewer's
# count — unless the provider's 确认材料 found flags and referred the claim to the reviewer.
PILOT = Redemption.order_id.in_(select(Order.id).join(Provider, Order.provider_id == Provider.id)
                                .where(Provider.is_pilot.is_(True)))
AWAITS_PILOT = and_(PILOT, Redemption.referral_reason.is_(None))
FOR_REVIEWER = or_(Redemption.order_id.is_(None), ~PILOT, Redemption.referral_reason.is_not(None))

register_queue("兑付审核", "admin.redemptions", Redemption.submitted_at,
               Redemption.status == RedemptionStatus.SUBMITTED, FOR_REVIEWER, area="兑付", position=1)

# Tabs of the queue in the order a claim moves through them; drafts are the enterprise's own.
TABS = {**{status: RedemptionStatus.LABELS[status] for status in (
    RedemptionStatus.SUBMITTED, RedemptionStatus.CORRECTION, RedemptionStatus.APPROVED, RedemptionStatus.PUBLICITY,
    RedemptionStatus.AWAITING_PAYMENT, RedemptionStatus.PAID, RedemptionStatus.REJECTED)}, "all": "全部"}
# Waiting claims oldest first (first come, first served); the others most recent first.
WAITING_ORDER = (Redemption.submitted_at.asc(), Redemption.id.asc())
RECENT_ORDER = (Redemption.submitted_at.desc(), Redemption.id.desc())
NOTE_KINDS = ("material", "invoice", "receipt")


class ApproveForm(Form):
    """审核通过: the amount defaults to the requested one and may only be lowered."""
    amount = MoneyField("核定金额（元）")
    review_batch = SelectField("专家集中审核批次", coerce=lambda value: int(value) if value else None,
                               invalid_choice_message="请选择列表中的审核批次")

    def __init__(self, claim: Redemption, **kwargs):
        super().__init__(**kwargs)
        self.requested_fen = claim.requested_fen
        batches = db.session.scalars(select(ReviewBatch).order_by(ReviewBatch.created_at.desc(), ReviewBatch.id.desc())
                                     .limit(100))
        self.review_batch.choices = choices(((batch.id, batch.title) for batch in batches), blank="不指定")

    def validate_amount(self, field):
        if field.errors:
            return
        if field.data is None:
            raise ValidationError("请填写核定金额")
        if field.data <= 0:
            raise ValidationError("核定金额须大于零；不予支持请选择“审核不通过”")
        if field.data > self.requested_fen:
            raise ValidationError(f"核定金额不能超过申请金额 ¥{policy.format_yuan(self.requested_fen)}")


class CorrectionsForm(Form):
    """待补正: an overall reason and/or a note beside each material, invoice or receipt (read in `_notes`)."""
    reason = TextAreaField("补正原因", id="correction-reason",
                           validators=[Length(max=500, message="原因不超过500字")])


class ReviewBatchForm(Form):
    title = StringField("批次名称", validators=[DataRequired(message="请填写批次名称"),
                                            Length(max=200, message="批次名称不超过200字")])
    experts = TextAreaField("评审专家", validators=[DataRequired(message="请填写评审专家姓名")])

    def validate_experts(self, field):
        names = expert_names(field.data)
        if not names:
            raise ValidationError("请填写评审专家姓名，每行一位或用逗号分隔")
        if any(len(name) > 50 for name in names):
            raise ValidationError("专家姓名每位不超过50字，请每行一位或用逗号分隔")


def expert_names(text: str | None) -> list[str]:
    """Names typed one per line or separated by commas (either width) or 、, without repeats."""
    names = (name.strip() for name in re.split(r"[\n,，、;；]+", text or ""))
    return list(dict.fromkeys(name for name in names if name))


# ---------------------------------------------------------------- the queue

@bp.get("/redemptions")
def redemptions():
    status = queue_filters.tab(TABS, RedemptionStatus.SUBMITTED)
    q = queue_filters.search_text()
    filters = _filters(q)
    stmt = (select(Redemption).where(*filters, *_status_filter(status)).options(*flags.EAGER)
            .order_by(*(WAITING_ORDER if status == RedemptionStatus.SUBMITTED else RECENT_ORDER)))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    counts = dict(db.session.execute(select(Redemption.status, func.count()).where(*filters)
                                      .group_by(Redemption.status)).all())
    pilot_waiting = db.session.scalar(select(func.count()).select_from(Redemption)
                                      .where(*filters, Redemption.status == RedemptionStatus.SUBMITTED, AWAITS_PILOT))
    counts[RedemptionStatus.SUBMITTED] = counts.get(RedemptionStatus.SUBMITTED, 0) - pilot_waiting
    counts["all"] = sum(counts.values()) + pilot_waiting
    return render_either("admin/redemptions.html", "admin/partials/redemption_list.html",
                         page=page, status=status, tabs=TABS, counts=counts, pilot_waiting=pilot_waiting, q=q,
                         args={"status": status, "q": q or None}, flags_by_claim=flags.flags_for(page.items),
                         is_pilot=claims.is_pilot_claim, waiting_days=waiting_days)


def _filters(q: str) -> list:
    return [Redemption.status != RedemptionStatus.DRAFT, *claim_search(q)]


def claim_search(q: str) -> list:
    """The search box of every claim list (this queue, the claims to publish and to pay): `q` in the enterprise's
    name, the order number, or the provider's name (the order's shop, or the one an offline claim names)."""
    if not q:
        return []
    orders = (select(Order.id).join(Provider, Order.provider_id == Provider.id)
              .where(or_(Order.order_no.contains(q.upper(), autoescape=True),
                         Provider.name.contains(q, autoescape=True))))
    return [or_(Redemption.enterprise_id.in_(select(Enterprise.id).where(Enterprise.name.contains(q, autoescape=True))),
                Redemption.order_id.in_(orders), Redemption.provider_name.contains(q, autoescape=True))]


def _status_filter(status: str) -> list:
    return [] if status == "all" else [Redemption.status == status]


def waiting_days(claim: Redemption) -> int | None:
    return None if claim.submitted_at is None else (utcnow() - claim.submitted_at).days


# ---------------------------------------------------------------- one claim and the decisions

@bp.get("/redemptions/<int:claim_id>")
def redemption_detail(claim_id: int):
    return render_template("admin/redemption_detail.html", **_context(_claim(claim_id)))


@bp.post("/redemptions/<int:claim_id>/approve")
def approve_redemption(claim_id: int):
    claim = _claim(claim_id, lock=True)
    form = ApproveForm(claim)
    return decide(DESK, claim, lambda: _require_waiting(claim), form.validate_on_submit, lambda: _approve(claim, form),
                  approve_form=form)


@bp.post("/redemptions/<int:claim_id>/corrections")
def request_redemption_corrections(claim_id: int):
    claim = _claim(claim_id, lock=True)
    form, notes = CorrectionsForm(), _notes(claim)
    return decide(DESK, claim, lambda: _require_waiting(claim), lambda: _corrections_valid(form, notes),
                  lambda: _request_corrections(claim, form, notes), corrections_form=form, notes=notes)


@bp.post("/redemptions/<int:claim_id>/reject")
def reject_redemption(claim_id: int):
    claim = _claim(claim_id, lock=True)
    form = RejectForm()
    return decide(DESK, claim, lambda: _require_waiting(claim), form.validate_on_submit, lambda: _reject(claim, form),
                  reject_form=form)


def _approve(claim: Redemption, form: ApproveForm) -> str:
    claims.approve(claim, current_user, form.amount.data, form.review_batch.data)
    return f"已通过{claim.enterprise.name}的兑付申请，核定金额 ¥{policy.format_yuan(form.amount.data)}"


def _request_corrections(claim: Redemption, form: CorrectionsForm, notes: dict[str, str]) -> str:
    by_item = {item: notes.get(name, "") for name, item in note_fields(claim)}
    claims.request_corrections(claim, current_user, form.reason.data, by_item)
    return f"已将{claim.enterprise.name}的兑付申请退回补正"


def _reject(claim: Redemption, form: RejectForm) -> str:
    claims.reject(claim, current_user, form.reason.data)
    return f"{claim.enterprise.name}的兑付申请审核不通过，预留的创新券额度已释放"


def _corrections_valid(form: CorrectionsForm, notes: dict[str, str]) -> bool:
    if not form.validate_on_submit():
        return False
    if not (form.reason.data or "").strip() and not any(note.strip() for note in notes.values()):
        form.fail(form.reason, "请填写需要补正的原因，或在相应材料旁填写补正说明")
        return False
    return True


def note_fields(claim: Redemption) -> list[tuple[str, object]]:
    """(form field name, item) for every material, invoice and receipt a correction note can be written on."""
    groups = zip(NOTE_KINDS, (claim.materials, claim.invoices, claim.receipts), strict=True)
    return [(f"note_{kind}_{item.id}", item) for kind, items in groups for item in items]


def _notes(claim: Redemption) -> dict[str, str]:
    return {name: request.form.get(name, "")[:500] for name, _item in note_fields(claim)}


def _require_waiting(claim: Redemption) -> None:
    if claim.status not in claims.WAITING_FOR_REVIEW:
        raise claims.Refused(f"该兑付申请当前为“{claim.status_label}”，已不在待审核状态，不能再作审核决定。")


def _render(claim: Redemption, status: int, **extra):
    return render_either("admin/redemption_detail.html", "admin/partials/redemption_review.html",
                         **_context(claim, **extra)), status


# Without JS a decision returns to the claims waiting for review (the balance's refusals answer 409 too).
DESK = Desk(_render, lambda _claim, _came_from: url_for("admin.redemptions", status=RedemptionStatus.SUBMITTED))


def _context(claim: Redemption, approve_form=None, corrections_form=None, reject_form=None, notes=None,
             refusal=None, notice=None) -> dict:
    batch = db.session.get(ReviewBatch, claim.review_batch_id) if claim.review_batch_id else None
    qualification = db.session.get(StoredFile, claim.qualification_file_id) if claim.qualification_file_id else None
    return dict(claim=claim, flags=flags.flags(claim), pilot=claims.is_pilot_claim(claim), batch=batch,
                materials=_materials_by_kind(claim), qualification=qualification,
                invoices_fen=sum(i.amount_fen for i in claim.invoices),
                receipts_fen=sum(r.amount_fen for r in claim.receipts),
                declarations=[line for line in claim.declarations.splitlines() if line.strip()],
                history=history(claim), action_labels=claims.ACTION_LABELS, status_labels=RedemptionStatus.LABELS,
                unit_types=offline_checks.OFFLINE_UNIT_TYPES, qualifications=offline_checks.QUALIFICATIONS,
                is_image=uploads.is_image, format_size=uploads.format_size,
                approve_form=approve_form or ApproveForm(claim, formdata=None, data={
                    "amount": claim.requested_fen, "review_batch": claim.review_batch_id}),
                corrections_form=corrections_form or CorrectionsForm(formdata=None),
                reject_form=reject_form or RejectForm(formdata=None), notes=notes or {},
                refusal=refusal, notice=notice)


def _materials_by_kind(claim: Redemption) -> list[tuple[str, list]]:
    """(label, materials) in the order of SPEC 7.1's table, kinds without files left out."""
    return [(label, [m for m in claim.materials if m.kind == kind]) for kind, label in checks.FILE_LABELS.items()
            if any(m.kind == kind for m in claim.materials)]


def history(claim: Redemption) -> list[AuditLog]:
    """审核记录: every step of this claim, oldest first, with the actors loaded in the same query."""
    return list(db.session.scalars(select(AuditLog).where(AuditLog.object_type == claims.OBJECT,
                                                          AuditLog.object_id == str(claim.id))
                                   .options(joinedload(AuditLog.actor)).order_by(AuditLog.at, AuditLog.id)))


def _claim(claim_id: int, lock: bool = False) -> Redemption:
    """The claim (row-locked for a decision, so two reviewers cannot decide it at once); drafts are the
    enterprise's own and 404 here."""
    stmt = select(Redemption).where(Redemption.id == claim_id, Redemption.status != RedemptionStatus.DRAFT)
    claim = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if claim is None:
        abort(404)
    return claim


# ---------------------------------------------------------------- expert review batches

@bp.route("/review-batches", methods=["GET", "POST"])
def review_batches():
    form = ReviewBatchForm()
    if request.method == "GET":
        return _batches_page(form)
    if not form.validate_on_submit():
        return _batches_page(form), 422
    names = expert_names(form.experts.data)
    batch = ReviewBatch(title=form.title.data.strip(), experts="、".join(names), created_by_id=current_user.id)
    db.session.add(batch)
    db.session.flush()
    audit.record("review_batch", batch.id, "create", None, None, f"{batch.title}：{batch.experts}"[:500])
    db.session.commit()
    flash(f"已建立专家集中审核批次“{batch.title}”（{len(names)}位专家）", "success")
    return redirect(url_for("admin.review_batches"), 303)


def _batches_page(form: ReviewBatchForm):
    stmt = (select(ReviewBatch, func.count(Redemption.id))
            .outerjoin(Redemption, Redemption.review_batch_id == ReviewBatch.id)
            .group_by(ReviewBatch.id).order_by(ReviewBatch.created_at.desc(), ReviewBatch.id.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_template("admin/review_batches.html", page=page, form=form)
