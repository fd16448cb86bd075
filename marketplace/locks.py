"""Named locks held by the database until the current transaction ends, for one-shot actions whose rule is
"count what exists, then add one" (a resend wait, a daily cap, a failure lockout): without a lock, twenty requests
at once all count before any of them adds, and all pass.

    locks.hold(f"sms-phone:{phone}", f"sms-ip:{ip}")   # then check, insert, commit: the commit releases it

PostgreSQL: pg_advisory_xact_lock on a stable 64-bit number per name (the same in every worker and machine), taken
in name order so two requests holding overlapping names cannot deadlock. Released by commit or rollback, so a
request that fails releases it too. Each statement of a READ COMMITTED transaction sees what earlier holders
committed, so the counting that follows the lock is exact.

SQLite: a POST begins its transaction with BEGIN IMMEDIATE (marketplace/db.py), which is the one writer's lock on
the whole database; hold() only makes sure that transaction has begun. Outside a request (CLI, tests calling a
module directly) the transaction is deferred, and a second writer gets "database is locked" rather than a double."""
import hashlib

from sqlalchemy import text

from .extensions import db

ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def hold(*names: str) -> None:
    """Wait for, then hold, the lock of each name until this transaction commits or rolls back."""
    connection = db.session.connection()  # begins the transaction (BEGIN IMMEDIATE for a SQLite POST)
    if db.is_sqlite:
        return
    for key in sorted({lock_key(name) for name in names}):
        connection.execute(ADVISORY_LOCK, {"key": key})


def lock_key(name: str) -> int:
    """A signed 64-bit number for `name`, the same in every process (Python's hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
