"""The application's states and every transition between them, each written to the audit log.

    draft ──submit──▶ submitted ──approve──▶ approved (voucher issued)
      ▲                  │  └──reject──▶ rejected
      └───── returned ◀──┘ return_for_correction (the enterprise edits and submits again)
"""
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import audit, policy, refusal
from ..extensions import db
from ..models import ApplicationStatus, AuditLog, Enterprise, Voucher, VoucherApplication, china_today, utcnow
from .eligibility import application_problems
from .local import region_for

OBJECT = "voucher_application"
# How 审核记录 names each audited action.
ACTION_LABELS = {"create": "创建申请", "edit": "修改申请", "submit": "提交审核", "approve": "审核通过",
                 "return": "退回修改", "reject": "审核不通过"}
EDITABLE = (ApplicationStatus.DRAFT, ApplicationStatus.RETURNED)
CONFIRM_CITY = "请核对营业执照后确认注册地"
# Copied from the enterprise's account (or last year's application) into a new year's form.
CARRIED_OVER = ("unit_name", "credit_code", "founded_on", "email", "identity", "employees", "phone",
                "legal_rep_name", "legal_rep_mobile", "legal_rep_id_type", "legal_rep_id_number", "contact_name",
                "contact_phone", "registered_province", "registered_city", "registered_district",
                "postal_province", "postal_city", "postal_district", "postal_detail", "in_hightech_zone",
                "hightech_zone_name", "industry", "product_field", "supervising_department", "bank_account_name",
                "bank_name", "bank_account_number", "gaoqi_certificate_number", "gaoqi_valid_until")


class Refused(refusal.Refused):
    """A transition the application's state or content does not allow; the message says why in Chinese."""


def current_year() -> int:
    return china_today().year


def application_for(enterprise: Enterprise, year: int) -> VoucherApplication | None:
    return db.session.scalar(select(VoucherApplication).where(VoucherApplication.enterprise_id == enterprise.id,
                                                              VoucherApplication.year == year))


def new_application(enterprise: Enterprise, year: int) -> VoucherApplication:
    """An unsaved draft prefilled from the latest earlier application, else from the enterprise's account."""
    # Column defaults apply only at INSERT; the unsaved form needs them now.
    defaults = {column.key: column.default.arg for column in VoucherApplication.__table__.columns
                if column.default is not None and column.default.is_scalar}
    application = VoucherApplication(**defaults, enterprise_id=enterprise.id, year=year)
    earlier = db.session.scalar(select(VoucherApplication).where(
        VoucherApplication.enterprise_id == enterprise.id, VoucherApplication.year < year)
        .order_by(VoucherApplication.year.desc()).limit(1))
    if earlier is not None:
        for name in CARRIED_OVER:
            setattr(application, name, getattr(earlier, name))
    else:
        user = enterprise.user
        application.unit_name, application.credit_code = enterprise.name, enterprise.credit_code
        application.founded_on, application.email = enterprise.founded_on, user.email
        application.registered_city, application.registered_district = enterprise.city, enterprise.district or ""
        application.legal_rep_name = enterprise.legal_rep_name or ""
        application.legal_rep_id_type = enterprise.legal_rep_id_type or "id_card"
        application.legal_rep_id_number = enterprise.legal_rep_id_number or ""
        application.contact_name, application.contact_phone = user.name, user.phone
        application.bank_account_name = enterprise.name
    if enterprise.kexiao_number:
        application.kexiao_number = enterprise.kexiao_number
    return application


def submit(application: VoucherApplication, today: date | None = None) -> None:
    require(application, *EDITABLE)
    problems = application_problems(application, today or china_today())
    if problems:
        raise Refused("；".join(problem.message for problem in problems))
    if not application.contact_phone_verified_at:
        raise Refused("请先完成联系人手机号码短信验证")
    if not application.stamped_sheet_file_id:
        raise Refused("请上传加盖公章的申请信息表扫描件")
    _move(application, "submit", ApplicationStatus.SUBMITTED)
    application.submitted_at = utcnow()
    application.correction_fields = ""


def approve(application: VoucherApplication, reviewer_id: int, confirmed_city: str | None = None) -> Voucher:
    """Issue the year's voucher, valid to 12-31, with the cap of the region of the registered city the reviewer
    confirmed from the 营业执照. Without one, the registered city stands only when the account's city agrees."""
    require(application, ApplicationStatus.SUBMITTED)
    city = confirmed_city or agreed_city(application)
    if not city:
        raise Refused(CONFIRM_CITY)
    try:
        city = policy.normalize_city(city)
        region = region_for(city)
    except ValueError as error:
        raise Refused(f"注册地无法确定所属区域：{error}") from None
    if db.session.scalar(select(Voucher.id).where(Voucher.enterprise_id == application.enterprise_id,
                                                  Voucher.year == application.year)):
        raise Refused(f"该企业{application.year}年度的创新券已发放，不能重复发放")
    application.confirmed_city = city
    _decide(application, "approve", ApplicationStatus.APPROVED, reviewer_id, f"确认注册地：{city}市（{region}）")
    voucher = Voucher(enterprise_id=application.enterprise_id, application_id=application.id,
                      year=application.year, region=region, total_fen=policy.annual_cap(region), reserved_fen=0,
                      approved_fen=0, disbursed_fen=0, valid_until=date(application.year, 12, 31),
                      issued_at=utcnow())
    db.session.add(voucher)
    db.session.flush()
    audit.record("voucher", voucher.id, "issue", None, "issued",
                 f"{application.year}年度 {city}市 {region} {policy.format_yuan(voucher.total_fen)}元",
                 actor_id=reviewer_id)
    return voucher


def agreed_city(application: VoucherApplication) -> str:
    """The registered city (short form) when the evidence agrees on it, else "": the 营业执照 is uploaded, the
    account names the same city, and the credit code's registering authority, when its code tells, lies in it.
    The account's city and the form's are both the enterprise's word; the rest is for the reviewer to confirm."""
    if not application.business_licence_file_id:
        return ""
    try:
        registered = policy.normalize_city(application.registered_city)
        account = policy.normalize_city(application.enterprise.city)
    except ValueError:
        return ""
    by_code = policy.city_of_credit_code(application.credit_code)
    return registered if account == registered and by_code in (None, registered) else ""


def return_for_correction(application: VoucherApplication, reviewer_id: int, reason: str,
                          fields: tuple[str, ...] = ()) -> None:
    require(application, ApplicationStatus.SUBMITTED)
    _decide(application, "return", ApplicationStatus.RETURNED, reviewer_id, reason)
    application.correction_fields = ",".join(fields)


def reject(application: VoucherApplication, reviewer_id: int, reason: str) -> None:
    require(application, ApplicationStatus.SUBMITTED)
    _decide(application, "reject", ApplicationStatus.REJECTED, reviewer_id, reason)


def history(application: VoucherApplication) -> list[AuditLog]:
    """审核记录: every step of this application, oldest first."""
    return list(db.session.scalars(select(AuditLog).where(AuditLog.object_type == OBJECT,
                                                          AuditLog.object_id == str(application.id))
                                   .options(joinedload(AuditLog.actor)).order_by(AuditLog.at, AuditLog.id)))


def require(application: VoucherApplication, *allowed: str) -> None:
    if application.status not in allowed:
        wanted = "或".join(f"“{ApplicationStatus.LABELS[s]}”" for s in allowed)
        raise Refused(f"该申请当前为“{application.status_label}”，只有{wanted}的申请可以执行此操作。")


def _decide(application, action, to_state, reviewer_id, reason) -> None:
    _move(application, action, to_state, reason, reviewer_id)
    application.decided_at, application.decided_by_id, application.decision_reason = utcnow(), reviewer_id, reason


def _move(application, action, to_state, reason=None, actor_id=None) -> None:
    audit.record(OBJECT, application.id, action, application.status, to_state, reason, actor_id=actor_id)
    application.status = to_state
