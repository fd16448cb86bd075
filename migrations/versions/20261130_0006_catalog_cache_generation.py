"""catalog cache generation: a token the database changes whenever the public catalog changes

Workers keep rendered catalog pages (marketplace/catalog/cache.py) under the current token of the row
`cache_generations.name = 'catalog'`. Triggers on every table the search and home pages show (services,
providers, instruments, categories, fields, service_fields) set a fresh random token in the same transaction
as the change, so no write path can forget to invalidate and a reader never sees a new token with old data.
A random token rather than a counter: a database restored from a backup or emptied by a test never brings an
old token back with other data.

SQLite: row triggers (one writer at a time). PostgreSQL: deferred constraint triggers, so the token row is
locked only at commit, after every other row the transaction touches (no lock-order deadlocks).
A later migration that rebuilds one of these tables in batch mode must recreate its triggers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

WATCHED = ("services", "providers", "instruments", "categories", "fields", "service_fields")
EVENTS = ("insert", "update", "delete")
SQLITE_NEW_TOKEN = ("INSERT INTO cache_generations (name, token) VALUES ('catalog', random()) "
                    "ON CONFLICT (name) DO UPDATE SET token = excluded.token")
PG_FUNCTION = """
CREATE FUNCTION new_catalog_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO cache_generations (name, token) VALUES ('catalog', floor(random() * 9e18)::bigint)
    ON CONFLICT (name) DO UPDATE SET token = excluded.token;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table('cache_generations',
    sa.Column('name', sa.String(length=20), nullable=False),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_cache_generations'))
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in WATCHED:
            op.execute(f"CREATE CONSTRAINT TRIGGER catalog_generation_{table} AFTER INSERT OR UPDATE OR DELETE "
                       f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                       f"EXECUTE FUNCTION new_catalog_generation()")
        op.execute("INSERT INTO cache_generations (name, token) VALUES ('catalog', floor(random() * 9e18)::bigint)")
        return
    for table in WATCHED:
        for event in EVENTS:
            op.execute(f"CREATE TRIGGER catalog_generation_{table}_{event} AFTER {event.upper()} ON {table} "
                       f"BEGIN {SQLITE_NEW_TOKEN}; END")
    op.execute("INSERT INTO cache_generations (name, token) VALUES ('catalog', random())")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER catalog_generation_{table} ON {table}")
        op.execute("DROP FUNCTION new_catalog_generation()")
    else:
        for table in WATCHED:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER catalog_generation_{table}_{event}")
    op.drop_table('cache_generations')
