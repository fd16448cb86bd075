"""The enterprise's claim page (SPEC 7.1, 7.2, 11): materials, invoices and bank receipts with their amounts,
live totals with the requested voucher (never typed in), the completeness checklist, 暂存 and 提交.

Each section posts on its own and is saved at once, so nothing uploaded is lost when a later check fails.
Without JS a POST answers 303 back to its section (or the whole page with the error next to the field, 422);
with htmx it answers the section and, out of band, the totals and the checklist. Claims and orders are found
only through the signed-in enterprise: anyone else's answers 404, as if it did not exist."""
from collections import defaultdict

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.exceptions import Conflict

from .. import uploads
from ..errors import render_error
from ..extensions import db
from ..forms import own_ids
from ..htmx import is_htmx, redirect_htmx, render_either
from ..models import BankReceipt, Invoice, Material, Order, Redemption, RedemptionStatus
from ..orders.numbers import ORDER_NO_MAX
from . import bp, checks, claims, ledger, readiness
from .forms import InvoiceForm, MaterialForm, ReceiptForm, SubmitForm, editing

# The invoice and receipt sections share their routes: (model, form) per section.
ITEMS = {"invoices": (Invoice, InvoiceForm), "receipts": (BankReceipt, ReceiptForm)}
OFFLINE_FIELDS = ("provider_name", "provider_unit_type", "qualification_kind", "qualification_expires_on",
                  "service_lines")
SUBMITTED = "已提交兑付申请，等待审核"
SUBMITTED_PILOT = "已提交，等待服务单位确认材料"


# ---- finding the claim -----------------------------------------------------------------------------------------

def _my_order(order_no: str) -> Order:
    order = db.session.scalar(select(Order).where(Order.order_no == order_no[:ORDER_NO_MAX],
                                                  Order.buyer_id == current_user.id, Order.enterprise_id.is_not(None)))
    if order is None:
        abort(404)
    return order


def _my_claim(claim_id: int, lock: bool = False) -> Redemption:
    """The signed-in enterprise's claim; anyone else (another enterprise, a provider) gets 404."""
    enterprise = current_user.enterprise
    stmt = select(Redemption).where(Redemption.id == claim_id,
                                    Redemption.enterprise_id == (enterprise.id if enterprise else None))
    if lock:  # and re-read: an earlier read in this request may be stale
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    claim = db.session.scalar(stmt)
    if claim is None:
        abort(404)
    return claim


def _editable(claim_id: int, lock: bool = False) -> Redemption:
    """The claim, if it may still be changed (暂存 or 待补正); otherwise 409 with the reason."""
    claim = _my_claim(claim_id, lock)
    if claim.status not in claims.EDITABLE:
        error = Conflict()
        error.chinese_detail = f"兑付申请当前为“{claim.status_label}”，材料不能再修改。"
        raise error
    return claim


def editor_url(claim: Redemption, section: str | None = None) -> str:
    """The claim's page: under its order for a live online claim, else /me/redemptions/<id>."""
    if claim.order is not None and claim.status != RedemptionStatus.REJECTED:  # an order has one live claim
        url = url_for("redemption.order_claim", order_no=claim.order.order_no)
    else:
        url = url_for("redemption.claim", claim_id=claim.id)
    return f"{url}#{section}" if section else url


# ---- pages -----------------------------------------------------------------------------------------------------

@bp.post("/me/orders/<order_no>/redemption/start")
@login_required
def start(order_no: str):
    """上传服务信息: the order's claim, created the first time; then its page."""
    order = _my_order(order_no)
    try:
        claims.start_online(order, current_user)
    except claims.Refused as refusal:
        db.session.rollback()
        return render_error(409, str(refusal))
    db.session.commit()
    return _go(url_for("redemption.order_claim", order_no=order.order_no))


@bp.get("/me/orders/<order_no>/redemption")
@login_required
def order_claim(order_no: str):
    claim = claims.claim_of_order(_my_order(order_no))
    if claim is None:
        abort(404)
    return render_template("redemption/editor.html", **context(claim))


@bp.get("/me/redemptions/<int:claim_id>")
@login_required
def claim(claim_id: int):
    return render_template("redemption/editor.html", **context(_my_claim(claim_id)))


# ---- materials ---------------------------------------------------------------------------------------------------

@bp.post("/me/redemptions/<int:claim_id>/materials")
@login_required
def add_materials(claim_id: int):
    """Add PDFs of one kind; for a kind that holds one file (合同, 研发活动证明) the new file replaces the old.
    Good files are kept even when another file of the same upload is refused."""
    claim = _editable(claim_id)
    kind = request.form.get("kind", "")
    if kind not in checks.FILE_LABELS:
        abort(400)
    form = MaterialForm().for_kind(kind)
    valid = form.validate()
    added, form.files.data = form.files.data or [], []  # listed as the claim's materials, not as held files
    if added:
        claim = _editable(claim_id, lock=True)
        if checks.FILE_COUNTS[kind][1] == 1:
            for material in [m for m in claim.materials if m.kind == kind]:
                claim.materials.remove(material)
        claim.materials.extend(Material(kind=kind, file_id=stored.id) for stored in added)
        _saved(claim)
    return _answer(claim, f"materials-{kind}", 200 if valid else 422, material_forms={kind: form})


@bp.post("/me/redemptions/<int:claim_id>/materials/<int:material_id>/delete")
@login_required
def delete_material(claim_id: int, material_id: int):
    claim = _editable(claim_id, lock=True)
    material = _item_of(claim.materials, material_id)
    claim.materials.remove(material)
    _saved(claim)
    return _answer(claim, f"materials-{material.kind}")


# ---- invoices and bank receipts ----------------------------------------------------------------------------------

@bp.post("/me/redemptions/<int:claim_id>/<any(invoices, receipts):section>")
@login_required
def add_item(claim_id: int, section: str):
    """One invoice (number, amount, image ≤ 5 MB) or bank receipt (amount, image or PDF)."""
    claim = _editable(claim_id)
    form = _add_form(section)
    if not form.validate():
        return _answer(claim, section, 422, add_forms={section: form})
    claim = _editable(claim_id, lock=True)
    item = ITEMS[section][0]()
    _fill(item, form)
    getattr(claim, section).append(item)
    _saved(claim)
    return _answer(claim, section)


@bp.post("/me/redemptions/<int:claim_id>/<any(invoices, receipts):section>/<int:item_id>")
@login_required
def edit_item(claim_id: int, section: str, item_id: int):
    """Change an item's number, amount or file (e.g. one sent back 待补正); a file not re-sent stays."""
    claim = _editable(claim_id)
    item = _item_of(getattr(claim, section), item_id)
    form = editing(ITEMS[section][1](), item)
    if not form.validate():
        return _answer(claim, section, 422, edits={edit_key(item): form})
    claim = _editable(claim_id, lock=True)
    _fill(item, form)
    _saved(claim)
    return _answer(claim, section)


@bp.post("/me/redemptions/<int:claim_id>/<any(invoices, receipts):section>/<int:item_id>/delete")
@login_required
def delete_item(claim_id: int, section: str, item_id: int):
    claim = _editable(claim_id, lock=True)
    items = getattr(claim, section)
    items.remove(_item_of(items, item_id))
    _saved(claim)
    return _answer(claim, section)


def _add_form(section: str, **options):
    return own_ids(ITEMS[section][1](**options), f"new-{section}")


def _fill(item, form) -> None:
    item.amount_fen = form.amount.data
    if isinstance(item, Invoice):
        item.number = form.number.data
    if form.image.data is not None:
        item.file_id = form.image.file_id


def _item_of(items: list, item_id: int):
    found = next((item for item in items if item.id == item_id), None)
    if found is None:
        abort(404)
    return found


# ---- 暂存 and 提交 ------------------------------------------------------------------------------------------------

@bp.post("/me/redemptions/<int:claim_id>/save")
@login_required
def save(claim_id: int):
    """暂存 the contract amount and 可兑付服务费 (also posted by the amount fields on change, so the totals follow)."""
    claim = _editable(claim_id, lock=True)
    form = SubmitForm()
    if not form.amounts_valid():
        return _answer(claim, "claim-submit", 422, submit_form=form)
    form.apply_amounts(claim)
    _saved(claim)
    if not is_htmx():
        flash("已暂存，可随时回来继续填写", "success")
    return _answer(claim, "claim-submit", submit_form=form)


@bp.post("/me/redemptions/<int:claim_id>/submit")
@login_required
def submit(claim_id: int):
    """提交 (or resubmit after 待补正): the amounts are saved first, so a refusal loses nothing; then every check of
    readiness.problems is shown next to its section (422), or the voucher is reserved and the claim goes to review."""
    claim = _editable(claim_id, lock=True)
    form = SubmitForm()
    if not form.amounts_valid():
        return _whole(claim, 422, submit_form=form)
    form.apply_amounts(claim)
    _saved(claim)
    claim = _editable(claim_id, lock=True)
    declared = form.declarations.data or []
    found = readiness.problems(claim, declared)
    if found:
        return _whole(claim, 422, submit_form=form, problems=found)
    try:
        claims.submit(claim, current_user, declared)
    except claims.Refused as refusal:
        db.session.rollback()
        return render_error(409, str(refusal))
    except ledger.BalanceRefused as refusal:
        db.session.rollback()
        return _whole(claim, 422, submit_form=form, refusal=str(refusal))
    db.session.commit()
    flash(SUBMITTED_PILOT if claims.is_pilot_claim(claim) else SUBMITTED, "success")
    return _go(url_for("orders.my_order", order_no=claim.order.order_no) if claim.order is not None
               else url_for("redemption.claim", claim_id=claim.id))


# ---- answers -----------------------------------------------------------------------------------------------------

def _saved(claim: Redemption) -> None:
    readiness.refresh_amounts(claim)
    db.session.commit()


def _go(url: str):
    """303 to `url`; htmx is told to navigate there instead of swapping the page into a section."""
    if is_htmx():
        return redirect_htmx(make_response("", 200), url)
    return redirect(url, 303)


def _whole(claim: Redemption, status: int, **overrides):
    """The whole editor (page, or its body for htmx) with the errors in place."""
    return render_either("redemption/editor.html", "redemption/partials/body.html",
                         **context(claim, **overrides)), status


def _answer(claim: Redemption, section: str, status: int = 200, **overrides):
    """After a section's POST: 303 to its anchor (no JS; the whole page with the error on 422), or for htmx the
    section itself followed by the totals and the checklist swapped out of band."""
    if not is_htmx():
        if status == 200:
            return redirect(editor_url(claim, section), 303)
        return _whole(claim, status, **overrides)
    page = context(claim, **overrides)
    if section in ITEMS:
        fragment = render_template("redemption/partials/items.html", section=section, **page)
    elif section == "claim-submit":
        fragment = render_template("redemption/partials/submit.html", **page)
    else:
        fragment = render_template("redemption/partials/materials.html", kind=section.removeprefix("materials-"),
                                   **page)
    return (fragment + render_template("redemption/partials/totals.html", oob=True, **page)
            + render_template("redemption/partials/checklist.html", oob=True, **page)), status


# Where each problem of readiness.problems is shown: its section's anchor.
ANCHORS = {**{kind: f"materials-{kind}" for kind in checks.FILE_LABELS}, "invoices": "invoices",
           "receipts": "receipts", "contract_amount": "claim-submit", "eligible_fee": "claim-submit",
           "declarations": "claim-submit", "order": "claim-summary",
           **{name: "claim-summary" for name in OFFLINE_FIELDS}}


def context(claim: Redemption, problems=(), refusal: str | None = None, material_forms: dict | None = None,
            add_forms: dict | None = None, edits: dict | None = None, submit_form=None) -> dict:
    """Everything the editor's templates use; a form given here (the one that failed) replaces the empty one."""
    editable = claim.status in claims.EDITABLE
    by_field = defaultdict(list)
    for problem in problems:
        by_field[problem.field].append(problem.message)
    checklist = readiness.problems(claim, readiness.DECLARATIONS) if editable else []
    return dict(
        claim=claim, order=claim.order, editable=editable, pilot=claims.is_pilot_claim(claim),
        figures=readiness.figures(claim), checklist=checklist, problems=by_field, refusal=refusal, anchors=ANCHORS,
        offline_problems=[p for p in checklist if p.field in OFFLINE_FIELDS], wizard_url=wizard_url(claim),
        labels=checks.FILE_LABELS, counts=checks.FILE_COUNTS, format_size=uploads.format_size,
        is_image=uploads.is_image, edit_key=edit_key,
        materials={kind: [m for m in claim.materials if m.kind == kind] for kind in checks.FILE_LABELS},
        material_forms={kind: MaterialForm(formdata=None, kind=kind).for_kind(kind) for kind in checks.FILE_LABELS}
        | (material_forms or {}),
        add_forms={section: _add_form(section, formdata=None) for section in ITEMS} | (add_forms or {}),
        edits=_edit_forms(claim) | (edits or {}),
        submit_form=submit_form or SubmitForm(formdata=None, data={"contract_amount": claim.contract_amount_fen,
                                                                   "eligible_fee": claim.eligible_fee_fen}),
        editor_url=editor_url(claim),
    )


def _edit_forms(claim: Redemption) -> dict:
    """One 修改 form per invoice and receipt, filled with what it holds."""
    forms = {}
    for section, (_model, form_class) in ITEMS.items():
        for item in getattr(claim, section):
            data = {"amount": item.amount_fen, "number": getattr(item, "number", None)}
            forms[edit_key(item)] = editing(form_class(formdata=None, data=data), item)
    return forms


def edit_key(item) -> str:
    return f"{item.__tablename__}-{item.id}"


def wizard_url(claim: Redemption) -> str | None:
    """Where an offline claim's provider part is filled: the 线下订单 wizard (offline.py), from its first step."""
    return url_for("redemption.offline_provider", claim_id=claim.id) if claim.kind == "offline" else None

