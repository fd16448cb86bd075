"""Read-side queries of the mall: counters, reference data, the service search (engine in search.py)."""
from dataclasses import dataclass, replace
from typing import NamedTuple

from sqlalchemy import Integer, Select, func, literal, select
from sqlalchemy.orm import joinedload, load_only, selectinload

from ..extensions import db
from ..models import Category, Field, Instrument, Order, OrderStatus, Provider, Service, ServiceStatus, ShopStatus
from ..pagination import Page
from .search import NEWEST, PRICE_ASC, PRICE_DESC, RELEVANCE, SearchArgs, search

SORTS = {RELEVANCE: "综合排序", PRICE_ASC: "价格从低到高", PRICE_DESC: "价格从高到低", NEWEST: "最新发布"}


@dataclass
class Counters:
    providers: int
    instruments: int
    services: int
    deals: int = 0  # orders, not catalog: counted apart from the others, which the home page keeps (cache.py)


def catalog_counters() -> Counters:
    open_shop = Provider.status == ShopStatus.OPEN
    return Counters(
        providers=db.session.scalar(select(func.count(Provider.id)).where(open_shop)),
        instruments=db.session.scalar(select(func.count(Instrument.id)).join(Provider).where(open_shop)),
        services=db.session.scalar(select(func.count(Service.id)).join(Provider)
                                   .where(open_shop, Service.status == ServiceStatus.LISTED)),
    )


def deals() -> int:
    """促成服务交易: orders a provider accepted, unless cancelled or closed since."""
    return db.session.scalar(select(func.count(Order.id)).where(Order.accepted_at.is_not(None),
                                                                Order.status.not_in(OrderStatus.INACTIVE)))


def fields() -> list[Field]:
    return db.session.scalars(select(Field).order_by(Field.position)).all()


def category_tree() -> list[Category]:
    return db.session.scalars(select(Category).where(Category.parent_id.is_(None))
                              .options(selectinload(Category.children)).order_by(Category.position)).unique().all()


class Choice(NamedTuple):
    """A field or category as the search form lists it: plain values a worker may keep between requests."""
    id: int
    name: str
    children: tuple = ()


def filter_choices() -> tuple[list[Choice], list[Choice]]:
    """The fields, and the category tree, as plain values: one query for both lists (a search no one made before
    may list them before the cache has them), ordered as fields() and category_tree() order them."""
    rows = db.session.execute(
        select(literal(0).label("kind"), Field.id, Field.name, literal(None, Integer).label("parent_id"),
               Field.position)
        .union_all(select(literal(1), Category.id, Category.name, Category.parent_id, Category.position))
        .order_by("kind", "position", "id")).all()
    children: dict[int, list[Choice]] = {}
    for row in rows:
        if row.kind and row.parent_id is not None:
            children.setdefault(row.parent_id, []).append(Choice(row.id, row.name))
    return ([Choice(row.id, row.name) for row in rows if not row.kind],
            [Choice(row.id, row.name, tuple(children.get(row.id, ()))) for row in rows
             if row.kind and row.parent_id is None])


def _card_options() -> tuple:
    """What a service card shows besides the service itself."""
    return joinedload(Service.provider), joinedload(Service.category), joinedload(Service.display_image)


def listed_services() -> Select:
    return (select(Service).join(Service.provider)
            .where(Service.status == ServiceStatus.LISTED, Provider.status == ShopStatus.OPEN)
            .options(*_card_options()))


@dataclass
class SearchPage(Page):
    more: bool = False  # more hits than `total` ("1,000+"): the count stopped at search.COUNT_BOUND


def search_ids(args: SearchArgs, page: int, per_page: int) -> SearchPage:
    """One page of the ids of the services matching `args`, in the asked order; past the last page, the last."""
    hits = search(args, (page - 1) * per_page, per_page)
    return SearchPage(hits.ids, hits.offset // per_page + 1, per_page, hits.total, hits.more)


def search_services(args: SearchArgs, page: int, per_page: int) -> SearchPage:
    """search_ids() with the services themselves, ready for their cards."""
    ids = search_ids(args, page, per_page)
    rows = services_by_id(ids.items)
    return replace(ids, items=[rows[i] for i in ids.items if i in rows])


def services_by_id(ids: list[int]) -> dict[int, Service]:
    """Services with what their cards show. By primary key alone: callers pass ids of visible services, and a
    status filter here would tempt SQLite's planner into scanning the status index."""
    return {s.id: s for s in db.session.scalars(select(Service).where(Service.id.in_(ids)).options(*_card_options()))}


def card_services_by_id(ids: list[int]) -> dict[int, Service]:
    """services_by_id() with only the columns a service card (macros.html service_card) shows: the card needs no
    description, standards or search tokens, nor the image row (its id is on the service)."""
    return {s.id: s for s in db.session.scalars(
        select(Service).where(Service.id.in_(ids)).options(
            load_only(Service.name, Service.display_image_id, Service.voucher_eligible, Service.price_fen,
                      Service.price_unit, Service.provider_id, Service.category_id),
            joinedload(Service.provider).load_only(Provider.name, Provider.city, Provider.district, Provider.is_pilot),
            joinedload(Service.category).load_only(Category.name)))}


def districts(city: str) -> list[str]:
    """The districts of a city where open shops are, for the district filter."""
    return list(db.session.scalars(select(Provider.district).distinct()
                                   .where(Provider.city == city, Provider.status == ShopStatus.OPEN,
                                          Provider.district != "").order_by(Provider.district)))


def has_district(city: str, district: str) -> bool:
    return db.session.scalar(select(Provider.id).where(Provider.city == city, Provider.district == district,
                                                       Provider.status == ShopStatus.OPEN).limit(1)) is not None
