"""`flask sweep-uploads`: remove uploads nothing refers to.

Three kinds of leftovers, each only once older than the grace period (default 1 hour), so an upload between
uploads.save() and the request's commit, or a form kept for re-submission, is never swept:
- stored_files rows no column references (every column with a foreign key to stored_files.id, read from
  Base.metadata so a new reference is covered automatically), with their file and thumbnails;
- files under UPLOAD_FOLDER no row names (a crash between moving the file into place and the commit),
  thumbnails (name.t200.ext) counting as part of their original;
- UPLOAD_FOLDER/tmp/*.part left by an interrupted upload.

Rows are deleted (and committed) before their files, so a crash in between leaves only stray files,
which the next sweep removes.

The same daily run prunes rows kept only to count recent events (prune_events): failed sign-ins and SMS sends
(login_attempts) and SMS codes. No limit reads them after a day (accounts/throttle.py, accounts/sms.py); a week is
kept for anyone looking into an incident. Without this they grow forever."""
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Column, and_, delete, func, select

from ..extensions import db
from ..models import Base, LoginAttempt, SmsCode, StoredFile, utcnow
from ..uploads.storage import TEMP_FOLDER, stored_paths, upload_root

DEFAULT_GRACE_MINUTES = 60
EVENTS_KEPT = timedelta(days=7)
EVENT_TIMES = {"login_attempts": LoginAttempt.at, "sms_codes": SmsCode.created_at}  # table: when a row happened
THUMBNAIL = re.compile(r"^(?P<stem>.+)\.t\d+(?P<suffix>\.[^.]+)?$")


@dataclass
class Found:
    count: int = 0
    size: int = 0

    def add(self, *paths: Path) -> None:
        """One more thing found, made of these files."""
        self.count += 1
        self.size += sum(path.stat().st_size for path in paths)


@dataclass
class Sweep:
    """What a sweep removed (or, on a dry run, would remove)."""
    rows: Found = field(default_factory=Found)          # unreferenced stored_files rows (size: their files)
    stray_files: Found = field(default_factory=Found)   # files and thumbnails no row names
    temp_files: Found = field(default_factory=Found)    # interrupted uploads in tmp/


def file_references() -> list[Column]:
    """Every column holding a stored_files.id."""
    target = StoredFile.__table__.c.id
    return [column for table in Base.metadata.sorted_tables for column in table.columns
            if any(fk.column is target for fk in column.foreign_keys)]


def _unreferenced():
    """A condition true for stored_files rows no reference column points at (checked by the database at delete
    time, so a reference added since the listing keeps the row)."""
    return and_(*(~select(column).where(column == StoredFile.id).exists() for column in file_references()))


def sweep_uploads(grace_minutes: int = DEFAULT_GRACE_MINUTES, dry_run: bool = False) -> Sweep:
    root = upload_root()
    result = Sweep()
    _sweep_rows(root, grace_minutes, dry_run, result.rows)
    cutoff = time.time() - grace_minutes * 60
    _sweep_strays(root, cutoff, dry_run, result.stray_files)
    _sweep_temp(root, cutoff, dry_run, result.temp_files)
    return result


def _sweep_rows(root: Path, grace_minutes: int, dry_run: bool, found: Found) -> None:
    old_enough = StoredFile.created_at < utcnow() - timedelta(minutes=grace_minutes)
    condition = and_(old_enough, _unreferenced())
    if dry_run:
        keys = db.session.scalars(select(StoredFile.storage_key).where(condition)).all()
    else:
        keys = db.session.scalars(delete(StoredFile).where(condition).returning(StoredFile.storage_key)).all()
        db.session.commit()
    for key in keys:
        files = _with_thumbnails(root / key)
        found.add(*files)
        for path in files if not dry_run else ():
            path.unlink(missing_ok=True)


def _with_thumbnails(original: Path) -> list[Path]:
    candidates = [original, *original.parent.glob(f"{original.stem}.t*{original.suffix}")]
    return [path for path in candidates if path.is_file()]


def _sweep_strays(root: Path, cutoff: float, dry_run: bool, found: Found) -> None:
    known = set(db.session.scalars(select(StoredFile.storage_key)))
    for path in stored_paths(root):
        if _original_key(root, path) in known or path.stat().st_mtime >= cutoff:
            continue
        found.add(path)
        if not dry_run:
            path.unlink(missing_ok=True)


def _original_key(root: Path, path: Path) -> str:
    """The storage key a file belongs to: its own, or its original's for a thumbnail."""
    thumbnail = THUMBNAIL.match(path.name)
    if thumbnail:
        path = path.with_name(thumbnail["stem"] + (thumbnail["suffix"] or ""))
    return path.relative_to(root).as_posix()


def _sweep_temp(root: Path, cutoff: float, dry_run: bool, found: Found) -> None:
    for path in sorted((root / TEMP_FOLDER).glob("*.part*")):
        if path.is_file() and path.stat().st_mtime < cutoff:
            found.add(path)
            if not dry_run:
                path.unlink(missing_ok=True)


def prune_events(dry_run: bool = False) -> dict[str, int]:
    """Delete (or, on a dry run, count) event rows older than EVENTS_KEPT; how many per table."""
    cutoff = utcnow() - EVENTS_KEPT
    pruned = {}
    for table, at in EVENT_TIMES.items():
        model = at.class_
        if dry_run:
            pruned[table] = db.session.scalar(select(func.count()).select_from(model).where(at < cutoff))
        else:
            pruned[table] = db.session.execute(delete(model).where(at < cutoff)).rowcount
    db.session.commit()
    return pruned
