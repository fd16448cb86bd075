"""我的创新券 and the yearly application (enterprise side, SPEC 6).

The application is filled (and saved) in one form, then 下载信息表 gives the PDF to print and stamp,
then the stamped scan is uploaded and the application submitted. An application is only ever reached
through the signed-in enterprise, so no id in a URL can open another enterprise's.
"""
import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import audit, validators
from ..accounts import sms
from ..accounts.access import roles_required
from ..errors import render_error
from ..extensions import db
from ..models import (
    ApplicationStatus,
    Enterprise,
    Order,
    Redemption,
    RedemptionStatus,
    VoucherApplication,
    china_today,
    utcnow,
)
from . import bp, display, lifecycle
from .eligibility import application_problems
from .forms import INDUSTRIES, PRODUCT_FIELDS, SMS_PURPOSE, ApplicationForm, SubmitForm, incomplete
from .kexiao import kexiao_match
from .local import local_offer
from .sheet import render_sheet

WRONG_CODE = "验证码不正确或已过期，请重新获取"
# Fields checked as the user leaves them (htmx), with the hint shown under each.
LIVE_CHECKS = {
    "credit_code": "18位统一社会信用代码，与营业执照一致",
    "legal_rep_id_number": "",
    "revenue_fen": "单位：万元；须低于40,000万元（4亿元）",
    "gaoqi_valid_until": "证书须在有效期内",
    "kexiao_number": "本年度科技型中小企业入库登记编号",
    "registered_province": "须在江苏省内注册",
    "email": "",
    "phone": "固定电话，如 025-83235635",
    "legal_rep_mobile": "",
    "bank_account_number": "用于兑付打款，请仔细核对",
}


def my_enterprise() -> Enterprise:
    enterprise = current_user.enterprise
    if enterprise is None:
        abort(404)
    return enterprise


def my_application(year: int) -> VoucherApplication:
    application = lifecycle.application_for(my_enterprise(), year)
    if application is None:
        abort(404)
    return application


# ---------------------------------------------------------------- 我的创新券

@bp.get("")
@roles_required("enterprise")
def index():
    enterprise = my_enterprise()
    applications = db.session.scalars(
        select(VoucherApplication).where(VoucherApplication.enterprise_id == enterprise.id)
        .options(joinedload(VoucherApplication.voucher)).order_by(VoucherApplication.year.desc())).all()
    year = lifecycle.current_year()
    current = next((a for a in applications if a.year == year), None)
    offer = local_offer(current.voucher) if current is not None and current.voucher else None
    return render_template("vouchers/index.html", applications=applications, current=current, year=year,
                           today=china_today(), offer=offer)


@bp.get("/<int:year>")
@roles_required("enterprise")
def detail(year: int):
    application = my_application(year)
    voucher = application.voucher
    return render_template("vouchers/detail.html", application=application, voucher=voucher,
                           sections=display.sections(application), attachments=display.attachments(application),
                           offer=local_offer(voucher) if voucher else None, today=china_today(),
                           printable=not incomplete(application), claims=claims_on(voucher))


def claims_on(voucher) -> list[Redemption]:
    """兑付记录: the claims made against this voucher (drafts excluded), newest first."""
    if voucher is None:
        return []
    return list(db.session.scalars(
        select(Redemption).where(Redemption.voucher_id == voucher.id, Redemption.status != RedemptionStatus.DRAFT)
        .options(joinedload(Redemption.order).joinedload(Order.provider))
        .order_by(Redemption.submitted_at.desc(), Redemption.id.desc())))


@bp.get("/<int:year>/history")
@roles_required("enterprise")
def history(year: int):
    application = my_application(year)
    return render_template("vouchers/history.html", application=application, entries=lifecycle.history(application),
                           actions=lifecycle.ACTION_LABELS, states=ApplicationStatus.LABELS)


@bp.get("/<int:year>/sheet.pdf")
@roles_required("enterprise")
def sheet(year: int):
    application = my_application(year)
    if incomplete(application):
        return render_error(409, "申请信息尚未填写完整，请先完成填写再下载信息表。")
    return send_file(io.BytesIO(render_sheet(application)), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{year}年江苏省科技创新券企业申请信息表-{application.unit_name}.pdf",
                     max_age=0)


# ---------------------------------------------------------------- the application form

@bp.route("/apply", methods=["GET", "POST"])
@roles_required("enterprise")
def apply():
    enterprise = my_enterprise()
    year = lifecycle.current_year()
    application = lifecycle.application_for(enterprise, year)
    if application is not None and application.status not in lifecycle.EDITABLE:
        if request.method == "POST":
            return render_error(409, f"{year}年度申请{application.status_label}，当前不能修改。")
        return redirect(url_for("vouchers.detail", year=year))
    if application is None:
        application = lifecycle.new_application(enterprise, year)
    form = ApplicationForm(obj=application)
    if request.method == "GET":
        if application.id:
            form.hold_current_files(application)
        else:
            _preselect_kexiao(form, application)
        return _render_form(application, form)
    return _save(application, form, request.form.get("action", "save"))


def _preselect_kexiao(form: ApplicationForm, application: VoucherApplication) -> None:
    """A credit code or 入库编号 on the reviewer's imported 科小 list picks that identity for a new form."""
    entry = kexiao_match(application.year, application.kexiao_number, application.credit_code)
    if entry is not None:
        form.identity.data, form.kexiao_number.data = "kexiao", entry.number


def _save(application: VoucherApplication, form: ApplicationForm, action: str):
    before = _sheet_text(application) if application.id else None
    phone_before = application.contact_phone
    # Checking the code commits a wrong guess, so it must run before the application takes the new input.
    code_typed = bool((form.sms_code.data or "").strip())
    code_id = _contact_code(form) if code_typed else None
    completing = action == "complete"
    valid = form.validate_complete(application) if completing else form.validate()
    if code_typed and code_id is None:
        form.fail(form.sms_code, WRONG_CODE)
    if not valid or (code_typed and code_id is None):
        db.session.rollback()  # a right code stays unused: the next try may type it again
        return _render_form(application, form), 422
    stored = _locked_for_saving(application)
    if stored is None:
        db.session.rollback()
        return render_error(409, f"{application.year}年度申请已提交或已处理，当前不能修改。")
    if code_id is not None and not sms.use_code(code_id):  # used by a save at the same moment
        db.session.rollback()
        form.fail(form.sms_code, WRONG_CODE)
        return _render_form(application, form), 422
    if stored is not application:  # a first save at the same moment created the year's application: edit that one
        application, before, phone_before = stored, _sheet_text(stored), stored.contact_phone
    form.apply_to(application)
    if code_id is not None:
        application.contact_phone_verified_at = utcnow()
    elif application.contact_phone != phone_before:
        application.contact_phone_verified_at = None  # a verification belongs to the number it was sent to
    if application.id is None:
        try:
            with db.session.begin_nested():
                db.session.add(application)
        except IntegrityError:  # a save at the same moment created the year's application (unique per year) first
            db.session.rollback()
            return render_error(409, "本年度申请已由同时提交的另一次保存创建，请刷新页面后查看。")
        audit.record(lifecycle.OBJECT, application.id, "create", None, application.status)
    else:
        audit.record(lifecycle.OBJECT, application.id, "edit", application.status, application.status)
    stale_sheet = before is not None and application.stamped_sheet_file_id and _sheet_text(application) != before
    if stale_sheet:
        application.stamped_sheet_file_id = None
    db.session.commit()
    if action == "send_code":
        return _send_code_after_saving(form)
    if stale_sheet:
        flash("申请信息已修改，原盖章信息表已作废：请重新下载信息表，盖章后重新上传。", "warning")
    if completing:
        flash("申请信息已填写完整。请下载信息表，打印并加盖公章后上传扫描件提交审核。", "success")
        return redirect(url_for("vouchers.apply", _anchor="sheet"), 303)
    flash("申请信息已保存（尚未提交审核）。", "success")
    return redirect(url_for("vouchers.apply"), 303)


def _locked_for_saving(application: VoucherApplication) -> VoucherApplication | None:
    """The application to save the input into, row-locked until commit; None when it is no longer editable.

    Taken after the form is checked, because checking commits (uploads, the SMS code). A first save also queues on
    the enterprise's row, so of first saves at the same moment one creates the year's application and each after it
    edits that one, input kept, instead of failing on the unique year. The status is read as stored, so an edit
    that waited for a submit is refused rather than written into the submitted application."""
    if application.id is None:
        db.session.execute(select(Enterprise.id).where(Enterprise.id == application.enterprise_id)
                           .with_for_update(key_share=True))
    stored = db.session.execute(select(VoucherApplication.id, VoucherApplication.status).where(
        VoucherApplication.enterprise_id == application.enterprise_id, VoucherApplication.year == application.year)
        .with_for_update()).first()
    if stored is None:
        return application
    if stored.status not in lifecycle.EDITABLE:
        return None
    return application if stored.id == application.id else db.session.get(VoucherApplication, stored.id)


def _contact_code(form: ApplicationForm) -> int | None:
    """The SMS code typed for the contact phone if it is right (not yet used up: the save uses it), else None."""
    phone = (form.contact_phone.data or "").strip()
    return sms.matching_code(phone, SMS_PURPOSE, form.sms_code.data or "")


def _send_code_after_saving(form: ApplicationForm):
    """The no-JS 获取验证码: the draft was just saved; send the code and come back to the contact fields."""
    message, status = _send_code((form.contact_phone.data or "").strip())
    flash(message, "success" if status == 200 else "error")
    return redirect(url_for("vouchers.apply", _anchor="contact"), 303)


def _send_code(phone: str) -> tuple[str, int]:
    """The message to show and the status: 200 sent, 422 a bad number, 429 too many codes asked for."""
    problem = validators.mobile_problem(phone) if phone else "请先填写联系人手机号码"
    if problem:
        return problem, 422
    try:
        sms.send_code(phone, SMS_PURPOSE)
    except sms.TooSoon as error:
        return str(error), 429
    return f"验证码已发送至{phone[:3]}****{phone[-4:]}，10分钟内有效。", 200


@bp.post("/apply/sms")
@roles_required("enterprise")
def send_code():
    """htmx: send the code for the number in the form without saving anything."""
    message, status = _send_code((request.form.get("contact_phone") or "").strip())
    return render_template("vouchers/partials/sms_status.html", message=message, ok=status == 200), status


@bp.post("/apply/check/<name>")
@roles_required("enterprise")
def check_field(name: str):
    """htmx: one field checked as the user leaves it, answered with that field re-rendered."""
    if name not in LIVE_CHECKS:
        abort(404)
    form = ApplicationForm()
    field = form[name]
    field.validate(form, extra_validators=_inline_validators(form, name))
    notes = _live_notes(form, name) if not field.errors else []
    return render_template("vouchers/partials/checked_field.html", form=form, name=name, notes=notes,
                           hints=LIVE_CHECKS), 422 if field.errors else 200


def _inline_validators(form: ApplicationForm, name: str) -> list:
    inline = getattr(type(form), f"validate_{name}", None)
    return [inline] if inline else []


def _live_notes(form: ApplicationForm, name: str) -> list[tuple[str, str]]:
    """Policy hints for one field: ("error", …) the refusal submitting would give, ("ok"/"note", …) news."""
    probe = VoucherApplication(year=lifecycle.current_year())
    form.apply_to(probe)
    notes = [("error", p.message) for p in application_problems(probe, china_today()) if p.field == name]
    if name == "kexiao_number" and probe.kexiao_number:
        entry = kexiao_match(probe.year, probe.kexiao_number, probe.credit_code)
        notes.append(("ok", f"已在{entry.year}年度科技型中小企业库中：{entry.name}") if entry else
                     ("note", "未在已导入的科技型中小企业库中找到该编号，审核时将人工核对"))
    return notes


# ---------------------------------------------------------------- step 3: the stamped sheet

@bp.post("/apply/submit")
@roles_required("enterprise")
def submit():
    enterprise = my_enterprise()
    application = lifecycle.application_for(enterprise, lifecycle.current_year())
    if application is None:
        return render_error(409, "请先填写并保存申请信息。")
    submit_form = SubmitForm()
    if not submit_form.validate():
        form = ApplicationForm(obj=application)
        form.hold_current_files(application)
        return _render_form(application, form, submit_form=submit_form), 422
    # Re-read under its row lock (the upload's own commit is behind us): of submissions at the same moment the first
    # submits, and the others find it no longer editable and leave its stamped sheet as it was submitted.
    db.session.refresh(application, with_for_update=True)
    if application.status not in lifecycle.EDITABLE:
        db.session.rollback()
        return _refuse_submit(application, submit_form,
                              f"{application.year}年度申请{application.status_label}，不能再提交。")
    application.stamped_sheet_file_id = submit_form.stamped_sheet.file_id
    try:
        lifecycle.submit(application)
    except lifecycle.Refused as refusal:
        db.session.commit()  # still a draft: the new scan is kept for the next try
        return _refuse_submit(application, submit_form, str(refusal))
    db.session.commit()
    flash(f"{application.year}年度创新券申请已提交，请等待省统筹中心审核。", "success")
    return redirect(url_for("vouchers.index"), 303)


def _refuse_submit(application: VoucherApplication, submit_form: SubmitForm, refusal: str):
    form = ApplicationForm(obj=application)
    form.hold_current_files(application)
    return _render_form(application, form, submit_form=submit_form, refusal=refusal), 409


def _render_form(application: VoucherApplication, form: ApplicationForm, submit_form=None, refusal=None):
    if submit_form is None:
        submit_form = SubmitForm()
        if application.stamped_sheet is not None:
            submit_form.stamped_sheet.data = application.stamped_sheet
    ready = application.id is not None and not incomplete(application)
    corrections = set(filter(None, application.correction_fields.split(",")))
    return render_template("vouchers/apply.html", application=application, form=form, submit_form=submit_form,
                           ready=ready, refusal=refusal, corrections=corrections, hints=LIVE_CHECKS,
                           industries=INDUSTRIES, product_fields=PRODUCT_FIELDS)


def _sheet_text(application: VoucherApplication) -> list:
    """What the printed sheet shows; when it changes, a stamped copy of the old one no longer matches."""
    return [section.rows for section in display.sections(application)]
