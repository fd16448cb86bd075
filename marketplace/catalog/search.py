"""The mall's search: one `search()` over the services anyone may buy, whichever database holds them.

SQLite (migration 0002): two FTS5 tables index exactly the visible services (listed, shop open), fed by
triggers from the view `service_search_source`. Each row holds the title and body tokens and a `facets` column
with one token per filter value (city, district, voucher mark, qualification, category, fields), so counting
and filtering never leave the index. The rowid of each table *is* a sort key (sort value * SPAN + service id):
`service_search_newest` is ordered by publish time, `service_search_price` by price with 面议 above every
price, so a page is read straight from the index in order, whatever the number of hits.

PostgreSQL (migration 0011): the narrow table `service_search_rows`, one short row per visible service with the
tokens as a tsvector (GIN), the title's tokens, the filter columns and the same two integer sort keys (b-trees), so
a page never reads the wide `services` row. Counts stop at COUNT_BOUND (the page says "1,000+"); relevance is two
runs as on SQLite (title hits, then the rest), each walked in newest-key order.
Both databases return the same hits in the same order; a page past the last one answers the last one, found with
the counts at hand rather than by searching again.

A query without any indexable token (punctuation only, say) falls back to a substring scan; the app setting
SEARCH_SUBSTRING_SCAN forces that scan everywhere (the benchmark's baseline). What keeps the index current (the
tokens on every flush, bulk loads, Alembic's view of it) is search_index.py."""
from dataclasses import dataclass, field as dataclass_field

from flask import current_app
from sqlalchemy import ColumnElement, Select, exists, func, or_, select, text

from ..extensions import db
from ..models import Category, Instrument, Provider, Service, ServiceStatus, ShopStatus, service_fields
from .search_index import NEWEST_INDEX, PRICE_INDEX, SEARCH_ROWS
from .search_tokens import Term, query_terms

RELEVANCE, NEWEST, PRICE_ASC, PRICE_DESC = "relevance", "newest", "price_asc", "price_desc"

SPAN = 10 ** 9  # sort key = value * SPAN + service id, so service ids stay below a billion
NEGOTIABLE_KEY = 9 * 10 ** 9  # the price slot of 面议: after every price (real prices are capped just below)
PUBLISH_SECOND = "COALESCE(CAST(strftime('%s', published_at) AS INTEGER), 0)"  # as in the view's newest_key
SORT_DIRECTLY = 5000  # hits in a price range sorted by publish time directly up to this many
EVERYTHING = 'facets : "all"'  # every indexed service carries the facet token "all"
MAX_KEY = 2 ** 63 - 1
COUNT_BOUND = 1000  # PostgreSQL counts hits up to here: "1,000+" and 50 pages say enough (SEARCH_COUNT_BOUND)


@dataclass
class SearchArgs:
    q: str = ""
    field: int | None = None
    category: int | None = None  # a top-level category matches its children too
    city: str = ""
    district: str = ""
    price_min_fen: int | None = None  # a price range leaves out 面议
    price_max_fen: int | None = None
    voucher: bool = False
    qualified: bool = False
    sort: str = RELEVANCE

    @property
    def has_price_range(self) -> bool:
        return self.price_min_fen is not None or self.price_max_fen is not None

    def params(self) -> dict:
        """The non-default values as URL query parameters (for the pager and shareable links)."""
        values = {"q": self.q, "field": self.field, "category": self.category, "city": self.city,
                  "district": self.district, "price_min": _yuan_text(self.price_min_fen),
                  "price_max": _yuan_text(self.price_max_fen), "voucher": "1" if self.voucher else None,
                  "qualified": "1" if self.qualified else None,
                  "sort": None if self.sort == RELEVANCE else self.sort}
        return {k: v for k, v in values.items() if v}


def _yuan_text(fen: int | None) -> str | None:
    if fen is None:
        return None
    yuan, cents = divmod(fen, 100)
    return f"{yuan}.{cents:02d}".rstrip("0").rstrip(".")


@dataclass
class Hits:
    total: int
    ids: list[int] = dataclass_field(default_factory=list)  # one page of service ids, in order
    offset: int = 0  # where the page starts: the asked offset, or the last page's start when that is past the end
    more: bool = False  # more hits than `total` (PostgreSQL stops counting at COUNT_BOUND)


def search(args: SearchArgs, offset: int, limit: int) -> Hits:
    """One page of hits from `offset`; an offset past the last hit gives the last page."""
    terms = query_terms(args.q)
    scan = current_app.config.get("SEARCH_SUBSTRING_SCAN", False) or bool(args.q and not terms)
    if scan:
        return _scan_search(args, offset, limit)
    if db.is_sqlite:
        return _FtsSearch(args, terms, _category_ids(args.category)).page(offset, limit)
    return _RowSearch(args, terms).page(offset, limit)


def _within(offset: int, limit: int, total: int) -> int:
    """`offset`, or the start of the last page when it is past the last hit."""
    return offset if offset < total else max(total - 1, 0) // limit * limit


def _category_ids(category_id: int | None) -> list[int]:
    if category_id is None:
        return []
    return list(db.session.scalars(select(Category.id).where(
        or_(Category.id == category_id, Category.parent_id == category_id))))


# ---------------------------------------------------------------- SQLite: FTS5, facets, rowid order

@dataclass
class _Segment:
    """A run of hits in the rowid order of one index, optionally within a range of price keys. A page may span
    two runs (relevance: title hits first; price high to low: 面议 after the prices)."""
    table: str
    match: str
    descending: bool
    price_keys: tuple[int, int] | None = None

    def count(self) -> int:
        table = PRICE_INDEX if self.price_keys else self.table  # a price range is a rowid range there
        if self.match == EVERYTHING:  # FTS5 keeps one %_docsize row per indexed row: counting those is quicker
            low, high = self.price_keys or (0, MAX_KEY)
            return db.session.scalar(text(f"SELECT count(*) FROM {table}_docsize WHERE id BETWEEN :low AND :high"),
                                     {"low": low, "high": high})
        where, params = self._where(table)
        return db.session.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)

    def ids(self, offset: int, limit: int, count: int) -> list[int]:
        if self.table == PRICE_INDEX or not self.price_keys:
            sql, params = self._in_index_order()
        elif count <= SORT_DIRECTLY:
            sql, params = self._sorted_by_publish_time()
        else:
            sql, params = self._walked_within_prices()
        return list(db.session.scalars(text(f"{sql} LIMIT :limit OFFSET :offset"),
                                       {**params, "limit": limit, "offset": offset}))

    def _in_index_order(self) -> tuple[str, dict]:
        where, params = self._where(self.table)
        order = "DESC" if self.descending else "ASC"
        return f"SELECT rowid % {SPAN} FROM {self.table} WHERE {where} ORDER BY rowid {order}", params

    def _sorted_by_publish_time(self) -> tuple[str, dict]:
        """Few hits in the price range: take them from the price index and sort them as the newest index would."""
        where, params = self._where(PRICE_INDEX)
        return (f"SELECT id FROM services WHERE id IN (SELECT rowid % {SPAN} FROM {PRICE_INDEX} WHERE {where}) "
                f"ORDER BY {PUBLISH_SECOND} DESC, id DESC"), params

    def _walked_within_prices(self) -> tuple[str, dict]:
        """Many hits in the price range: walk the newest index, checking each price, until the page is full."""
        low, high = (key // SPAN for key in self.price_keys)
        return (f"SELECT f.rowid % {SPAN} FROM {NEWEST_INDEX} f JOIN services ON services.id = f.rowid % {SPAN} "
                f"WHERE f.{NEWEST_INDEX} MATCH :match "
                f"AND min(services.price_fen, {NEGOTIABLE_KEY - 1}) BETWEEN :low AND :high ORDER BY f.rowid DESC"), \
            {"match": self.match, "low": low, "high": high}

    def _where(self, table: str) -> tuple[str, dict]:
        if table == PRICE_INDEX and self.price_keys:
            return (f"{table} MATCH :match AND rowid BETWEEN :low AND :high",
                    {"match": self.match, "low": self.price_keys[0], "high": self.price_keys[1]})
        return f"{table} MATCH :match", {"match": self.match}


class _FtsSearch:
    def __init__(self, args: SearchArgs, terms: list[Term], category_ids: list[int]):
        self.args = args
        self.text = " AND ".join(f'"{t.text}"' + ("*" if t.prefix else "") for t in terms)
        self.facets = _Facets.of(args, category_ids)
        self.price_keys = _price_keys(args)

    def page(self, offset: int, limit: int) -> Hits:
        segments = [(segment, segment.count()) for segment in self.segments()]
        hits = Hits(sum(count for _, count in segments))
        hits.offset = offset = _within(offset, limit, hits.total)
        for segment, count in segments:
            wanted = limit - len(hits.ids)
            if wanted > 0 and offset < count:
                hits.ids += segment.ids(offset, wanted, count)
            offset = max(offset - count, 0)
        return hits

    def segments(self) -> list[_Segment]:
        sort, match, prices = self.args.sort, self.matching(), self.price_keys
        if sort == PRICE_ASC:
            return [_Segment(PRICE_INDEX, match, False, prices)]
        if sort == PRICE_DESC:
            if prices:
                return [_Segment(PRICE_INDEX, match, True, prices)]
            return [_Segment(PRICE_INDEX, match, True, (0, NEGOTIABLE_KEY * SPAN - 1)),
                    _Segment(PRICE_INDEX, match, True, (NEGOTIABLE_KEY * SPAN, MAX_KEY))]
        if sort == RELEVANCE and self.text:
            in_title = f"title : ({self.text})"
            return [_Segment(NEWEST_INDEX, self.matching(in_title), True, prices),
                    _Segment(NEWEST_INDEX, f"({match}) NOT ({in_title})", True, prices)]
        return [_Segment(NEWEST_INDEX, match, True, prices)]

    def matching(self, text_expression: str | None = None) -> str:
        text_expression = text_expression or (f"({self.text})" if self.text else None)
        required = " AND ".join(part for part in (text_expression, self.facets.required) if part)
        required = required or EVERYTHING
        return f"({required}) NOT {self.facets.excluded}" if self.facets.excluded else required


@dataclass
class _Facets:
    """Facet tokens as the view `service_search_source` writes them (names as hex of their UTF-8 bytes).
    The voucher mark and qualification filter by excluding the rarer "nv"/"nq" tokens: faster than
    requiring tokens that nearly every service carries."""
    required: str | None
    excluded: str | None

    @classmethod
    def of(cls, args: SearchArgs, category_ids: list[int]) -> "_Facets":
        required, excluded = [], []
        if args.city:
            required.append(f'"c{args.city.encode().hex()}"')
        if args.district:
            required.append(f'"d{args.district.encode().hex()}"')
        if args.field is not None:
            required.append(f'"f{args.field}"')
        if args.category is not None:
            required.append("(" + " OR ".join(f'"k{c}"' for c in category_ids or [args.category]) + ")")
        if args.voucher:
            excluded.append('"nv"')
        if args.qualified:
            excluded.append('"nq"')
        return cls(f"facets : ({' AND '.join(required)})" if required else None,
                   f"facets : ({' OR '.join(excluded)})" if excluded else None)


def _price_keys(args: SearchArgs) -> tuple[int, int] | None:
    if not args.has_price_range:
        return None
    low = args.price_min_fen or 0
    high = min(args.price_max_fen if args.price_max_fen is not None else NEGOTIABLE_KEY - 1, NEGOTIABLE_KEY - 1)
    return low * SPAN, high * SPAN + SPAN - 1


# ---------------------------------------------------------------- PostgreSQL: the narrow table

class _RowSearch:
    """Hits from `service_search_rows`: one condition on its columns, read in the order of a sort key's index."""

    def __init__(self, args: SearchArgs, terms: list[Term]):
        self.args, self.terms = args, terms
        self.params: dict = {}
        self.filters = self._filters()
        self.condition = " AND ".join(self._matching() + self.filters) or "TRUE"

    def page(self, offset: int, limit: int) -> Hits:
        bound = current_app.config.get("SEARCH_COUNT_BOUND", COUNT_BOUND)
        counted = self._count(self.condition, bound + 1)
        hits = Hits(min(counted, bound), more=counted > bound)
        hits.offset = offset = _within(offset, limit, hits.total)
        runs = self._runs()
        for number, (condition, order) in enumerate(runs, 1):
            found = self._ids(condition, order, offset, limit - len(hits.ids))
            hits.ids += found
            if len(hits.ids) == limit or number == len(runs):
                break
            run_hits = offset + len(found) if found else self._count(condition, offset)  # no more than offset
            offset = max(offset - run_hits, 0)
        return hits

    def _runs(self) -> list[tuple[str, str]]:
        sort = self.args.sort
        if sort == PRICE_ASC:
            return [(self.condition, "price_key")]
        if sort == PRICE_DESC:  # as the index ix_service_search_rows_price_desc: prices high to low, then 面议
            return [(self.condition, f"(price_key >= {NEGOTIABLE_KEY * SPAN}), price_key DESC")]
        if sort == RELEVANCE and self.terms:
            in_title = "title @@ CAST(:query AS tsquery)"  # the title's tokens are among the tokens
            return [(" AND ".join([in_title, *self.filters]), "newest_key DESC"),
                    (f"{self.condition} AND NOT {in_title}", "newest_key DESC")]
        return [(self.condition, "newest_key DESC")]

    def _matching(self) -> list[str]:
        if not self.terms:
            return []
        self.params["query"] = " & ".join(f"'{t.text}'" + (":*" if t.prefix else "") for t in self.terms)
        return ["tokens @@ CAST(:query AS tsquery)"]

    def _filters(self) -> list[str]:
        args, where = self.args, []
        for column, value in (("city", args.city), ("district", args.district)):
            if value:
                where.append(f"{column} = :{column}")
                self.params[column] = value
        where += [name for name, wanted in (("voucher", args.voucher), ("qualified", args.qualified)) if wanted]
        if args.field is not None:
            where.append(":field = ANY (field_ids)")
            self.params["field"] = args.field
        if args.category is not None:
            where.append("category_id = ANY (:categories)")
            self.params["categories"] = _category_ids(args.category)
        price_keys = _price_keys(args)
        if price_keys:
            where.append("price_key BETWEEN :low AND :high")
            self.params["low"], self.params["high"] = price_keys
        return where

    def _count(self, condition: str, bound: int) -> int:
        return db.session.scalar(text(f"SELECT count(*) FROM (SELECT 1 FROM {SEARCH_ROWS} WHERE {condition} "
                                      "LIMIT :bound) AS hits"), {**self.params, "bound": bound})

    def _ids(self, condition: str, order: str, offset: int, limit: int) -> list[int]:
        return list(db.session.scalars(text(f"SELECT service_id FROM {SEARCH_ROWS} WHERE {condition} "
                                            f"ORDER BY {order} LIMIT :limit OFFSET :offset"),
                                       {**self.params, "limit": limit, "offset": offset}))


# ---------------------------------------------------------------- the substring scan

def _scan_search(args: SearchArgs, offset: int, limit: int) -> Hits:
    stmt = _filtered(args)
    if args.q:
        stmt = stmt.where(substring_match(args.q))
    total = db.session.scalar(stmt.with_only_columns(func.count())) or 0
    offset = _within(offset, limit, total)
    ids = db.session.scalars(stmt.order_by(*_scan_order(args.sort)).limit(limit).offset(offset))
    return Hits(total, list(ids), offset)


def _filtered(args: SearchArgs) -> Select:
    stmt = (select(Service.id).join(Service.provider)
            .where(Service.status == ServiceStatus.LISTED, Provider.status == ShopStatus.OPEN))
    if args.city:
        stmt = stmt.where(Provider.city == args.city)
    if args.district:
        stmt = stmt.where(Provider.district == args.district)
    if args.voucher:
        stmt = stmt.where(Service.voucher_eligible.is_(True))
    if args.qualified:
        stmt = stmt.where(Service.has_qualification.is_(True))
    if args.field is not None:
        stmt = stmt.where(exists().where(service_fields.c.service_id == Service.id,
                                         service_fields.c.field_id == args.field))
    if args.category is not None:
        stmt = stmt.where(Service.category_id.in_(_category_ids(args.category)))
    if args.price_min_fen is not None:
        stmt = stmt.where(Service.price_fen >= args.price_min_fen)
    if args.price_max_fen is not None:
        stmt = stmt.where(Service.price_fen <= args.price_max_fen)
    return stmt


def _scan_order(sort: str) -> list:
    if sort == PRICE_ASC:
        return [Service.price_fen.is_(None), Service.price_fen.asc(), Service.id.asc()]
    if sort == PRICE_DESC:
        return [Service.price_fen.is_(None), Service.price_fen.desc(), Service.id.desc()]
    return [_published_second().desc().nulls_last(), Service.id.desc()]


def _published_second():
    """Publish time to the second, as the SQLite index orders it (and as pages show it)."""
    if db.is_sqlite:
        return func.strftime("%s", Service.published_at)
    return func.date_trunc("second", Service.published_at)


def substring_match(q: str) -> ColumnElement[bool]:
    """A case-insensitive substring of what is indexed: service name, description and tags, instrument name,
    model and manufacturer, provider name (needs the provider joined; SQLite's LIKE ignores ASCII case)."""
    def contains(column):
        return column.contains(q, autoescape=True) if db.is_sqlite else column.icontains(q, autoescape=True)

    instruments = select(Instrument.id).where(or_(contains(Instrument.name), contains(Instrument.model),
                                                  contains(Instrument.manufacturer)))
    return or_(contains(Service.name), contains(Service.description), contains(Service.tags),
               contains(Provider.name), Service.instrument_id.in_(instruments))
