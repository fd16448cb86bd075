"""Instrument, service and service-field rows for the shops, with primary keys assigned here."""
import math
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from .. import policy
from ..catalog.search_tokens import service_index_text
from ..models import InstrumentStatus, ServiceStatus, ShopStatus
from .data import REAL_INSTRUMENTS, REAL_SERVICES, RealService
from .kinds import EXCLUDED_OFFERINGS, GROUP_LABELS, KINDS_BY_GROUP, Analysis, Kind
from .providers import Shop
from .timeline import BASE_TIME, moment_between

INSTRUMENTS_PER_SERVICE = 0.84  # per listing of a shop; software and excluded listings need none, so ~0.8 overall
NEGOTIABLE_SHARE = 0.10
EXCLUDED_OFFERING_SHARE = 0.03  # of a third-party lab's listings
NOT_VOUCHER_SHARE = 0.08  # providers that chose not to carry the 创新券 mark on an eligible listing
MAX_INTRO = 70
EXTRA_CLAUSES = ("由经验丰富的专职技术人员操作，数据准确可靠。", "可根据客户需求定制测试方案。",
                 "出具规范的测试报告，数据可溯源。", "提供测试结果解读与技术咨询。", "支持预约加急测试。")
LAB_ROOMS = ("分析测试中心", "实验楼", "检测大楼", "科研楼", "公共技术平台")
STATUS_WEIGHTS = {ServiceStatus.LISTED: 93, ServiceStatus.PENDING: 3, ServiceStatus.DRAFT: 2,
                  ServiceStatus.REJECTED: 1, ServiceStatus.DELISTED: 1}
REJECTION_REASONS = ("服务描述与所用仪器不符，请补充检测标准/方法后重新提交。",
                     "价格单位填写不规范，请按样品或机时计价。",
                     "服务资质描述缺少证书编号，请补充后重新提交。")
NO_QUALIFICATION_NOTE = "本服务出具测试数据与分析报告，不加盖资质认定标志。"
SEED_SAMPLE_REQUIREMENTS = "样品数量、状态及包装要求请在下单前与服务单位确认。"
INSTRUMENT_WEIGHTS = {InstrumentStatus.AVAILABLE: 92, InstrumentStatus.MAINTENANCE: 6, InstrumentStatus.RETIRED: 2}


@dataclass(frozen=True)
class Reference:
    field_ids: dict[str, int]
    category_ids: dict[tuple[str, str], int]  # (parent name, name) -> id
    excluded_category_ids: frozenset[int]


class Listing(NamedTuple):
    """What a service offers, before it becomes a row of a particular shop."""
    name: str
    purpose: str
    category: tuple[str, str]
    unit: str
    price_fen: int | None
    nature: str
    standard: str
    fields: tuple[str, ...]
    cycle: str
    tags: str
    samples: tuple[str, ...]
    sample_requirements: str
    instrument: dict | None
    seed_listed: bool = False


@dataclass
class CatalogBuilder:
    rng: random.Random
    reference: Reference
    next_instrument_id: int
    next_service_id: int
    instruments: list[dict] = field(default_factory=list)
    services: list[dict] = field(default_factory=list)
    service_fields: list[dict] = field(default_factory=list)

    # ------------------------------------------------------------ the seed's own listings

    def add_seed_listings(self, shops_by_name: dict[str, Shop]) -> None:
        instruments = {real.key: self._add_instrument(shops_by_name[real.provider], real.name, real.manufacturer,
                                                      real.model, real.value_wan * policy.FEN_PER_WAN, real.field)
                       for real in REAL_INSTRUMENTS}
        for real in REAL_SERVICES:
            instrument = instruments[real.instrument] if real.instrument else None
            self._add_service(shops_by_name[real.provider], _seed_listing(real, instrument))

    # ------------------------------------------------------------ generated listings

    def add_generated(self, shop: Shop, count: int) -> None:
        kinds = self._kinds_for(shop, count)
        instruments = self._equip(shop, [kind for kind in kinds if kind.models], count)
        for index in range(count):
            if shop.unit_type == "third_party" and self.rng.random() < EXCLUDED_OFFERING_SHARE:
                self._add_service(shop, self._listing(self.rng.choice(EXCLUDED_OFFERINGS), None, None))
                continue
            kind = kinds[index] if index < len(kinds) else self.rng.choice(kinds)
            instrument = self.rng.choice(instruments[kind.name]) if kind.models else None
            self._add_service(shop, self._listing(self.rng.choice(kind.analyses), kind, instrument))

    def _kinds_for(self, shop: Shop, count: int) -> list[Kind]:
        candidates = list(dict.fromkeys(kind for group in shop.groups for kind in KINDS_BY_GROUP[group]))
        return self.rng.sample(candidates, min(len(candidates), math.ceil(count / 2)))

    def _equip(self, shop: Shop, kinds: list[Kind], service_count: int) -> dict[str, list[dict]]:
        """One instrument of every kind the shop offers, then more of them up to ~0.8 per service."""
        extra = round(service_count * INSTRUMENTS_PER_SERVICE) - len(kinds) if kinds else 0
        instruments: dict[str, list[dict]] = {kind.name: [] for kind in kinds}
        for kind in kinds + [self.rng.choice(kinds) for _ in range(extra)]:
            manufacturer, model = self.rng.choice(kind.models)
            value_fen = (self.rng.randint(*kind.value_wan) * policy.FEN_PER_WAN
                         + self.rng.randrange(0, policy.FEN_PER_WAN, 100 * policy.FEN_PER_YUAN))
            instruments[kind.name].append(self._add_instrument(shop, kind.name, manufacturer, model, value_fen,
                                                               kind.fields[0], kind.group))
        return instruments

    def _listing(self, analysis: Analysis, kind: Kind | None, instrument: dict | None) -> Listing:
        rng = self.rng
        unit = _unit_variant(rng, analysis.unit)
        fields = tuple(rng.sample(kind.fields, rng.randint(1, min(3, len(kind.fields))))) if kind else ("其他",)
        return Listing(
            name=_name_variant(rng, analysis.name, kind, instrument), purpose=analysis.purpose,
            category=analysis.category, unit=unit,
            price_fen=None if rng.random() < NEGOTIABLE_SHARE else _price_fen(rng, *analysis.price_yuan),
            nature=analysis.nature, standard=analysis.standard, fields=fields, cycle=_cycle(rng, unit),
            tags=",".join(rng.sample(kind.tags, 2)) if kind else analysis.category[1],
            samples=kind.samples if kind else (), sample_requirements=kind.sample_requirements if kind else "",
            instrument=instrument,
        )

    # ------------------------------------------------------------ rows

    def _add_instrument(self, shop: Shop, name: str, manufacturer: str, model: str, value_fen: int,
                        field_name: str, group: str | None = None) -> dict:
        rng = self.rng
        row = shop.row
        created = moment_between(rng, row["created_at"], BASE_TIME)
        scope = f"，用于{GROUP_LABELS[group]}" if group else ""
        instrument = {
            "id": self.next_instrument_id,
            "provider_id": shop.id,
            "name": name,
            "manufacturer": manufacturer,
            "model": model,
            "location": (f"江苏省{row['city']}市{row['district']}{row['address_detail']}{rng.choice(LAB_ROOMS)}"
                         f"{rng.randint(1, 6)}{rng.randint(1, 30):02d}室"),
            "original_value_fen": value_fen,
            "field_id": self.reference.field_ids.get(field_name),
            "status": rng.choices(tuple(INSTRUMENT_WEIGHTS), weights=tuple(INSTRUMENT_WEIGHTS.values()))[0],
            "description": f"{rng.randint(2010, 2024)}年购置的{_brand(manufacturer)} {model}{name}{scope}，"
                           "面向社会开放共享。",
            "created_at": created,
            "updated_at": created,
        }
        self.next_instrument_id += 1
        self.instruments.append(instrument)
        return instrument

    def _add_service(self, shop: Shop, listing: Listing) -> None:
        rng = self.rng
        instrument = listing.instrument or {}
        category_id = self.reference.category_ids.get(listing.category)
        excluded = category_id in self.reference.excluded_category_ids
        qualified = shop.qualification is not None and (listing.seed_listed or rng.random() < 0.9)
        description = _describe(rng, listing)
        tokens = service_index_text(listing.name, description, listing.tags, instrument.get("name", ""),
                                    instrument.get("model", ""), instrument.get("manufacturer", ""), shop.name)
        service_id = self.next_service_id
        self.services.append({
            "id": service_id,
            "provider_id": shop.id,
            "nature": listing.nature,
            "name": listing.name,
            "instrument_id": instrument.get("id"),
            "description": description,
            "service_type": "普通服务",
            "cycle": listing.cycle,
            "has_qualification": qualified,
            "category_id": category_id,
            "price_fen": listing.price_fen,
            "price_unit": listing.unit,
            "tags": listing.tags,
            "qualification_desc": shop.qualification.note if qualified else NO_QUALIFICATION_NOTE,
            "standards": listing.standard,
            "sample_requirements": listing.sample_requirements,
            "voucher_eligible": not excluded and (listing.seed_listed or rng.random() >= NOT_VOUCHER_SHARE),
            "search_tokens": tokens,
            **_service_state(rng, shop, listing.seed_listed),
        })
        field_ids = dict.fromkeys(self.reference.field_ids[name] for name in listing.fields
                                  if name in self.reference.field_ids)
        self.service_fields.extend({"service_id": service_id, "field_id": field_id} for field_id in field_ids)
        self.next_service_id += 1


def _seed_listing(real: RealService, instrument: dict | None) -> Listing:
    return Listing(
        name=real.name, purpose=real.purpose, category=real.category, unit=real.unit,
        price_fen=None if real.price_yuan is None else real.price_yuan * policy.FEN_PER_YUAN,
        nature=real.nature, standard=real.standard, fields=real.fields, cycle=real.cycle, tags=real.category[1],
        samples=(), sample_requirements=SEED_SAMPLE_REQUIREMENTS, instrument=instrument, seed_listed=True,
    )


def _brand(manufacturer: str) -> str:
    """The Chinese name of a maker ("日立 Hitachi" -> "日立"), or the whole name when it has none."""
    first = manufacturer.split(" ", 1)[0]
    return first if any("\u4e00" <= char <= "\u9fff" for char in first) else manufacturer


def _describe(rng: random.Random, listing: Listing) -> str:
    """30–100 characters (policy): an opening naming the instrument, the samples, one or two closing clauses."""
    text = _opening(rng, listing)
    if listing.samples:
        text += f"适用于{'、'.join(rng.sample(listing.samples, 2))}等样品。"
    wanted = rng.randint(1, 2)
    for clause in rng.sample(EXTRA_CLAUSES, len(EXTRA_CLAUSES)):
        needed = wanted > 0 or len(text) < policy.SERVICE_DESCRIPTION_MIN
        if needed and len(text) + len(clause) <= policy.SERVICE_DESCRIPTION_MAX:
            text += clause
            wanted -= 1
    return text


def _opening(rng: random.Random, listing: Listing) -> str:
    options = [f"{listing.purpose}。"]
    if listing.instrument:
        name, model = listing.instrument["name"], listing.instrument["model"]
        options += [f"依托{_brand(listing.instrument['manufacturer'])} {model}{name}，{listing.purpose}。",
                    f"采用{name}（{model}），{listing.purpose}。"]
    return rng.choice([option for option in options if len(option) <= MAX_INTRO])


def _name_variant(rng: random.Random, name: str, kind: Kind | None, instrument: dict | None) -> str:
    """Labs word the same analysis differently: some name the model, some the kind of sample."""
    variant = rng.random()
    if instrument and variant < 0.25:
        return f"{name}（{instrument['model']}）"
    if kind and variant > 0.75:
        return rng.choice(kind.samples) + name
    return name


def _unit_variant(rng: random.Random, unit: str) -> str:
    if unit == "元/小时" and rng.random() < 0.3:
        return "元/机时"
    if unit == "元/样品" and rng.random() < 0.1:
        return "元/次"
    return unit


def _price_fen(rng: random.Random, low: int, high: int) -> int:
    """A round reference price in the analysis' range: tens of yuan for small amounts, thousands for large."""
    step = 10 if high <= 1_000 else 100 if high <= 10_000 else 1_000
    return rng.randrange(low, high + 1, step) * policy.FEN_PER_YUAN


def _cycle(rng: random.Random, unit: str) -> str:
    if unit in ("元/小时", "元/机时"):
        return "预约后1-3个工作日"
    if unit == "元/项":
        return rng.choice(("15-30个工作日", "30-45个工作日", "20个工作日"))
    if unit == "元/天":
        return "按试验周期确定"
    return rng.choices(("1-3个工作日", "3-5个工作日", "5-7个工作日", "7-10个自然日", "10-15个工作日"),
                       weights=(2, 5, 4, 3, 1))[0]


def _service_state(rng: random.Random, shop: Shop, seed_listed: bool) -> dict:
    """Status with its timestamps: a removed shop's listings are off the shelf, a pending shop's await review."""
    row = shop.row
    if shop.status == ShopStatus.PENDING:
        created = moment_between(rng, row["created_at"], row["submitted_at"])
        return _state(ServiceStatus.PENDING, None, created, row["submitted_at"])
    if shop.status == ShopStatus.REMOVED:
        published = moment_between(rng, row["opened_at"], row["removed_at"])
        return _state(ServiceStatus.DELISTED, published, published - _hours(rng), row["removed_at"],
                      "服务单位已退出，服务下架。")
    status = ServiceStatus.LISTED if seed_listed else rng.choices(tuple(STATUS_WEIGHTS),
                                                                  weights=tuple(STATUS_WEIGHTS.values()))[0]
    if status in (ServiceStatus.LISTED, ServiceStatus.DELISTED):
        published = moment_between(rng, row["opened_at"], BASE_TIME)
        updated = published if status == ServiceStatus.LISTED else moment_between(rng, published, BASE_TIME)
        return _state(status, published, published - _hours(rng), updated)
    created = moment_between(rng, row["opened_at"], BASE_TIME)
    reason = rng.choice(REJECTION_REASONS) if status == ServiceStatus.REJECTED else None
    return _state(status, None, created, moment_between(rng, created, BASE_TIME), reason)


def _state(status, published_at, created_at, updated_at, reason=None) -> dict:
    return {"status": status, "status_reason": reason, "published_at": published_at, "created_at": created_at,
            "updated_at": updated_at}


def _hours(rng: random.Random) -> timedelta:
    return timedelta(hours=rng.randint(2, 96))
