"""线下订单申请兑付 (SPEC 7.3): a claim for a service bought outside the platform, from a provider that meets
the entry criteria but has no open shop here. A two-step wizard names the provider (第一步) and describes it and
the service (第二步); the claim's materials are then uploaded in the claim editor (editor.py).

Step 1 refuses a provider whose shop is open on the platform (its services must be ordered online) and the
enterprise's own credit code. Any other relation (a shared ID number, bank account or mobile, with the unit or with
a provider on the platform holding its credit code) is flagged to the reviewer (flags.py)."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, policy, related_parties
from ..accounts.access import roles_required
from ..errors import render_error
from ..extensions import db
from ..htmx import is_htmx, render_either
from ..models import Provider, Redemption
from ..validators import parse_money
from . import bp, checks, claims, offline_checks, readiness
from .editor import editor_url
from .offline_forms import ProviderForm, ServiceForm

STEPS = {"first": "redemption.offline_first_step", "provider": "redemption.offline_provider",
         "service": "redemption.offline_service"}
BACK_TO = {"list": "redemption.offline_list", "orders": "orders.my_orders"}

bp.add_app_template_global(offline_checks.OFFLINE_UNIT_TYPES, "offline_unit_types")
bp.add_app_template_global(offline_checks.QUALIFICATIONS, "offline_qualifications")
bp.add_app_template_global(claims.EDITABLE, "offline_editable_states")
bp.add_app_template_global(checks.needs_qualification, "offline_needs_qualification")


# ---------------------------------------------------------------- the list and starting a claim

@bp.get("/me/offline-redemptions")
@roles_required("enterprise")
def offline_list():
    return render_template("redemption/offline_list.html")


@bp.app_template_global()
def offline_claims_of(user) -> list[Redemption]:
    """The enterprise's offline claims, last changed first (shown on this list and on 我的订单)."""
    if user.enterprise is None:
        return []
    return list(db.session.scalars(
        select(Redemption).where(Redemption.enterprise_id == user.enterprise.id, Redemption.kind == "offline")
        .options(selectinload(Redemption.service_lines), selectinload(Redemption.invoices),
                 selectinload(Redemption.voucher))
        .order_by(Redemption.updated_at.desc(), Redemption.id.desc())))


@bp.app_template_global()
def offline_resume_url(claim: Redemption) -> str:
    """继续填写: the first step still missing something, else the claim editor."""
    if not all((claim.provider_name, claim.provider_credit_code, claim.provider_contact, claim.provider_phone)):
        return url_for(STEPS["provider"], claim_id=claim.id)
    if claim.contract_amount_fen is None or offline_checks.service_step_problems(claim):
        return url_for(STEPS["service"], claim_id=claim.id)
    return editor_url(claim)


@bp.app_template_global()
def offline_estimate_fen(claim: Redemption, contract_fen: int | None) -> int | None:
    """拟兑付创新券金额 for a contract amount. readiness.figures() counts the least of contract, eligible fee, invoices
    and receipts, which is zero before any invoice is uploaded, so until then the contract (or its eligible part)
    alone is the spend."""
    voucher = claim.voucher
    if voucher is None or contract_fen is None:
        return None
    invoices = [sum(invoice.amount_fen for invoice in claim.invoices)] if claim.invoices else []
    spend = policy.eligible_spend(contract_fen, claim.eligible_fee_fen, *invoices)
    own = claim.requested_fen if claim.status in readiness.HOLDS_RESERVATION else 0
    used = voucher.total_fen - voucher.remaining_fen - own
    return policy.voucher_amount(spend, voucher.region, max(used, 0))


@bp.post("/me/offline-redemptions/new")
@roles_required("enterprise")
def offline_new():
    """线下订单申请兑付: to the wizard's first step, which makes the claim when it is saved (a click saves nothing,
    so none leaves an empty draft); refused here already without this year's voucher."""
    try:
        claims.may_start_offline(current_user)
    except claims.Refused as refusal:
        return _refused(str(refusal), apply_link=_lacks_voucher())
    return redirect(url_for(STEPS["first"]), 303)


def _lacks_voucher() -> bool:
    enterprise = current_user.enterprise
    return enterprise is not None and claims.voucher_for(enterprise.id) is None


# ---------------------------------------------------------------- 第一步 服务单位信息维护

@bp.route("/me/offline-redemptions/new/provider", methods=["GET", "POST"])
@roles_required("enterprise")
def offline_first_step():
    """第一步 of a new claim, which its first save makes."""
    try:
        claims.may_start_offline(current_user)
    except claims.Refused as refusal:
        return _refused(str(refusal), apply_link=_lacks_voucher())
    return _provider_step(None)


@bp.route("/me/offline-redemptions/<int:claim_id>/provider", methods=["GET", "POST"])
@roles_required("enterprise")
def offline_provider(claim_id: int):
    """第一步 of a claim the enterprise has: its provider changed."""
    return _provider_step(_my_claim(claim_id, lock=request.method == "POST", editable=True))


def _provider_step(claim: Redemption | None):
    if request.method == "GET":
        return _provider_page(claim, ProviderForm(obj=claim))
    form = ProviderForm(own_credit_codes=_own_credit_codes(current_user.enterprise, claim))
    if not form.validate():
        return _provider_page(claim, form), 422
    shop = offline_checks.platform_provider(form.provider_credit_code.data)
    if shop is not None:
        return _provider_page(claim, form, on_platform=shop, entered_name=form.provider_name.data), 422
    if claim is None:
        try:
            claim = claims.start_offline(current_user, form.provider_credit_code.data)
        except claims.Refused as refusal:  # the voucher went between the check and the locked re-read
            db.session.rollback()
            return _refused(str(refusal), apply_link=_lacks_voucher())
    form.apply_to(claim)
    audit.record(claims.OBJECT, claim.id, "edit_provider", claim.status, claim.status, claim.provider_name)
    db.session.commit()
    return redirect(url_for(STEPS["service"], claim_id=claim.id), 303)


def _own_credit_codes(enterprise, claim: Redemption | None) -> frozenset[str]:
    """The enterprise's credit codes: its account's and those of the voucher application behind the claim's voucher
    (for a new claim, this year's, which it will draw on)."""
    voucher = claim.voucher if claim is not None else claims.voucher_for(enterprise.id)
    application = voucher.application if voucher is not None else None
    return frozenset(value for kind, value in related_parties.of_enterprise(enterprise, application)
                     if kind == related_parties.CREDIT_CODE)


def _provider_page(claim: Redemption, form: ProviderForm, on_platform: Provider | None = None,
                   entered_name: str = ""):
    return render_template("redemption/offline_provider.html", claim=claim, form=form, on_platform=on_platform,
                           platform_message=offline_checks.on_platform_message(entered_name))


# ---------------------------------------------------------------- 第二步 服务信息维护

@bp.route("/me/offline-redemptions/<int:claim_id>/service", methods=["GET", "POST"])
@roles_required("enterprise")
def offline_service(claim_id: int):
    claim = _my_claim(claim_id, lock=request.method == "POST", editable=True)
    if request.method == "GET":
        if not claim.provider_credit_code:  # step 1 first: step 2 shows the provider it describes
            return redirect(url_for(STEPS["provider"], claim_id=claim.id))
        return _service_page(claim, ServiceForm.of(claim))
    form = ServiceForm()
    if _editing_lines():
        form.qualification_file.validate(form)  # a file chosen before 新增 is stored and kept, not lost
        _edit_lines(form)
        return _service_page(claim, form)
    finishing = request.form.get("action") != "draft"
    valid = form.validate()
    if not valid or (finishing and not form.validate_complete()):
        db.session.rollback()
        return _service_page(claim, form), 422
    form.apply_to(claim)
    readiness.refresh_amounts(claim)
    audit.record(claims.OBJECT, claim.id, "edit_service", claim.status, claim.status)
    db.session.commit()
    if finishing:
        return redirect(editor_url(claim), 303)
    flash("服务信息已暂存，可稍后继续填写。", "success")
    return redirect(url_for("redemption.offline_list"), 303)


@bp.post("/me/offline-redemptions/<int:claim_id>/service/lines")
@roles_required("enterprise")
def offline_lines(claim_id: int):
    """新增 / − on 服务明细 (htmx): the rows again with the change; nothing is saved. Without htmx, the page."""
    claim = _my_claim(claim_id, editable=True)
    form = ServiceForm()
    _edit_lines(form)
    return render_either("redemption/offline_service.html", "redemption/partials/offline_lines.html",
                         **_service_context(claim, form))


@bp.get("/me/offline-redemptions/<int:claim_id>/estimate")
@roles_required("enterprise")
def offline_estimate(claim_id: int):
    """拟兑付创新券金额 and its 大写 for the contract amount being typed (htmx); without htmx, the step 2 page."""
    claim = _my_claim(claim_id)
    if not is_htmx():
        return redirect(url_for(STEPS["service"], claim_id=claim.id))
    try:
        contract_fen = parse_money(request.args.get("contract_amount_fen"))
    except ValueError as problem:
        return render_template("redemption/partials/offline_estimate.html", estimate_fen=None, problem=str(problem))
    return render_template("redemption/partials/offline_estimate.html", problem=None,
                           estimate_fen=offline_estimate_fen(claim, contract_fen))


def _editing_lines() -> bool:
    return "add_line" in request.form or "remove_line" in request.form


def _edit_lines(form: ServiceForm) -> None:
    form.edit_lines(add="add_line" in request.form, remove=request.form.get("remove_line"))


def _service_page(claim: Redemption, form: ServiceForm):
    return render_template("redemption/offline_service.html", **_service_context(claim, form))


def _service_context(claim: Redemption, form: ServiceForm) -> dict:
    contract_fen = form.contract_amount_fen.data if not form.contract_amount_fen.errors else None
    return {"claim": claim, "form": form, "estimate_fen": offline_estimate_fen(claim, contract_fen), "problem": None}


# ---------------------------------------------------------------- 放弃填写

@bp.route("/me/offline-redemptions/<int:claim_id>/abandon", methods=["GET", "POST"])
@roles_required("enterprise")
def offline_abandon(claim_id: int):
    claim = _my_claim(claim_id, lock=request.method == "POST")
    back = request.values.get("back") if request.values.get("back") in BACK_TO else "list"
    if request.method == "GET":
        return render_template("redemption/offline_abandon.html", claim=claim, back=back,
                               back_url=url_for(BACK_TO[back]))
    try:
        claims.abandon(claim, current_user)
    except claims.Refused as refusal:
        db.session.rollback()
        return _refused(str(refusal))
    db.session.commit()
    flash("已放弃填写该线下订单兑付申请。", "success")
    return redirect(url_for(BACK_TO[back]), 303)


# ---------------------------------------------------------------- helpers

def _my_claim(claim_id: int, lock: bool = False, editable: bool = False) -> Redemption:
    """The enterprise's own offline claim; anyone else's id answers 404, as if it did not exist. `editable`: the
    wizard changes it, which only a draft or a claim 待补正 allows (else 409)."""
    enterprise = current_user.enterprise
    stmt = select(Redemption).where(Redemption.id == claim_id, Redemption.kind == "offline",
                                    Redemption.enterprise_id == (enterprise.id if enterprise else None))
    claim = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if claim is None:
        abort(404)
    if editable and claim.status not in claims.EDITABLE:
        abort(make_response(_refused(f"兑付申请当前为“{claim.status_label}”，不能修改服务单位和服务信息。")))
    return claim


def _refused(message: str, apply_link: bool = False):
    if is_htmx():
        return render_error(409, message)
    return render_template("redemption/offline_refused.html", message=message, apply_link=apply_link), 409
