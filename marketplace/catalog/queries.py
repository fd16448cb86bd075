"""Read-side queries of the mall: counters, reference data, the service search."""
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import (Category, Field, Instrument, Order, Provider, Service, ServiceStatus,
                      ShopStatus, service_fields)

SORTS = {"relevance": "综合排序", "price_asc": "价格从低到高", "price_desc": "价格从高到低", "newest": "最新发布"}


@dataclass
class Counters:
    providers: int
    instruments: int
    services: int
    deals: int


def counters() -> Counters:
    open_shop = Provider.status == ShopStatus.OPEN
    return Counters(
        providers=db.session.scalar(select(func.count(Provider.id)).where(open_shop)),
        instruments=db.session.scalar(select(func.count(Instrument.id)).join(Provider).where(open_shop)),
        services=db.session.scalar(select(func.count(Service.id)).join(Provider)
                                   .where(open_shop, Service.status == ServiceStatus.LISTED)),
        deals=db.session.scalar(select(func.count(Order.id)).where(Order.accepted_at.is_not(None))),
    )


def fields() -> list[Field]:
    return db.session.scalars(select(Field).order_by(Field.position)).all()


def category_tree() -> list[Category]:
    return db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                              .options(selectinload(Category.children)).order_by(Category.position)).unique().all()


def listed_services() -> Select:
    return (select(Service).join(Service.provider)
            .where(Service.status == ServiceStatus.LISTED, Provider.status == ShopStatus.OPEN)
            .options(joinedload(Service.provider), joinedload(Service.category), joinedload(Service.display_image)))


@dataclass
class SearchArgs:
    q: str = ""
    field: int | None = None
    category: int | None = None
    city: str = ""
    voucher: bool = False
    sort: str = "relevance"

    def params(self) -> dict:
        """The non-default values, as URL query parameters (for the pager and shareable links)."""
        values = {"q": self.q, "field": self.field, "category": self.category, "city": self.city,
                  "voucher": "1" if self.voucher else None,
                  "sort": None if self.sort == "relevance" else self.sort}
        return {k: v for k, v in values.items() if v}


def search_services(args: SearchArgs) -> Select:
    """Substring search over the listing's own words, instrument and provider.
    (The bigram full-text index replaces this scan in the catalog-and-search work.)"""
    stmt = listed_services().outerjoin(Service.instrument)
    if args.q:
        like = f"%{args.q}%"
        stmt = stmt.where(or_(Service.name.like(like), Service.description.like(like), Provider.name.like(like),
                              Instrument.name.like(like), Instrument.model.like(like)))
    if args.field:
        stmt = stmt.where(Service.id.in_(select(service_fields.c.service_id)
                                         .where(service_fields.c.field_id == args.field)))
    if args.category:
        child_ids = select(Category.id).where(or_(Category.id == args.category, Category.parent_id == args.category))
        stmt = stmt.where(Service.category_id.in_(child_ids))
    if args.city:
        stmt = stmt.where(Provider.city == args.city)
    if args.voucher:
        stmt = stmt.where(Service.voucher_eligible.is_(True))
    return stmt.order_by(*_order(args.sort))


def _order(sort: str):
    negotiable_last = Service.price_fen.is_(None)
    if sort == "price_asc":
        return negotiable_last, Service.price_fen.asc(), Service.id
    if sort == "price_desc":
        return negotiable_last, Service.price_fen.desc(), Service.id
    return Service.published_at.desc(), Service.id.desc()
