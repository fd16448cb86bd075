"""Demo accounts, one for each role the demo walks through, all sharing DEMO_PASSWORD."""
from datetime import date, datetime, timedelta
from typing import NamedTuple

from .. import policy
from ..models import AccountStatus, Role
from .identities import COMPANY, Identities
from .timeline import BASE_TIME

DEMO_PASSWORD = "demo12345"


class DemoEnterprise(NamedTuple):
    name: str
    city: str
    district: str
    founded_on: date
    is_kexiao: bool


class DemoAccount(NamedTuple):
    email: str
    role: str
    note: str
    status: str = AccountStatus.ACTIVE
    enterprise: DemoEnterprise | None = None
    provider: str | None = None  # name of the shop this account runs
    name: str = ""  # "" -> a generated person's name


def _voucher_note(city: str) -> str:
    region = policy.region_of(city)
    rate = policy.rate_of(region)
    return (f"{city}（{region}）企业：省创新券按{rate.numerator * 100 // rate.denominator}%兑付，"
            f"年度上限{policy.format_wan(policy.annual_cap(region))}万元")


DEMO_ACCOUNTS = (
    DemoAccount("admin@demo.cxq", Role.REVIEWER, "审核账号、开店、上架、申领与兑付", name="省统筹中心审核员"),
    DemoAccount("nanjing@demo.cxq", Role.ENTERPRISE, _voucher_note("南京"),
                enterprise=DemoEnterprise("南京微纳芯材科技有限公司", "南京", "江宁区", date(2018, 5, 16), True)),
    # The seed's 徐州 case: a precision-machinery SME developing a crawler track.
    DemoAccount("xuzhou@demo.cxq", Role.ENTERPRISE, _voucher_note("徐州"),
                enterprise=DemoEnterprise("徐州精工履带机械科技有限公司", "徐州", "铜山区", date(2016, 9, 8), True)),
    DemoAccount("cumt@demo.cxq", Role.PROVIDER, "中国矿业大学店铺（服务承诺制试点）", provider="中国矿业大学"),
    DemoAccount("lab@demo.cxq", Role.PROVIDER, "江苏科特生物技术检测有限公司店铺（第三方检测机构）",
                provider="江苏科特生物技术检测有限公司"),
    DemoAccount("buyer@demo.cxq", Role.INDIVIDUAL, "个人买家：可下单，不能申领创新券"),
    DemoAccount("pending@demo.cxq", Role.ENTERPRISE, "待审核企业：演示账号审核队列", status=AccountStatus.PENDING,
                enterprise=DemoEnterprise("无锡澄新生物科技有限公司", "无锡", "新吴区", date(2021, 3, 2), False)),
)


class DemoAccounts(NamedTuple):
    users: list[dict]
    enterprises: list[dict]
    shop_owners: dict[str, int]  # provider name -> user id
    logins: list[tuple[str, str, str, str]]  # (role label, email, password, note)


def build_accounts(identities: Identities, first_user_id: int, first_enterprise_id: int,
                   password_hash: str) -> DemoAccounts:
    reviewer_id = first_user_id  # DEMO_ACCOUNTS starts with the reviewer, who approves the others
    users, enterprises, owners, logins = [], [], {}, []
    for index, account in enumerate(DEMO_ACCOUNTS):
        user_id = first_user_id + index
        created = BASE_TIME - timedelta(days=30) + timedelta(hours=index)
        users.append(_user_row(identities, account, user_id, reviewer_id, password_hash, created))
        if account.enterprise:
            enterprises.append(_enterprise_row(identities, account.enterprise, first_enterprise_id + len(enterprises),
                                               user_id))
        if account.provider:
            owners[account.provider] = user_id
        logins.append((Role.LABELS[account.role], account.email, DEMO_PASSWORD, account.note))
    return DemoAccounts(users, enterprises, owners, logins)


def _user_row(identities: Identities, account: DemoAccount, user_id: int, reviewer_id: int, password_hash: str,
              created: datetime) -> dict:
    active = account.status == AccountStatus.ACTIVE
    return {
        "id": user_id,
        "email": account.email,
        "phone": identities.mobile(),
        "name": account.name or identities.person_name(),
        "password_hash": password_hash,
        "role": account.role,
        "status": account.status,
        "approved_at": created + timedelta(days=1) if active else None,
        "approved_by_id": reviewer_id if active and user_id != reviewer_id else None,
        "session_version": 1,
        "created_at": created,
        "updated_at": created,
    }


def _enterprise_row(identities: Identities, enterprise: DemoEnterprise, enterprise_id: int, user_id: int) -> dict:
    created = BASE_TIME - timedelta(days=30)
    return {
        "id": enterprise_id,
        "user_id": user_id,
        "name": enterprise.name,
        "credit_code": identities.credit_code(COMPANY, enterprise.city),
        "city": enterprise.city,
        "district": enterprise.district,
        "founded_on": enterprise.founded_on,
        "legal_rep_name": identities.person_name(),
        "legal_rep_id_type": "id_card",
        "legal_rep_id_number": identities.id_number(enterprise.city),
        "kexiao_number": identities.kexiao_number(enterprise.city, BASE_TIME.year) if enterprise.is_kexiao else None,
        "created_at": created,
        "updated_at": created,
    }
