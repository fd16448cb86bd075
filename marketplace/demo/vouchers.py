"""Demo voucher history, shaped like the seed's 我的创新券 screen: earlier years partly used, and this
year's voucher for the 徐州 company; the 南京 company has not applied this year, so the demo can."""
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from .. import policy
from ..models import ApplicationStatus, Enterprise, VoucherApplication, china_today
from .files import png, store
from .timeline import BASE_TIME

LICENCE_COLOR, LICENCE_SIZE = (250, 246, 232), (842, 595)  # an A4 landscape scan, as the 营业执照 is printed

# city -> (years before this one that were approved, fen already disbursed in each)
HISTORY = {
    "南京": ((1, 215_300), (2, 0), (3, 111_700)),   # remaining 97,847 / 100,000 / 98,883 元 as in the seed
    "徐州": ((0, 0), (1, 4_560_000)),
}


def build_vouchers(enterprises: list[dict], users: dict[int, dict], first_application_id: int,
                   first_voucher_id: int, reviewer_id: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows for voucher_applications, vouchers and the 科小 registry of the demo's approved enterprises."""
    applications, vouchers, registry = [], [], []
    this_year = china_today().year
    for enterprise in enterprises:
        user = users[enterprise["user_id"]]
        if enterprise["kexiao_number"]:
            registry.append({"year": this_year, "number": enterprise["kexiao_number"], "name": enterprise["name"],
                             "credit_code": enterprise["credit_code"]})
        for years_ago, disbursed_fen in HISTORY.get(enterprise["city"], ()):
            year = this_year - years_ago
            application_id = first_application_id + len(applications)
            applications.append(_application(enterprise, user, application_id, year, reviewer_id))
            region = policy.region_of(enterprise["city"])
            vouchers.append({"id": first_voucher_id + len(vouchers), "enterprise_id": enterprise["id"],
                             "application_id": application_id, "year": year, "region": region,
                             "total_fen": policy.annual_cap(region), "reserved_fen": 0, "approved_fen": 0,
                             "disbursed_fen": disbursed_fen, "valid_until": date(year, 12, 31),
                             "issued_at": _at(year, 3, 10)})
    return applications, vouchers, registry


def seed_licences(session: Session) -> int:
    """Give every application without one a 营业执照 scan, stored through the upload pipeline as the enterprise's
    own upload. Needs the app: `flask seed-demo` calls it after seed_demo."""
    unlicensed = (select(VoucherApplication).where(VoucherApplication.business_licence_file_id.is_(None))
                  .options(joinedload(VoucherApplication.enterprise).joinedload(Enterprise.user))
                  .order_by(VoucherApplication.id))
    applications = session.scalars(unlicensed).all()
    for application in applications:
        licence = store(png(LICENCE_COLOR, LICENCE_SIZE), "营业执照.png", application.enterprise.user)
        application.business_licence_file_id = licence.id
    session.flush()
    return len(applications)


def _at(year: int, month: int, day: int):
    return BASE_TIME.replace(year=year, month=month, day=day)


def _application(enterprise: dict, user: dict, application_id: int, year: int, reviewer_id: int) -> dict:
    return {
        "id": application_id, "enterprise_id": enterprise["id"], "year": year, "status": ApplicationStatus.APPROVED,
        "unit_name": enterprise["name"], "credit_code": enterprise["credit_code"],
        "founded_on": enterprise["founded_on"], "email": user["email"], "identity": "kexiao",
        "kexiao_number": enterprise["kexiao_number"] or "", "gaoqi_certificate_number": "", "gaoqi_valid_until": None,
        "employees": 48, "phone": "", "legal_rep_name": enterprise["legal_rep_name"], "legal_rep_mobile": user["phone"],
        "legal_rep_id_type": "id_card", "legal_rep_id_number": enterprise["legal_rep_id_number"],
        "contact_name": user["name"], "contact_phone": user["phone"],
        "contact_phone_verified_at": _at(year, 3, 1), "registered_province": "江苏省",
        "registered_city": enterprise["city"], "registered_district": enterprise["district"],
        "confirmed_city": enterprise["city"],
        "postal_province": "江苏省", "postal_city": enterprise["city"] + "市",
        "postal_district": enterprise["district"],
        "postal_detail": "科技园路1号", "in_hightech_zone": True, "hightech_zone_name": f"{enterprise['city']}高新区",
        "industry": "制造业", "product_field": "先进制造与自动化",
        "supervising_department": f"{enterprise['city']}市科学技术局",
        "revenue_fen": 3_650 * policy.FEN_PER_WAN, "bank_account_name": enterprise["name"],
        "bank_name": "中国工商银行", "bank_account_number": f"1106020109{application_id:09d}",
        "correction_fields": "", "submitted_at": _at(year, 3, 2), "decided_at": _at(year, 3, 9),
        "decided_by_id": reviewer_id, "decision_reason": None,
        "created_at": _at(year, 3, 1), "updated_at": _at(year, 3, 9) + timedelta(hours=1),
    }
