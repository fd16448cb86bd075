"""catalog token once per bulk load: the catalog triggers skip rows written while `cxq.bulk_load` is on

The per-row deferred triggers of 0006 queue one event per row and, at COMMIT, each one replaces the same
`cache_generations` row: seeding 35,000 services spent 91 of its 116 s in that COMMIT on PostgreSQL. A bulk
loader (marketplace/demo/seed.py) now turns on the transaction-local setting
`SELECT set_config('cxq.bulk_load', 'on', true)` and sets a new token itself, once, before it commits.

PostgreSQL: the triggers get `WHEN (current_setting('cxq.bulk_load', true) IS DISTINCT FROM 'on')`. A constraint
trigger's WHEN is evaluated when the row is written, not at COMMIT, so a skipped row queues nothing. Every other
transaction (the setting unset, or reset to '' at the end of an earlier one) bumps the token exactly as before.
SQLite: unchanged; its row triggers cannot read a setting and cost little there (one writer, no deferred queue).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 10:00:00
"""
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

WATCHED = ("services", "providers", "instruments", "categories", "fields", "service_fields")  # as in 0006
NOT_BULK_LOAD = "WHEN (current_setting('cxq.bulk_load', true) IS DISTINCT FROM 'on') "


def upgrade() -> None:
    _recreate_triggers(NOT_BULK_LOAD)


def downgrade() -> None:
    _recreate_triggers("")


def _recreate_triggers(when: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in WATCHED:
        op.execute(f"DROP TRIGGER catalog_generation_{table} ON {table}")
        op.execute(f"CREATE CONSTRAINT TRIGGER catalog_generation_{table} AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}"
                   f"EXECUTE FUNCTION new_catalog_generation()")
