"""`flask backup DEST` / `flask restore SRC`: the database and the upload folder, copied consistently and
checked on the way back.

A backup folder holds
    marketplace.db     SQLite: an online copy made with sqlite3's backup API (consistent while the app runs), or
    database.dump      PostgreSQL: `pg_dump --format=custom`;
    uploads/…          the upload folder (tmp/ left out), copied after the database so every file a row of the
                       copy names is there (files are only removed once no row refers to them: see sweep.py);
    manifest.json      created_at, database kind, alembic revision, file count and the sha256 of every file.

restore() checks every checksum before it changes anything and refuses a backup of the other database kind.
SQLite is restored in one write transaction with the backup API (readers see the old or the new database, never
a mix, and the live database's WAL stays valid, which replacing the file under a running app would not);
PostgreSQL with `pg_restore --clean --if-exists --single-transaction`. Uploads are then put in place file by
file (atomic renames) and files the backup does not have are removed."""
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from ..extensions import db
from ..models import utcnow
from ..uploads.storage import TEMP_FOLDER, sha256_of, stored_paths, upload_root

MANIFEST = "manifest.json"
FORMAT = "cxq-backup/1"
UPLOADS = "uploads"
DATABASE_FILES = {"sqlite": "marketplace.db", "postgresql": "database.dump"}


class BackupError(Exception):
    """A backup or restore refused; the message says why in Chinese and English."""


# ---- backup ------------------------------------------------------------------------------------------------------

def backup(dest: Path) -> dict:
    """Copy the database and the upload folder into `dest` (new or empty); returns the manifest written."""
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"目标文件夹不是空的 (destination is not empty): {dest}")
    dest.mkdir(parents=True, exist_ok=True)
    kind = database_kind()
    revision = alembic_revision()
    (_backup_sqlite if kind == "sqlite" else _backup_postgresql)(dest / DATABASE_FILES[kind])
    count = _copy_tree(upload_root(), dest / UPLOADS)
    manifest = {"format": FORMAT, "created_at": utcnow().isoformat(timespec="seconds") + "Z", "database": kind,
                "alembic_revision": revision, "file_count": count, "files": _checksums(dest)}
    (dest / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def database_kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE_FILES:
        raise BackupError(f"不支持的数据库 (unsupported database): {name}")
    return name


def alembic_revision() -> str | None:
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


def _backup_sqlite(target: Path) -> None:
    source = sqlite3.connect(_sqlite_path(), timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()


def _backup_postgresql(target: Path) -> None:
    _run_pg("pg_dump", "--format=custom", f"--file={target}")


def _copy_tree(source: Path, target: Path) -> int:
    """Copy the upload folder's files (not tmp/) keeping their relative paths; returns how many."""
    count = 0
    for path in stored_paths(source):
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
        count += 1
    return count


def _checksums(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): sha256_of(path)
            for path in sorted(folder.rglob("*")) if path.is_file() and path.name != MANIFEST}


# ---- restore -----------------------------------------------------------------------------------------------------

def restore(src: Path, manifest: dict | None = None) -> dict:
    """Put the database and the upload folder back as they were in the backup `src`; returns its manifest.
    Nothing changes unless the manifest is there and every file matches its checksum (`manifest`: what
    verified_manifest(src) already answered, so a large backup is not hashed twice)."""
    src = Path(src)
    manifest = manifest or verified_manifest(src)
    kind = database_kind()
    if manifest["database"] != kind:
        raise BackupError(f"备份来自 {manifest['database']} 数据库，当前应用使用 {kind}，不能恢复 "
                          f"(backup is of a {manifest['database']} database, the app uses {kind})")
    db.session.remove()
    db.engine.dispose()  # no pooled connection keeps a lock or a stale view across the restore
    try:
        (_restore_sqlite if kind == "sqlite" else _restore_postgresql)(src / DATABASE_FILES[kind])
    finally:
        db.engine.dispose()
    _restore_uploads(src / UPLOADS, manifest["files"])
    return manifest


def verified_manifest(src: Path) -> dict:
    """The backup's manifest, once every file it lists (and no other) is there with the checksum it records."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        files, kind = manifest["files"], manifest["database"]
        if manifest.get("format") != FORMAT or not isinstance(files, dict) or kind not in DATABASE_FILES:
            raise ValueError("unknown format")
    except (OSError, ValueError, KeyError, TypeError) as problem:
        raise BackupError(f"备份清单 manifest.json 缺失或已损坏，拒绝恢复 "
                          f"(manifest.json missing or corrupt, nothing restored): {problem}") from None
    if DATABASE_FILES[kind] not in files:
        raise BackupError("备份中没有数据库文件，拒绝恢复 (the backup holds no database file, nothing restored)")
    present = _checksums(src)
    bad = sorted(name for name in files.keys() | present.keys() if files.get(name) != present.get(name))
    if bad:
        raise BackupError(f"备份文件缺失、多余或校验不符，拒绝恢复 (files missing, unlisted or not matching their "
                          f"checksum, nothing restored): {', '.join(bad[:10])}")
    return manifest


def _restore_sqlite(copy: Path) -> None:
    source = sqlite3.connect(f"{copy.resolve().as_uri()}?mode=ro", uri=True)
    live = sqlite3.connect(_sqlite_path(), timeout=30)
    try:
        source.backup(live)
    finally:
        live.close()
        source.close()


def _restore_postgresql(dump: Path) -> None:
    _run_pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", str(dump))


def _restore_uploads(copies: Path, checksums: dict[str, str]) -> None:
    """Make the upload folder hold exactly the backup's files: changed or missing ones are copied in through
    tmp/ and renamed into place, others are removed (tmp/ is left alone)."""
    root = upload_root()
    wanted = {name.removeprefix(f"{UPLOADS}/"): digest for name, digest in checksums.items()
              if name.startswith(f"{UPLOADS}/")}
    for name, digest in wanted.items():
        target = root / name
        if not (target.is_file() and sha256_of(target) == digest):
            _put_in_place(copies / name, target, root / TEMP_FOLDER)
    for path in stored_paths(root):
        if path.relative_to(root).as_posix() not in wanted:
            path.unlink()


def _put_in_place(copy: Path, target: Path, temp_folder: Path) -> None:
    temp_folder.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, part = tempfile.mkstemp(dir=temp_folder, suffix=".part")
    os.close(fd)
    try:
        shutil.copy2(copy, part)
        os.replace(part, target)
    finally:
        Path(part).unlink(missing_ok=True)


# ---- the database behind the app -----------------------------------------------------------------------------------

def _sqlite_path() -> str:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise BackupError("内存数据库无法备份 (an in-memory SQLite database cannot be backed up)")
    return path


def _run_pg(tool: str, *args: str) -> None:
    """Run pg_dump / pg_restore against the app's database; the password goes in the environment, not argv."""
    url: URL = db.engine.url
    env = {**os.environ, "PGPASSWORD": url.password or os.environ.get("PGPASSWORD", "")}
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([pg_binary(tool), f"--dbname={libpq}", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} 失败 ({tool} failed): {done.stderr.strip()[-2000:]}")


def pg_binary(tool: str) -> str:
    """The newest server installation's tool (it must not be older than the server), else the one on PATH."""
    installed = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"), key=_version_key)
    found = installed[-1] if installed else shutil.which(tool)
    if not found:
        raise BackupError(f"找不到 {tool}，请安装 PostgreSQL 客户端 ({tool} not found: install the PostgreSQL client)")
    return found


def _version_key(path: str) -> tuple:
    version = Path(path).parent.parent.name
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))
