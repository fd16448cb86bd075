"""narrow search table on PostgreSQL: the tokens, sort keys and filter columns of each visible service

At 35,000 services every PostgreSQL search read the wide `services` row of each hit (and its provider) to
count, filter and sort; the vector sat in TOAST at 1.1 KB a row. `service_search_rows` holds one short row per
visible service (listed, shop open), as SQLite's FTS5 tables do (0002):

    service_id | tokens (tsvector, GIN) | title (tsvector, GIN) | newest_key | price_key | city | district | voucher
    | qualified | category_id | field_ids

The sort keys are the integers SQLite's rowids are (sort value * 10^9 + id), each with a b-tree, so a sorted page
walks an index and a count stops at a bound (search.COUNT_BOUND). The rows stay about 1.5 KB, as PostgreSQL moves a
value to TOAST only in rows over 2 KB: five rows a page, against the one or two of `services`.
Statement-level triggers with transition tables keep it current: a bulk insert refreshes its rows in one
statement, and an update refreshes only the rows whose indexed values changed.
SQLite: nothing (its FTS5 tables already are this).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 12:00:00
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

SPAN = 10 ** 9
NEGOTIABLE_KEY = 9 * 10 ** 9
TABLE = "service_search_rows"


def _lexemes(text: str) -> str:
    return f"array_to_tsvector(array_remove(string_to_array({text}, ' '), ''))"


REFRESH = f"""
CREATE FUNCTION service_search_refresh(ids integer[]) RETURNS void LANGUAGE sql AS $$
  DELETE FROM {TABLE} WHERE service_id = ANY(ids);
  INSERT INTO {TABLE} (service_id, tokens, title, newest_key, price_key, city, district, voucher, qualified,
                       category_id, field_ids)
  SELECT s.id, {_lexemes("replace(s.search_tokens, '|', ' ')")}, {_lexemes("split_part(s.search_tokens, '|', 1)")},
         COALESCE(extract(epoch FROM date_trunc('second', s.published_at))::bigint, 0) * {SPAN} + s.id,
         CASE WHEN s.price_fen IS NULL THEN {NEGOTIABLE_KEY} ELSE LEAST(s.price_fen, {NEGOTIABLE_KEY - 1}) END
           * {SPAN} + s.id,
         p.city, p.district, s.voucher_eligible, s.has_qualification, s.category_id,
         ARRAY(SELECT sf.field_id FROM service_fields sf WHERE sf.service_id = s.id)
  FROM services s JOIN providers p ON p.id = s.provider_id
  WHERE s.id = ANY(ids) AND s.status = 'listed' AND p.status = 'open';
$$
"""

SERVICE_COLUMNS = ("status", "provider_id", "search_tokens", "published_at", "price_fen", "voucher_eligible",
                   "has_qualification", "category_id")
CHANGED_SERVICES = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in SERVICE_COLUMNS)
CHANGED_PROVIDERS = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in ("status", "city", "district"))

# name: (table, event, transition tables, the ids of the services to refresh)
TRIGGERS = {
    "service_search_services_insert": ("services", "INSERT", "NEW TABLE AS n", "SELECT id FROM n"),
    "service_search_services_update": ("services", "UPDATE", "OLD TABLE AS o NEW TABLE AS n",
                                       f"SELECT n.id FROM n JOIN o ON o.id = n.id WHERE {CHANGED_SERVICES}"),
    "service_search_providers_update": ("providers", "UPDATE", "OLD TABLE AS o NEW TABLE AS n",
                                        "SELECT s.id FROM services s JOIN n ON n.id = s.provider_id "
                                        f"JOIN o ON o.id = n.id WHERE {CHANGED_PROVIDERS}"),
    "service_search_fields_insert": ("service_fields", "INSERT", "NEW TABLE AS n", "SELECT service_id FROM n"),
    "service_search_fields_update": ("service_fields", "UPDATE", "OLD TABLE AS o NEW TABLE AS n",
                                     "SELECT service_id FROM o UNION SELECT service_id FROM n"),
    "service_search_fields_delete": ("service_fields", "DELETE", "OLD TABLE AS o", "SELECT service_id FROM o"),
}


# A bulk load (the demo seeder, migration 0010's setting) refreshes the whole table once at its end instead
# (catalog.search_index.refresh_search_rows): row by row it would rebuild each service twice (its insert, then its
# fields'), three times the seed's time.
NOT_BULK_LOAD = "current_setting('cxq.bulk_load', true) IS DISTINCT FROM 'on'"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""CREATE TABLE {TABLE} (
        service_id integer PRIMARY KEY REFERENCES services (id) ON DELETE CASCADE,
        tokens tsvector NOT NULL, title tsvector NOT NULL, newest_key bigint NOT NULL, price_key bigint NOT NULL,
        city varchar(32) NOT NULL, district varchar(32) NOT NULL, voucher boolean NOT NULL,
        qualified boolean NOT NULL, category_id integer, field_ids integer[] NOT NULL
    )""")
    op.execute(REFRESH)
    for name, (table, event, transitions, ids) in TRIGGERS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                   f"PERFORM service_search_refresh(ARRAY(SELECT DISTINCT id FROM ({ids}) AS changed(id))); "
                   f"RETURN NULL; END $$")
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
                   f"FOR EACH STATEMENT WHEN ({NOT_BULK_LOAD}) EXECUTE FUNCTION {name}()")
    op.execute("SELECT service_search_refresh(ARRAY(SELECT id FROM services))")  # the rows that exist now
    op.execute(f"CREATE INDEX ix_{TABLE}_tokens ON {TABLE} USING gin (tokens)")
    op.execute(f"CREATE INDEX ix_{TABLE}_title ON {TABLE} USING gin (title)")  # relevance: title hits first
    op.execute(f"CREATE INDEX ix_{TABLE}_newest ON {TABLE} (newest_key)")
    op.execute(f"CREATE INDEX ix_{TABLE}_price ON {TABLE} (price_key)")
    op.execute(f"CREATE INDEX ix_{TABLE}_price_desc ON {TABLE} "
               f"((price_key >= {NEGOTIABLE_KEY * SPAN}), price_key DESC)")  # prices high to low, then 面议
    op.execute(f"CREATE INDEX ix_{TABLE}_city ON {TABLE} (city, district)")
    op.execute(f"ANALYZE {TABLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, (table, *_) in TRIGGERS.items():
        op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute(f"DROP FUNCTION {name}()")
    op.execute("DROP FUNCTION service_search_refresh(integer[])")
    op.execute(f"DROP TABLE {TABLE}")
