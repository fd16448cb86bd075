"""Provider (shop) rows: the seed document's units first, then generated ones across the 13 cities."""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from .. import policy
from ..models import ShopStatus
from .data import CITY_WEIGHTS, DISTRICTS, REAL_PROVIDERS, ProviderProfile
from .identities import COMPANY, PUBLIC_INSTITUTION, Identities
from .kinds import GROUP_LABELS
from .names import UnitNamer
from .timeline import BASE_TIME, days_before, moment_between

ROADS = ("科技路", "创新大道", "学府路", "高新路", "文昌路", "新华路", "人民路", "长江路", "黄河路", "建设路", "解放路",
         "中山路", "工业园路", "星湖街", "纬二路", "经三路", "珠江路", "太湖大道", "研创路", "智慧大道")
# "类别：说明", the form the reviewer's removal writes (admin/providers.py REMOVAL_REASONS)
REMOVAL_REASONS = ("弄虚作假：经查实采取弄虚作假方式申领省创新券资金，不再列为服务单位。",
                   "投诉多、评价差：用户投诉多、评价差，经核实不再列为服务单位。",
                   "其他原因：资质证书过期未续，无法继续开展省创新券服务。")
QUALIFIED_TYPES = frozenset({"third_party", "public_institution"})
COMPANY_TYPES = frozenset({"third_party", "new_rnd", "soe"})
SEED_QUALIFICATION_EXPIRY = date(2027, 12, 31)


@dataclass(frozen=True)
class Qualification:
    kind: str
    number: str
    expires_on: date

    @property
    def note(self) -> str:
        if self.kind == "CNAS":
            return f"CNAS认可实验室（注册号{self.number}），认可有效期至{self.expires_on:%Y-%m-%d}。"
        return f"已取得检验检测机构资质认定（CMA）证书，编号{self.number}，有效期至{self.expires_on:%Y-%m-%d}。"


@dataclass
class Shop:
    row: dict
    groups: tuple[str, ...]
    qualification: Qualification | None

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def name(self) -> str:
        return self.row["name"]

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def unit_type(self) -> str:
        return self.row["unit_type"]


def build_shops(rng: random.Random, identities: Identities, total: int, first_id: int,
                owners: dict[str, int], taken_names) -> list[Shop]:
    """`total` providers (at least the seed's, plus one generated provider per city); `owners` maps a provider
    name to the demo user who runs its shop."""
    shops = [_real_shop(rng, identities, profile, first_id + index, owners.get(profile.name))
             for index, profile in enumerate(REAL_PROVIDERS)]
    namer = UnitNamer(rng, set(taken_names) | {shop.name for shop in shops})
    generated = max(total - len(shops), len(policy.CITIES))
    for index, city in enumerate(_cities(rng, generated)):
        profile = _generated_profile(rng, namer, city)
        shops.append(_shop(rng, identities, profile, first_id + len(shops), _generated_status(index), None))
    return shops


def _real_shop(rng, identities, profile: ProviderProfile, shop_id: int, owner_id: int | None) -> Shop:
    if not profile.address_detail:
        profile = profile._replace(address_detail=_street(rng))
    return _shop(rng, identities, profile, shop_id, ShopStatus.OPEN, owner_id, seed_listed=True)


def _cities(rng: random.Random, count: int) -> list[str]:
    # Every city first, so each 本地服务 page has at least one provider at any catalog size.
    extra = rng.choices(tuple(CITY_WEIGHTS), weights=tuple(CITY_WEIGHTS.values()), k=count - len(policy.CITIES))
    return list(policy.CITIES) + extra


def _generated_status(index: int) -> str:
    if index < len(policy.CITIES):
        return ShopStatus.OPEN
    cycle = (index - len(policy.CITIES)) % 37
    return {3: ShopStatus.REMOVED, 11: ShopStatus.PENDING}.get(cycle, ShopStatus.OPEN)


def _generated_profile(rng: random.Random, namer: UnitNamer, city: str) -> ProviderProfile:
    unit = namer.draw(city)
    if unit.institution:
        known = unit.institution
        # About half the universities and institutes are 承诺制 pilots ("超40家高校院所参与试点").
        return ProviderProfile(known.name, known.unit_type, city, known.district, known.address_detail, known.groups,
                               is_pilot=rng.random() < 0.5)
    groups = tuple(rng.sample(unit.groups, rng.randint(1, min(3, len(unit.groups)))))
    return ProviderProfile(unit.name, unit.unit_type, city, rng.choice(DISTRICTS[city]), _street(rng), groups)


def _street(rng: random.Random) -> str:
    return f"{rng.choice(ROADS)}{rng.randint(1, 888)}号"


def _shop(rng, identities: Identities, profile: ProviderProfile, shop_id: int, status: str,
          owner_id: int | None, seed_listed: bool = False) -> Shop:
    qualification = _qualification(rng, profile.unit_type, seed_listed)
    row = {
        "id": shop_id,
        "user_id": owner_id,
        "name": profile.name,
        "credit_code": identities.credit_code(COMPANY if profile.unit_type in COMPANY_TYPES else PUBLIC_INSTITUTION,
                                              profile.city),
        "unit_type": profile.unit_type,
        "is_new_rnd": profile.unit_type == "new_rnd",
        "intro": _intro(profile, qualification),
        "registered_address": f"江苏省{profile.city}市{profile.district}{profile.address_detail}",
        "founded_on": _founded_on(rng, profile.unit_type),
        "has_website": profile.website is not None,
        "website": profile.website,
        "contact_name": identities.person_name(),
        "contact_phone": identities.landline(profile.city),
        "postal_province": "江苏省",
        "city": profile.city,
        "district": profile.district,
        "address_detail": profile.address_detail,
        "legal_rep_name": identities.person_name(),
        "legal_rep_phone": identities.mobile(),
        "legal_rep_id_type": "id_card",
        "legal_rep_id_number": identities.id_number(profile.city),
        "bank_account_name": profile.name,
        **identities.bank_account(profile.city, profile.district),
        **_finances(rng),
        "qualification_kind": qualification.kind if qualification else None,
        "qualification_expires_on": qualification.expires_on if qualification else None,
        "status": status,
        "status_reason": rng.choice(REMOVAL_REASONS) if status == ShopStatus.REMOVED else None,
        "is_pilot": profile.is_pilot,
        "auto_accept": status == ShopStatus.OPEN and rng.random() < 0.12,
        **_shop_timeline(rng, status),
    }
    return Shop(row, profile.groups, qualification)


def _qualification(rng: random.Random, unit_type: str, seed_listed: bool) -> Qualification | None:
    if unit_type not in QUALIFIED_TYPES and rng.random() >= 0.35:
        return None
    kind = "CMA" if unit_type == "public_institution" else rng.choice(("CMA", "CMA", "CNAS"))
    if kind == "CNAS":
        number = f"CNAS L{rng.randint(1000, 19999)}"
    else:  # year of issue, 10 = 江苏, serial
        number = f"{rng.randint(15, 24)}10{rng.randrange(10 ** 8):08d}"
    expires_on = SEED_QUALIFICATION_EXPIRY if seed_listed else date(rng.randint(2027, 2029), rng.randint(1, 12), 28)
    return Qualification(kind, number, expires_on)


def _intro(profile: ProviderProfile, qualification: Qualification | None) -> str:
    scope = "、".join(GROUP_LABELS[group] for group in profile.groups)
    if profile.unit_type == "third_party":
        accredited = f"通过{qualification.kind}资质认定，" if qualification else ""
        return f"{profile.name}是专业第三方检验检测机构，{accredited}面向企业提供{scope}等检测服务。"
    if profile.unit_type in ("university", "institute", "platform_member"):
        return f"{profile.name}大型科研仪器开放共享平台整合大型仪器设备，面向社会提供{scope}等分析测试服务。"
    return f"{profile.name}面向{profile.city}及周边企业开放共享科研仪器，提供{scope}等分析测试与研发服务。"


def _founded_on(rng: random.Random, unit_type: str) -> date:
    # Third-party labs must be registered at least two years before they apply (管理办法 服务单位 条件2).
    first, last = {"university": (1950, 1995), "institute": (1950, 1995), "platform_member": (1958, 2005),
                   "third_party": (2004, 2020)}.get(unit_type, (1995, 2020))
    return date(first, 1, 1) + timedelta(days=rng.randrange((last - first) * 365))


def _finances(rng: random.Random) -> dict:
    revenue_fen = rng.randint(300, 30_000) * policy.FEN_PER_WAN
    return {
        "last_year_revenue_fen": revenue_fen,
        "last_year_tax_fen": revenue_fen * rng.randint(3, 8) // 100,
        "last_year_net_profit_fen": revenue_fen * rng.randint(4, 15) // 100,
    }


def _shop_timeline(rng: random.Random, status: str) -> dict:
    if status == ShopStatus.PENDING:
        submitted = days_before(rng, BASE_TIME, 1, 10)
        opened = removed = None
    else:
        opened = days_before(rng, BASE_TIME, 60, 1400)
        submitted = opened - timedelta(days=rng.randint(3, 20))
        removed = moment_between(rng, opened + timedelta(days=30), BASE_TIME) if status == ShopStatus.REMOVED else None
    created = submitted - timedelta(days=rng.randint(1, 30))
    return {"submitted_at": submitted, "opened_at": opened, "removed_at": removed, "created_at": created,
            "updated_at": removed or opened or submitted}
