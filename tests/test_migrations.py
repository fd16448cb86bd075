"""The Alembic history builds exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from marketplace.catalog.search_index import include_name
from marketplace.models import Base

from .conftest import migrate


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_head_works_on_an_empty_sqlite_file(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(url)
    engine = create_engine(url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_money_columns_are_integers():
    money = [c for t in Base.metadata.tables.values() for c in t.columns if c.name.endswith("_fen")]
    assert money, "no money columns found"
    assert all(c.type.python_type is int for c in money), [f"{c.table.name}.{c.name}" for c in money]
