"""seed_demo: fill an empty catalog with deterministic demo data, written in a few bulk inserts."""
import random
import secrets

from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.orm import Session, aliased
from werkzeug.security import generate_password_hash

from .. import policy
from ..catalog.search_index import refresh_search_rows
from ..models import (
    AccountStatus,
    Category,
    CitySetting,
    Enterprise,
    Field,
    Instrument,
    KexiaoEntry,
    NonEligibleKind,
    Provider,
    Service,
    ShopStatus,
    User,
    Voucher,
    VoucherApplication,
    service_fields,
)
from .accounts import DEMO_PASSWORD, build_accounts
from .catalog import CatalogBuilder, Reference
from .data import CATEGORY_TREE, FIELDS
from .identities import Identities
from .orders import seed_orders
from .providers import Shop, build_shops
from .timeline import BASE_TIME
from .vouchers import build_vouchers

SERVICES_PER_PROVIDER = 27  # the platform in 2025: 34,777 services from 1,288 providers
CHUNK = 5_000
LARGE_UNIT_TYPES = frozenset({"university", "institute", "platform_member"})


def seed_demo(session: Session, services: int = 2000, seed: int = 20250327) -> dict:
    """Seed `services` listings (at least the seed document's) with their providers, instruments and the demo
    accounts, and commit. A catalog that already has services is left alone: {"skipped": True, ...counts}."""
    if session.scalar(select(Service.id).limit(1)) is not None:
        return {"skipped": True, **_counts(session), "logins": []}
    rng = random.Random(seed)
    _skip_row_catalog_tokens(session)
    reference = _ensure_reference_data(session)
    _ensure_city_settings(session)
    identities = Identities(rng, _taken_credit_codes(session))
    accounts = build_accounts(identities, _next_id(session, User), _next_id(session, Enterprise),
                              generate_password_hash(DEMO_PASSWORD))
    shops = build_shops(rng, identities, round(services / SERVICES_PER_PROVIDER), _next_id(session, Provider),
                        accounts.shop_owners, session.scalars(select(Provider.name)).all())
    catalog = CatalogBuilder(rng, reference, _next_id(session, Instrument), _next_id(session, Service))
    catalog.add_seed_listings({shop.name: shop for shop in shops})
    for shop, count in zip(shops, _spread(rng, shops, services - len(catalog.services)), strict=True):
        catalog.add_generated(shop, count)
    users = {user["id"]: user for user in accounts.users}
    approved = [e for e in accounts.enterprises if users[e["user_id"]]["status"] == AccountStatus.ACTIVE]
    applications, vouchers, registry = build_vouchers(approved, users, _next_id(session, VoucherApplication),
                                                      _next_id(session, Voucher), accounts.users[0]["id"])
    for target, rows in ((User, accounts.users), (Enterprise, accounts.enterprises), (Provider, [s.row for s in shops]),
                         (Instrument, catalog.instruments), (Service, catalog.services),
                         (service_fields, catalog.service_fields), (VoucherApplication, applications),
                         (Voucher, vouchers), (KexiaoEntry, registry)):
        _insert_rows(session, target, rows)
    _sync_sequences(session, (User, Enterprise, Provider, Instrument, Service, VoucherApplication, Voucher))
    seed_orders(session, {enterprise["city"]: enterprise["user_id"] for enterprise in approved})
    refresh_search_rows(session)
    new_catalog_token(session)
    session.commit()
    return {"providers": len(shops), "instruments": len(catalog.instruments), "services": len(catalog.services),
            "logins": accounts.logins}


def _counts(session: Session) -> dict:
    return {name: session.scalar(select(func.count()).select_from(model))
            for name, model in (("providers", Provider), ("instruments", Instrument), ("services", Service))}


def _next_id(session: Session, model) -> int:
    return (session.scalar(select(func.max(model.id))) or 0) + 1


def _taken_credit_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Provider.credit_code))) | set(session.scalars(select(Enterprise.credit_code)))


def _spread(rng: random.Random, shops: list[Shop], total: int) -> list[int]:
    """Services per shop: one each while they last, the rest skewed as on the real platform (a few large
    university platforms, many small labs; shops under review have few)."""
    counts = [1 if index < total else 0 for index in range(len(shops))]
    weights = [_size_weight(rng, shop) for shop in shops]
    for index in rng.choices(range(len(shops)), weights=weights, k=max(total - len(shops), 0)):
        counts[index] += 1
    return counts


def _size_weight(rng: random.Random, shop: Shop) -> float:
    weight = min(rng.paretovariate(1.3), 40.0)
    if shop.unit_type in LARGE_UNIT_TYPES:
        weight *= 3
    return weight * 0.15 if shop.status == ShopStatus.PENDING else weight


# ---------------------------------------------------------------- reference data

def _ensure_reference_data(session: Session) -> Reference:
    """Fields, categories and non-eligible kinds, inserted only into empty tables (a reviewer may have edited them)."""
    if not session.scalar(select(func.count()).select_from(Field)):
        session.execute(insert(Field), [{"name": name, "position": index} for index, name in enumerate(FIELDS)])
    if not session.scalar(select(func.count()).select_from(Category)):
        _insert_categories(session)
    if not session.scalar(select(func.count()).select_from(NonEligibleKind)):
        session.execute(insert(NonEligibleKind), [{"name": name, "keywords": keywords, "position": index}
                                                  for index, (name, keywords) in enumerate(policy.NON_ELIGIBLE_KINDS)])
    parent = aliased(Category)
    rows = session.execute(select(parent.name, Category.name, Category.id,
                                  Category.voucher_excluded | parent.voucher_excluded)
                           .join(parent, Category.parent_id == parent.id)).all()
    return Reference(
        field_ids=dict(session.execute(select(Field.name, Field.id)).all()),
        category_ids={(parent_name, name): category_id for parent_name, name, category_id, _ in rows},
        excluded_category_ids=frozenset(category_id for _, _, category_id, excluded in rows if excluded),
    )


def _insert_categories(session: Session) -> None:
    session.execute(insert(Category), [
        {"name": group.name, "position": position, "voucher_excluded": group.voucher_excluded}
        for position, group in enumerate(CATEGORY_TREE)
    ])
    parent_ids = dict(session.execute(select(Category.name, Category.id).where(Category.parent_id.is_(None))).all())
    session.execute(insert(Category), [
        {"name": child, "parent_id": parent_ids[group.name], "position": position,
         "voucher_excluded": group.voucher_excluded}
        for group in CATEGORY_TREE for position, child in enumerate(group.children)
    ])


def _ensure_city_settings(session: Session) -> None:
    configured = set(session.scalars(select(CitySetting.city)))
    rows = [_city_setting(city) for city in policy.CITIES if city not in configured]
    if rows:
        session.execute(insert(CitySetting), rows)


def _city_setting(city: str) -> dict:
    region = policy.region_of(city)
    ratio = policy.LOCAL_RATIO[region]
    return {"city": city, "region_override": None, "local_ratio_num": ratio.numerator,
            "local_ratio_den": ratio.denominator, "local_cap_fen": policy.LOCAL_CAP_FEN[region],
            "contact": f"{city}市科学技术局", "created_at": BASE_TIME, "updated_at": BASE_TIME}


# ---------------------------------------------------------------- writing

def _skip_row_catalog_tokens(session: Session) -> None:
    """PostgreSQL: this transaction's rows leave the catalog token alone (migration 0010); otherwise every row
    queues a trigger that rewrites the same token row at COMMIT, most of the seed's time, and the search rows
    (migration 0011) are rebuilt once at the end. The caller must call refresh_search_rows and new_catalog_token
    before it commits. SQLite's row triggers are cheap and stay on."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('cxq.bulk_load', 'on', true)"))  # until this transaction ends


def new_catalog_token(session: Session | Connection) -> None:
    """A fresh catalog token in this transaction, as the triggers of migration 0006 set it: cached pages end."""
    session.execute(text("INSERT INTO cache_generations (name, token) VALUES ('catalog', :token) "
                         "ON CONFLICT (name) DO UPDATE SET token = excluded.token"), {"token": secrets.randbits(62)})


def _insert_rows(session: Session, target, rows: list[dict]) -> None:
    table = getattr(target, "__table__", target)
    if rows and session.get_bind().dialect.name == "postgresql" and _has_every_python_default(table, rows[0]):
        _copy_rows(session, table, rows)
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(target), rows[start:start + CHUNK])


def _has_every_python_default(table, row: dict) -> bool:
    """COPY bypasses SQLAlchemy, so a row may leave out only the columns whose default the database sets."""
    return all(column.name in row for column in table.columns if column.default is not None)


def _copy_rows(session: Session, table, rows: list[dict]) -> None:
    """PostgreSQL COPY on the session's own connection and transaction: half the time of multi-row INSERTs."""
    names = list(rows[0])
    with session.connection().connection.driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[name] for name in names])


def _sync_sequences(session: Session, models) -> None:
    """PostgreSQL sequences do not see explicit primary keys; move them past the rows written here."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in models:
        table = model.__tablename__
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"))
