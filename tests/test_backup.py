"""`flask backup DEST` / `flask restore SRC`: a round trip gives back every row of every table and every
uploaded file as they were at backup time; a damaged backup is refused before anything changes."""
import json
import os

import pytest
from sqlalchemy import select, text

from marketplace import uploads
from marketplace.extensions import db
from marketplace.models import Base, Material
from marketplace.ops.backup import BackupError, pg_binary, sha256_of
from marketplace.uploads.storage import upload_root


@pytest.fixture(autouse=True)
def backup_tools(app):
    """PostgreSQL needs pg_dump and pg_restore (the postgresql-client package; CI installs postgresql)."""
    if db.engine.dialect.name == "postgresql":
        try:
            pg_binary("pg_dump") and pg_binary("pg_restore")
        except BackupError as missing:
            pytest.skip(f"PostgreSQL backups need the client tools: {missing}")


def every_table() -> dict[str, list[tuple]]:
    """Each table of the data model, every row ordered by primary key, read in a new transaction."""
    db.session.commit()
    db.session.expire_all()
    rows = {}
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = [tuple(row) for row in db.session.execute(select(table).order_by(*order))]
    db.session.commit()
    return rows


def every_file() -> dict[str, str]:
    root = upload_root()
    return {path.relative_to(root).as_posix(): sha256_of(path) for path in sorted(root.rglob("*"))
            if path.is_file() and path.relative_to(root).parts[0] != "tmp"}


@pytest.fixture
def world(make, enterprise, provider, individual):
    """Users of every kind, listed services, and a submitted claim with its files."""
    make.service(provider.provider)
    make.service(provider.provider, name="X射线衍射物相分析", price_fen=None)
    make.voucher(enterprise)
    return make.claim(enterprise, status="submitted")


def back_up(runner, dest):
    db.session.commit()
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return result


def test_a_restore_brings_back_every_table_and_file_as_backed_up(runner, make, world, provider, tmp_path):
    dest = tmp_path / "backup"
    back_up(runner, dest)
    tables, files = every_table(), every_file()
    manifest = json.loads((dest / "manifest.json").read_text())
    assert manifest["database"] == db.engine.dialect.name and manifest["alembic_revision"]
    assert manifest["file_count"] == len(files) > 0

    make.service(provider.provider, name="备份之后新增的服务")
    make.stored_pdf(provider, "备份之后.pdf")
    db.session.execute(text("UPDATE redemptions SET contract_amount_fen = 1"))
    db.session.commit()
    uploads.path_of(db.session.scalars(select(Material)).first().file).unlink()
    assert (every_table(), every_file()) != (tables, files)

    result = runner.invoke(args=["restore", str(dest), "--yes"])

    assert result.exit_code == 0, result.output
    assert every_table() == tables
    assert every_file() == files


def test_restore_asks_first_and_a_no_changes_nothing(runner, world, provider, make, tmp_path):
    back_up(runner, tmp_path / "backup")
    make.service(provider.provider, name="不该被覆盖的服务")
    tables = every_table()

    result = runner.invoke(args=["restore", str(tmp_path / "backup")], input="n\n")

    assert result.exit_code != 0 and "覆盖当前数据库" in result.output
    assert every_table() == tables


@pytest.mark.parametrize("damage", ["missing", "corrupt", "tampered"])
def test_a_damaged_backup_is_refused_before_anything_changes(runner, world, provider, make, tmp_path, damage):
    dest = tmp_path / "backup"
    back_up(runner, dest)
    if damage == "missing":
        (dest / "manifest.json").unlink()
    elif damage == "corrupt":
        (dest / "manifest.json").write_text('{"files": ')
    else:
        some_upload = next(path for path in (dest / "uploads").rglob("*") if path.is_file())
        some_upload.write_bytes(b"not what was backed up")
    make.service(provider.provider, name="备份之后新增的服务")
    tables, files = every_table(), every_file()

    result = runner.invoke(args=["restore", str(dest), "--yes"])

    assert result.exit_code != 0
    assert ("缺失或已损坏" if damage != "tampered" else "校验不符") in result.output
    assert "nothing restored" in result.output
    assert (every_table(), every_file()) == (tables, files)


def test_backup_refuses_a_folder_that_is_not_empty(runner, tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("keep me")
    result = runner.invoke(args=["backup", str(tmp_path / "old")])
    assert result.exit_code != 0 and "不是空的" in result.output
    assert os.listdir(tmp_path / "old") == ["something"]
