"""Keeping the search index current: every flush refreshes the tokens of new and edited services and of those
whose provider or instrument was renamed; bulk loads rebuild the index once; Alembic leaves the index alone."""
from contextlib import contextmanager

from sqlalchemy import bindparam, event, inspect as sa_inspect, select, text, update
from sqlalchemy.orm import Session, object_session

from ..extensions import db
from ..models import Instrument, Provider, Service
from .search_tokens import service_index_text

NEWEST_INDEX, PRICE_INDEX = "service_search_newest", "service_search_price"  # SQLite: the FTS5 tables
SEARCH_ROWS = "service_search_rows"  # PostgreSQL: the narrow table the search reads, kept by triggers (0011)

# What a service's tokens are made of, and an instrument's part of them.
SERVICE_TEXT = ("name", "description", "tags", "instrument_id", "instrument", "provider_id", "provider")
INSTRUMENT_TEXT = ("name", "model", "manufacturer")


def refresh_search_tokens(service: Service) -> None:
    """Set `service.search_tokens` from the service, its instrument and provider; the caller flushes.
    (Every ORM flush does this for new and edited services already.)"""
    session = object_session(service) or db.session
    instrument = _current(session, service, "instrument", Instrument, "instrument_id")
    provider = _current(session, service, "provider", Provider, "provider_id")
    tokens = service_index_text(service.name or "", service.description or "", service.tags or "",
                                instrument.name if instrument else "", instrument.model if instrument else "",
                                instrument.manufacturer if instrument else "", provider.name if provider else "")
    if service.search_tokens != tokens:
        service.search_tokens = tokens


def _current(session: Session, service: Service, relationship: str, model, foreign_key: str):
    """The related row as it will be after this flush: a relationship just set wins over its stale key."""
    key = getattr(service, foreign_key)
    if key is None or sa_inspect(service).attrs[relationship].history.has_changes():
        return getattr(service, relationship)
    return session.get(model, key)


def reindex_provider(provider_id: int) -> int:
    """Recompute the tokens of a provider's services after its name changed; returns how many."""
    return _reindex(db.session, Service.provider_id == provider_id)


def reindex_instrument(instrument_id: int) -> int:
    """Recompute the tokens of the services that name an instrument after its name/model/maker changed."""
    return _reindex(db.session, Service.instrument_id == instrument_id)


def _reindex(session: Session, condition) -> int:
    rows = session.execute(
        select(Service.id, Service.name, Service.description, Service.tags, Instrument.name, Instrument.model,
               Instrument.manufacturer, Provider.name)
        .join(Provider, Provider.id == Service.provider_id)
        .outerjoin(Instrument, Instrument.id == Service.instrument_id)
        .where(condition)).all()
    changes = [{"service_id": row[0], "tokens": service_index_text(*(value or "" for value in row[1:]))}
               for row in rows]
    if changes:
        table = Service.__table__
        session.execute(update(table).where(table.c.id == bindparam("service_id"))
                        .values(search_tokens=bindparam("tokens")), changes)
    return len(changes)


def _changed(obj, attributes) -> bool:
    state = sa_inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


@event.listens_for(Session, "before_flush")
def _refresh_tokens_before_flush(session: Session, _context, _instances) -> None:
    for obj in session.new:
        if isinstance(obj, Service):
            refresh_search_tokens(obj)
    for obj in session.dirty:
        if isinstance(obj, Service) and _changed(obj, SERVICE_TEXT):
            refresh_search_tokens(obj)
    session.info["search_renamed"] = (
        [Service.provider_id == p.id for p in session.dirty if isinstance(p, Provider) and _changed(p, ("name",))]
        + [Service.instrument_id == i.id for i in session.dirty
           if isinstance(i, Instrument) and _changed(i, INSTRUMENT_TEXT)])


@event.listens_for(Session, "after_flush")
def _reindex_renamed_after_flush(session: Session, _context) -> None:
    for condition in session.info.pop("search_renamed", []):
        _reindex(session, condition)


# ---------------------------------------------------------------- schema: bulk loads and Alembic

@contextmanager
def bulk_indexing(session: Session):
    """Load many services at once (the demo seeder, the benchmark): on SQLite the sync triggers are dropped
    while loading and the index is rebuilt once afterwards, several times faster than row by row; PostgreSQL
    gets fresh planner statistics."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        session.execute(text(f"ANALYZE services, providers, service_fields, {SEARCH_ROWS}"))  # plans for the new data
        session.commit()
        return
    triggers = session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                    "AND name LIKE 'service_search%'")).all()
    for name, _ in triggers:
        session.execute(text(f"DROP TRIGGER {name}"))
    session.commit()
    try:
        yield
    finally:
        session.rollback()
        for table in (NEWEST_INDEX, PRICE_INDEX):
            session.execute(text(f"INSERT INTO {table}({table}) VALUES ('rebuild')"))
            session.execute(text(f"INSERT INTO {table}({table}) VALUES ('optimize')"))  # one b-tree: faster reads
        for _, sql in triggers:
            session.execute(text(sql))
        session.commit()


def refresh_search_rows(session: Session) -> None:
    """PostgreSQL, at the end of a bulk load (whose rows skip the triggers of migration 0011): every visible
    service's search row rebuilt at once."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT service_search_refresh(ARRAY(SELECT id FROM services))"))


def include_name(name: str | None, type_: str, _parents: dict) -> bool:
    """Alembic: the search index is not part of the models (FTS5 tables and their shadow tables on SQLite,
    the narrow table `service_search_rows` on PostgreSQL)."""
    return type_ != "table" or not (name or "").startswith("service_search_")
