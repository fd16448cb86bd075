"""The provider part of an offline claim (SPEC 7.3): what the wizard's two steps must hold, checked again at
submission, and the refusal of a provider whose shop is open on the platform."""
from sqlalchemy import select

from ..extensions import db
from ..models import Provider, Redemption, ShopStatus, china_today
from ..policy import Problem
from ..validators import normalize_credit_code
from . import checks

LINES_MISSING = "请至少填写一项服务明细（服务名称或仪器名称）"
OFFLINE_UNIT_TYPES = {"university": "高校", "institute": "科研院所", "soe": "国有企业",
                      "public_institution": "事业单位", "new_rnd": "新型研发机构", "third_party": "第三方检验检测机构",
                      "other": "其他"}
QUALIFICATIONS = {"CMA": "CMA", "CNAS": "CNAS", "other": "其他"}


def offline_problems(claim: Redemption) -> list[Problem]:
    """The provider part of an offline claim (SPEC 7.3); the wizard shows these next to its fields."""
    found = []
    if not claim.provider_name.strip() or not claim.provider_credit_code.strip():
        found.append(Problem("provider_name", "请填写服务单位名称和统一社会信用代码"))
    found += service_step_problems(claim)
    shop = platform_provider(claim.provider_credit_code) if claim.provider_credit_code else None
    if shop is not None:  # the unit opened a shop after the wizard's first step
        found.append(Problem("provider_name", on_platform_message(claim.provider_name)))
    return found


def service_step_problems(claim: Redemption) -> list[Problem]:
    """What the wizard's step 2 still lacks: the unit type, its qualification, a service line."""
    found = []
    if not claim.provider_unit_type:
        found.append(Problem("provider_unit_type", "请选择服务单位类型"))
    elif checks.needs_qualification(claim.provider_unit_type):
        if not claim.qualification_kind or claim.qualification_file_id is None:
            found.append(Problem("qualification_kind", "请选择服务单位资质并上传资质文件"))
        if claim.qualification_expires_on is None:
            found.append(Problem("qualification_expires_on", "请填写资质有效期"))
        elif claim.qualification_expires_on < china_today():
            found.append(Problem("qualification_expires_on",
                                 f"资质已于 {claim.qualification_expires_on:%Y-%m-%d} 过期，不能申请兑付"))
    if not any(line.service_name.strip() or line.instrument_name.strip() for line in claim.service_lines):
        found.append(Problem("service_lines", LINES_MISSING))
    return found


def platform_provider(credit_code: str) -> Provider | None:
    """The provider with an open shop on the platform that holds this credit code, if any (SPEC 7.3)."""
    return db.session.scalar(select(Provider).where(Provider.credit_code == normalize_credit_code(credit_code),
                                                    Provider.status == ShopStatus.OPEN))


def on_platform_message(name: str) -> str:
    return f"您所填写的“{name}”已经在本平台对外提供服务，请在平台上下单后，再申请兑付。"
