"""Read-side aggregates of the public provider pages (shop, instrument, 本地服务): grouped queries,
never one query per provider."""
from dataclasses import dataclass, field

from sqlalchemy import ScalarSelect, Select, case, func, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Field, Instrument, Provider, Service, ServiceStatus, ShopStatus, service_fields
from . import queries

VISIBLE_SHOP = (ShopStatus.OPEN, ShopStatus.REMOVED)  # a removed provider's history stays readable


@dataclass
class ShopCounts:
    services: int = 0
    instruments: int = 0


def listed_services_of(provider_id) -> ScalarSelect:
    """How many listed services `provider_id` (a value or a correlated column) has: its shop's 服务 tab."""
    sibling = aliased(Service)  # never correlated away by an outer query on services
    return (select(func.count(sibling.id))
            .where(sibling.provider_id == provider_id, sibling.status == ServiceStatus.LISTED).scalar_subquery())


def instruments_of(provider_id) -> ScalarSelect:
    """How many instruments `provider_id` (a value or a correlated column) shows: its shop's 仪器 tab."""
    instrument = aliased(Instrument)
    return select(func.count(instrument.id)).where(instrument.provider_id == provider_id).scalar_subquery()


def shop_counts(provider_ids) -> dict[int, ShopCounts]:
    """Listed services (none while the shop is not open) and instruments per provider, in one query."""
    ids = list(provider_ids)
    counts = {pid: ShopCounts() for pid in ids}
    if ids:
        rows = db.session.execute(select(Provider.id, Provider.status, listed_services_of(Provider.id),
                                         instruments_of(Provider.id)).where(Provider.id.in_(ids)))
        for provider_id, status, services, instruments in rows:
            counts[provider_id] = ShopCounts(services if status == ShopStatus.OPEN else 0, instruments)
    return counts


def shop_services(provider: Provider) -> Select:
    return queries.listed_services().where(Service.provider_id == provider.id).order_by(
        Service.published_at.desc(), Service.id.desc())


def shop_instruments(provider: Provider) -> Select:
    return select(Instrument).where(Instrument.provider_id == provider.id).order_by(Instrument.name, Instrument.id)


def instrument_services(instrument: Instrument) -> list[Service]:
    return db.session.scalars(queries.listed_services().where(Service.instrument_id == instrument.id)
                              .order_by(Service.published_at.desc(), Service.id.desc())).all()


@dataclass
class LocalProvider:
    id: int
    name: str
    services: int
    voucher_services: int


@dataclass
class LocalSummary:
    """The figures of a city's 本地服务 page, like the seed's Xuzhou page."""
    city: str
    providers: list[LocalProvider]  # most listed services first
    top_fields: list[str] = field(default_factory=list)

    @property
    def provider_count(self) -> int:
        return len(self.providers)

    @property
    def service_count(self) -> int:
        return sum(p.services for p in self.providers)

    @property
    def voucher_count(self) -> int:
        return sum(p.voucher_services for p in self.providers)

    @property
    def voucher_share(self) -> int:
        """Share of listed services carrying the 创新券 mark, as a whole percentage rounded down."""
        return self.voucher_count * 100 // self.service_count if self.service_count else 0

    @property
    def leading_names(self) -> list[str]:
        return [p.name for p in self.providers[:3]]


def local_summary(city: str) -> LocalSummary:
    """Open providers of `city` with their listed / 创新券 service counts, and the two busiest fields."""
    services = func.count(Service.id)
    rows = db.session.execute(
        select(Provider.id, Provider.name, services,
               func.coalesce(func.sum(case((Service.voucher_eligible.is_(True), 1), else_=0)), 0))
        .outerjoin(Service, (Service.provider_id == Provider.id) & (Service.status == ServiceStatus.LISTED))
        .where(Provider.city == city, Provider.status == ShopStatus.OPEN)
        .group_by(Provider.id, Provider.name).order_by(services.desc(), Provider.id))
    fields = db.session.scalars(
        select(Field.name).select_from(service_fields).join(Field)
        .join(Service, Service.id == service_fields.c.service_id).join(Service.provider)
        .where(Provider.city == city, Provider.status == ShopStatus.OPEN, Service.status == ServiceStatus.LISTED,
               Field.name != "其他")
        .group_by(Field.id, Field.name, Field.position)
        .order_by(func.count(Service.id).desc(), Field.position).limit(2))
    return LocalSummary(city=city, providers=[LocalProvider(*row) for row in rows], top_fields=list(fields))


def providers_by_id(ids) -> dict[int, Provider]:
    return {p.id: p for p in db.session.scalars(select(Provider).where(Provider.id.in_(list(ids))))}


def local_services(city: str) -> Select:
    return queries.listed_services().where(Provider.city == city).order_by(Service.published_at.desc(),
                                                                             Service.id.desc())
