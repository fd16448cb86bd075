"""drop the unused search vector: PostgreSQL searches `service_search_rows` (0011), not `services.search_vector`

The generated tsvector column of 0002 and its GIN index were no longer read by anything, yet every service insert
and every update of its tokens recomputed both, and the column sat in TOAST at about 1.1 KB a row.
A dropped column keeps its values (and their TOAST) in the rows already written until they are rewritten; the
migration stays one transaction, so a database that held services before it gets the space back with
`VACUUM FULL services` at a quiet moment (about 1.5 s and 60 MB at 35,000 services, under an exclusive lock; README).
SQLite: nothing (it never had them).
The downgrade recreates them as 0002 made them (the column now comes last in `services`).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08 10:00:00
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# As in 0002: the tokens as tsvector lexemes, taken as they are.
SEARCH_VECTOR = "array_to_tsvector(array_remove(string_to_array(replace(search_tokens, '|', ' '), ' '), ''))"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_services_search_vector")
    op.execute("ALTER TABLE services DROP COLUMN IF EXISTS search_vector")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE services ADD COLUMN search_vector tsvector "
               f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED")
    op.execute("CREATE INDEX ix_services_search_vector ON services USING gin (search_vector)")
