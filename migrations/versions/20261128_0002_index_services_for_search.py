"""index services for search: FTS5 tables on SQLite, a tsvector column with a GIN index on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 18:10:00

The stored tokens get their "title | body" layout, then:

SQLite: the view `service_search_source` gives, for every visible service (listed, shop open), its title and
body tokens and its facet tokens (the filters), under two sort keys; two external-content FTS5 tables index it
with those keys as rowids (see marketplace/catalog/search.py). Triggers on services, providers and
service_fields take a row out of the index BEFORE it changes (the view still shows what was indexed) and put
it back AFTER. A later migration that rebuilds one of those tables (batch mode) must drop and recreate these
objects around it.

PostgreSQL: `services.search_vector`, generated from the tokens (title weighted A), with a GIN index. It is
built from the token lists directly (no text-search parser), so it does not depend on the database locale.
"""
import sqlalchemy as sa
from alembic import op

from marketplace.catalog.search_tokens import service_index_text

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

SPAN = 10 ** 9
NEGOTIABLE_KEY = 9 * 10 ** 9
INDEXES = {"service_search_newest": "newest_key", "service_search_price": "price_key"}

SOURCE_VIEW = f"""
CREATE VIEW service_search_source AS
SELECT s.id AS id,
       COALESCE(CAST(strftime('%s', s.published_at) AS INTEGER), 0) * {SPAN} + s.id AS newest_key,
       COALESCE(MIN(s.price_fen, {NEGOTIABLE_KEY - 1}), {NEGOTIABLE_KEY}) * {SPAN} + s.id AS price_key,
       CASE WHEN instr(s.search_tokens, '|') > 0
            THEN substr(s.search_tokens, 1, instr(s.search_tokens, '|') - 1) ELSE '' END AS title,
       substr(s.search_tokens, instr(s.search_tokens, '|') + 1) AS body,
       'all c' || hex(p.city)
         || CASE WHEN p.district <> '' THEN ' d' || hex(p.district) ELSE '' END
         || CASE WHEN s.voucher_eligible THEN '' ELSE ' nv' END
         || CASE WHEN s.has_qualification THEN '' ELSE ' nq' END
         || COALESCE(' k' || s.category_id, '')
         || COALESCE((SELECT group_concat(' f' || sf.field_id, '') FROM service_fields sf
                      WHERE sf.service_id = s.id), '') AS facets
FROM services s JOIN providers p ON p.id = s.provider_id
WHERE s.status = 'listed' AND p.status = 'open'
"""

SERVICE_COLUMNS = "status, provider_id, search_tokens, published_at, price_fen, voucher_eligible, " \
                  "has_qualification, category_id"
PROVIDER_COLUMNS = "status, city, district"


def _unindex(where: str) -> str:
    return " ".join(f"INSERT INTO {table}({table}, rowid, title, body, facets) SELECT 'delete', {key}, title, body, "
                    f"facets FROM service_search_source WHERE {where};" for table, key in INDEXES.items())


def _index(where: str) -> str:
    return " ".join(f"INSERT INTO {table}(rowid, title, body, facets) SELECT {key}, title, body, facets "
                    f"FROM service_search_source WHERE {where};" for table, key in INDEXES.items())


TRIGGERS = {
    "service_search_service_insert": f"AFTER INSERT ON services BEGIN {_index('id = new.id')} END",
    "service_search_service_before_update": f"BEFORE UPDATE OF {SERVICE_COLUMNS} ON services "
                                            f"BEGIN {_unindex('id = old.id')} END",
    "service_search_service_update": f"AFTER UPDATE OF {SERVICE_COLUMNS} ON services BEGIN {_index('id = new.id')} END",
    "service_search_service_delete": f"BEFORE DELETE ON services BEGIN {_unindex('id = old.id')} END",
    "service_search_provider_before_update":
        f"BEFORE UPDATE OF {PROVIDER_COLUMNS} ON providers "
        f"BEGIN {_unindex('id IN (SELECT id FROM services WHERE provider_id = old.id)')} END",
    "service_search_provider_update":
        f"AFTER UPDATE OF {PROVIDER_COLUMNS} ON providers "
        f"BEGIN {_index('id IN (SELECT id FROM services WHERE provider_id = new.id)')} END",
    "service_search_field_before_insert": f"BEFORE INSERT ON service_fields "
                                          f"BEGIN {_unindex('id = new.service_id')} END",
    "service_search_field_insert": f"AFTER INSERT ON service_fields BEGIN {_index('id = new.service_id')} END",
    "service_search_field_before_update": f"BEFORE UPDATE ON service_fields "
                                          f"BEGIN {_unindex('id IN (old.service_id, new.service_id)')} END",
    "service_search_field_update": f"AFTER UPDATE ON service_fields "
                                   f"BEGIN {_index('id IN (old.service_id, new.service_id)')} END",
    "service_search_field_before_delete": f"BEFORE DELETE ON service_fields "
                                          f"BEGIN {_unindex('id = old.service_id')} END",
    "service_search_field_delete": f"AFTER DELETE ON service_fields BEGIN {_index('id = old.service_id')} END",
}


# The tokens as tsvector lexemes, taken as they are: the text-search parser would drop CJK under the C locale.
SEARCH_VECTOR = "array_to_tsvector(array_remove(string_to_array(replace(search_tokens, '|', ' '), ' '), ''))"


def upgrade() -> None:
    _retokenize_services()
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE services ADD COLUMN search_vector tsvector "
                   f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED")
        op.execute("CREATE INDEX ix_services_search_vector ON services USING gin (search_vector)")
        return
    op.execute(SOURCE_VIEW)
    for table, key in INDEXES.items():
        op.execute(f"CREATE VIRTUAL TABLE {table} USING fts5(title, body, facets, content='service_search_source', "
                   f"content_rowid='{key}', tokenize='ascii', detail='column')")
        op.execute(f"INSERT INTO {table}({table}) VALUES ('rebuild')")
        op.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_services_search_vector")
        op.execute("ALTER TABLE services DROP COLUMN search_vector")
        return
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    for table in INDEXES:
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP VIEW service_search_source")


def _retokenize_services(batch: int = 5000) -> None:
    """Existing rows get the new token layout (before any trigger exists, so nothing is indexed twice)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT s.id, s.name, s.description, s.tags, i.name, i.model, i.manufacturer, p.name FROM services s "
        "JOIN providers p ON p.id = s.provider_id LEFT JOIN instruments i ON i.id = s.instrument_id")).all()
    changes = [{"id": row[0], "tokens": service_index_text(*(value or "" for value in row[1:]))} for row in rows]
    for start in range(0, len(changes), batch):
        bind.execute(sa.text("UPDATE services SET search_tokens = :tokens WHERE id = :id"),
                     changes[start:start + batch])
