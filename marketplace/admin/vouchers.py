"""Reviewing voucher applications (SPEC 6): the queue, one application in full, and the decisions.

The transitions themselves (and their audit rows) live in marketplace.vouchers.lifecycle; this module
shows the reviewer what to check and turns the decisions into pages and htmx fragments.
"""
from dataclasses import dataclass

from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import policy, uploads, validators
from ..extensions import db
from ..forms import choices
from ..htmx import is_htmx
from ..models import ApplicationStatus, KexiaoEntry, VoucherApplication, china_today
from ..pagination import paginate
from ..validators import whole_number
from ..vouchers import display, eligibility, kexiao, lifecycle, local
from . import bp
from .decisions import Desk, decide
from .forms import ApproveVoucherForm, RejectForm, ReturnForm
from .queues import register_queue

register_queue("待审核创新券申请", "admin.vouchers", VoucherApplication.submitted_at,
               VoucherApplication.status == ApplicationStatus.SUBMITTED, area="创新券申领", position=1)

# Tabs of the queue, in the order a reviewer works through them (drafts are the enterprise's own).
TABS = {status: ApplicationStatus.LABELS[status] for status in (
    ApplicationStatus.SUBMITTED, ApplicationStatus.RETURNED, ApplicationStatus.APPROVED, ApplicationStatus.REJECTED)}
# Waiting applications oldest first; decided ones most recent first.
ORDER = {ApplicationStatus.SUBMITTED: (VoucherApplication.submitted_at.asc(), VoucherApplication.id.asc())}
DECIDED_ORDER = (VoucherApplication.decided_at.desc(), VoucherApplication.id.desc())


@dataclass(frozen=True)
class Check:
    """One automatic check on the detail page: ok True (✓), False (✗) or None (for information), with the
    upload to look at beside it, if any."""
    ok: bool | None
    text: str
    evidence: display.Attachment | None = None


@bp.get("/vouchers")
def vouchers():
    status = request.args.get("status", ApplicationStatus.SUBMITTED)
    if status not in TABS:
        status = ApplicationStatus.SUBMITTED
    year = whole_number(request.args.get("year", ""), digits=4) or lifecycle.current_year()
    q = request.args.get("q", "").strip()
    filters = _filters(year, q)
    stmt = (select(VoucherApplication).where(*filters, VoucherApplication.status == status)
            .order_by(*ORDER.get(status, DECIDED_ORDER)))
    page = paginate(stmt, current_app.config["PER_PAGE"])
    counts = dict(db.session.execute(select(VoucherApplication.status, func.count())
                                      .where(*filters).group_by(VoucherApplication.status)).all())
    places = _queue_places(page.items)
    return render_template("admin/vouchers.html", page=page, status=status, labels=TABS, counts=counts,
                           year=year, years=_years(), q=q, args={"status": status, "year": year, "q": q or None},
                           places=places)


@bp.get("/vouchers/<int:application_id>")
def voucher_detail(application_id: int):
    return render_template("admin/vouchers_detail.html", **_context(_application(application_id)))


@bp.post("/vouchers/<int:application_id>/approve")
def approve_voucher(application_id: int):
    application = _application(application_id, lock=True)
    form = _approve_form(application)
    return decide(DESK, application, lambda: _waiting(application), form.validate_on_submit,
                  lambda: _approve(application, form), approve_form=form)


@bp.post("/vouchers/<int:application_id>/return")
def return_voucher(application_id: int):
    application = _application(application_id, lock=True)
    form = _return_form(application)
    return decide(DESK, application, lambda: _waiting(application), form.validate_on_submit,
                  lambda: _return(application, form), return_form=form)


@bp.post("/vouchers/<int:application_id>/reject")
def reject_voucher(application_id: int):
    application = _application(application_id, lock=True)
    form = RejectForm()
    return decide(DESK, application, lambda: _waiting(application), form.validate_on_submit,
                  lambda: _reject(application, form), reject_form=form)


# ---------------------------------------------------------------- the queue

def _filters(year: int, q: str) -> list:
    filters = [VoucherApplication.year == year, VoucherApplication.status.in_(TABS)]
    if q:
        filters.append(or_(VoucherApplication.unit_name.contains(q, autoescape=True),
                           VoucherApplication.credit_code.contains(q.upper(), autoescape=True)))
    return filters


def _years() -> list[int]:
    stored = db.session.scalars(select(VoucherApplication.year).distinct())
    return sorted({*stored, lifecycle.current_year()}, reverse=True)


def _region(city: str) -> str | None:
    try:
        return local.region_for(city)
    except ValueError:
        return None


def _place(city: str) -> str:
    """南京市 · 苏南 (the region the reviewer's city settings give, which sets the voucher total)."""
    region = _region(city)
    return f"{policy.normalize_city(city)}市 · {region}" if region else (city or "—")


def _queue_places(applications) -> dict[int, str]:
    """By application: the city its voucher is for (as filed until a reviewer confirms one), and the city as filed
    beside it when the reviewer confirmed another: 填写 徐州 → 确认 南京市 · 苏南. One lookup per city."""
    cities = {city for a in applications for city in (a.registered_city, local.voucher_city(a))}
    place = {city: _place(city) for city in cities}
    shown = {}
    for a in applications:
        filed, issued = place[a.registered_city], place[local.voucher_city(a)]
        shown[a.id] = issued if filed == issued else f"填写 {a.registered_city or '—'} → 确认 {issued}"
    return shown


# ---------------------------------------------------------------- decisions

def _approve(application: VoucherApplication, form: ApproveVoucherForm) -> str:
    voucher = lifecycle.approve(application, current_user.id, form.confirmed_city.data)
    return (f"已通过{application.unit_name}的{application.year}年度申请（注册地{application.confirmed_city}市，"
            f"{voucher.region}），发放创新券 {policy.format_yuan(voucher.total_fen)} 元，"
            f"有效期至 {voucher.valid_until.isoformat()}")


def _approve_form(application: VoucherApplication, **kwargs) -> ApproveVoucherForm:
    """The confirmed city is preset only when the application and the account agree on it."""
    return ApproveVoucherForm(confirmed_city=lifecycle.agreed_city(application), **kwargs)


def _return(application: VoucherApplication, form: ReturnForm) -> str:
    lifecycle.return_for_correction(application, current_user.id, form.reason.data.strip(), tuple(form.fields.data))
    return f"已将{application.unit_name}的{application.year}年度申请退回修改"


def _reject(application: VoucherApplication, form: RejectForm) -> str:
    lifecycle.reject(application, current_user.id, form.reason.data.strip())
    return f"{application.unit_name}的{application.year}年度申请审核不通过"


def _waiting(application: VoucherApplication) -> None:
    lifecycle.require(application, ApplicationStatus.SUBMITTED)


# ---------------------------------------------------------------- the detail page and its panel

def _render(application: VoucherApplication, status: int, **extra):
    template = "admin/partials/voucher_decision.html" if is_htmx() else "admin/vouchers_detail.html"
    return render_template(template, **_context(application, **extra)), status


DESK = Desk(_render, lambda application, came_from: url_for("admin.vouchers", status=came_from,
                                                              year=application.year))


def _context(application: VoucherApplication, approve_form=None, return_form=None, reject_form=None, refusal=None,
             notice=None) -> dict:
    groups = correction_groups(application)
    return dict(application=application, sections=display.sections(application),
                attachments=display.attachments(application), is_image=uploads.is_image,
                format_size=uploads.format_size, checks=checks(application),
                history=lifecycle.history(application), action_labels=lifecycle.ACTION_LABELS,
                status_labels=ApplicationStatus.LABELS,
                correction_groups=groups, correction_labels=dict(pair for _title, pairs in groups for pair in pairs),
                approve_form=approve_form or _approve_form(application, formdata=None),
                return_form=return_form or _return_form(application, formdata=None),
                reject_form=reject_form or RejectForm(formdata=None), refusal=refusal, notice=notice)


def correction_groups(application: VoucherApplication) -> list[tuple[str, list[tuple[str, str]]]]:
    """What the reviewer may ask to correct: every shown field by section, then every file."""
    groups = [(section.title, [(row.name, row.label) for row in section.rows])
              for section in display.sections(application)]
    files = [(name, display.file_label(application, name)) for name in display.FILES]
    return groups + [("上传材料", files)]


def _return_form(application: VoucherApplication, **kwargs) -> ReturnForm:
    form = ReturnForm(**kwargs)
    form.fields.choices = choices(pair for _title, pairs in correction_groups(application) for pair in pairs)
    return form


def checks(application: VoucherApplication) -> list[Check]:
    """What the platform verified for the reviewer, as of today."""
    today = china_today()
    problems = eligibility.application_problems(application, today)
    found = [Check(False, problem.message) for problem in problems] or [
        Check(True, "符合申领条件：注册地在江苏省内，上年度营业收入、企业身份及其证明材料已核对")]
    found += [_kexiao_check(application), _voucher_check(application)]
    if application.gaoqi_valid_until is not None:
        valid = application.gaoqi_valid_until >= today
        found.append(Check(valid, f"高新技术企业证书 {application.gaoqi_certificate_number or '（未填编号）'} "
                                  f"有效期至 {application.gaoqi_valid_until.isoformat()}"
                                  + ("" if valid else "，已过期")))
    phone = application.contact_phone or "（未填写）"
    found.append(Check(True, f"联系人手机 {phone} 已通过短信验证") if application.contact_phone_verified_at
                 else Check(False, f"联系人手机 {phone} 未通过短信验证"))
    found.append(Check(True, "已上传加盖公章的申请信息表") if application.stamped_sheet_file_id
                 else Check(False, "未上传加盖公章的申请信息表"))
    return found


def _kexiao_check(application: VoucherApplication) -> Check:
    year, number = application.year, kexiao.normalize_number(application.kexiao_number)
    code = validators.normalize_credit_code(application.credit_code)
    entry = kexiao.registry_entry(year, number, code)
    if entry is not None:
        if entry.credit_code and entry.credit_code != code:
            return Check(False, f"科技型中小企业入库编号 {entry.number} 在{year}年度名单中属于 {entry.name}"
                                f"（{entry.credit_code}），与申请单位的统一社会信用代码不一致")
        if number and entry.number != number:
            return Check(False, f"{year}年度科技型中小企业名单中该企业的入库编号为 {entry.number}，"
                                f"与填写的 {number} 不一致")
        return Check(True, f"在{year}年度科技型中小企业名单中：入库编号 {entry.number}（{entry.name}）")
    needed = application.identity == "kexiao"
    if db.session.scalar(select(KexiaoEntry.id).where(KexiaoEntry.year == year).limit(1)) is None:
        return Check(None, f"尚未导入{year}年度科技型中小企业名单，无法核对入库编号")
    shown = f"（入库编号 {number}）" if number else ""
    return Check(False if needed else None, f"不在已导入的{year}年度科技型中小企业名单中{shown}")


def _voucher_check(application: VoucherApplication) -> Check:
    if application.voucher is not None:
        voucher = application.voucher
        city = local.voucher_city(application)
        return Check(True, f"已发放{voucher.year}年度创新券 {policy.format_yuan(voucher.total_fen)} 元"
                           f"（注册地{city.removesuffix('市')}市 · {voucher.region}），"
                           f"有效期至 {voucher.valid_until.isoformat()}")
    if _region(application.registered_city) is None:
        return Check(False, f"注册地“{application.registered_city or '未填写'}”不在江苏省设区市之列，"
                            "无法确定创新券额度")
    return _city_check(application)


def _city_check(application: VoucherApplication) -> Check:
    """The registered city against the account's and the credit code's registering authority's, with the 营业执照
    to confirm it by. Only a city they all name is presented as the voucher's; otherwise the reviewer's confirmed
    city decides the region."""
    licence = display.attachment(application, "business_licence")
    if licence is None:
        return Check(False, "未上传营业执照，无法核对注册地")
    by_code = policy.city_of_credit_code(application.credit_code)
    city = lifecycle.agreed_city(application)
    if not city:
        code_place = f"信用代码登记机关所在地为{_place(by_code)}" if by_code else "信用代码未载明登记机关所在市"
        return Check(False, f"注册地不一致：填写的注册地为{_place(application.registered_city)}，"
                            f"账号所在地为{_place(application.enterprise.city)}，{code_place}。"
                            "请核对营业执照后确认注册地，创新券额度按确认的注册地所属区域发放", licence)
    region = local.region_for(city)
    agreeing = ("填写的注册地、账号所在地与信用代码登记机关所在地一致" if by_code
                else "填写的注册地与账号所在地一致（信用代码未载明登记机关所在市）")
    return Check(True, f"{agreeing}：{city}市，属{region}，通过后发放创新券 "
                       f"{policy.format_yuan(policy.annual_cap(region))} 元，有效期至 {application.year}-12-31",
                 licence)


def _application(application_id: int, lock: bool = False) -> VoucherApplication:
    """The application (row-locked for a decision, so two reviewers cannot decide it at once); drafts
    are the enterprise's own and 404 here."""
    stmt = select(VoucherApplication).where(VoucherApplication.id == application_id,
                                            VoucherApplication.status != ApplicationStatus.DRAFT)
    application = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if application is None:
        abort(404)
    return application
