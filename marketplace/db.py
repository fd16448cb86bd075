"""One engine per app and one session per application context (so per request and per CLI command),
removed when the context ends."""
import fcntl
import os
import threading
import time
from dataclasses import dataclass
from functools import partial

from flask import Flask, current_app, has_request_context, request
from flask.globals import _cv_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        writer = Writer(engine.url.database)
        event.listen(engine, "begin", partial(_sqlite_begin, writer))
        event.listen(engine, "commit", partial(_release_writer, writer))
        event.listen(engine, "rollback", partial(_release_writer, writer))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=15)  # up to 20 per process


WRITER_WAIT_SECONDS = 30  # as long as busy_timeout; past it BEGIN IMMEDIATE waits on SQLite itself
HOLDS_WRITER = "holds_writer"


class Writer:
    """One writing request at a time on this machine, handed over the moment the holder commits.

    SQLite's own busy handler polls in sleeps of up to 100 ms: with gthread workers (several threads each) that put
    450 ms on the p99 of /cart/add in `make loadtest`, against 51 ms with one thread. So writers queue first on a
    lock of their process (threads) and then on an flock of a file beside the database (processes), both waking
    the next writer at once; SQLite's lock still guards anything else (the CLI, another machine's process)."""

    def __init__(self, database: str | None) -> None:
        self.path = f"{database}.writer" if database and database != ":memory:" else None
        self.threads = threading.Lock()
        self._fd, self._pid = -1, 0

    def acquire(self) -> bool:
        deadline = time.monotonic() + WRITER_WAIT_SECONDS
        if not self.threads.acquire(timeout=WRITER_WAIT_SECONDS):
            return False
        if self.path is None or self._lock_file(deadline):
            return True
        self.threads.release()
        return False

    def release(self) -> None:
        if self.path is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.threads.release()

    def _lock_file(self, deadline: float) -> bool:
        if self._pid != os.getpid():  # a forked worker opens its own: a shared descriptor would share the lock
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        pause = 0.0005
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.004)


def _sqlite_begin(writer: Writer, conn) -> None:
    """Requests that may write (POST …) take SQLite's write lock when they begin, so they queue behind each
    other instead of failing with "database is locked" when a read turns into a write; they queue on `writer`
    first. A connection opened with execution_options(read_only=True) only reads, so it does not wait for (or
    hold) either lock."""
    writing = (has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
               and not conn.get_execution_options().get("read_only"))
    if not writing:
        conn.exec_driver_sql("BEGIN")
        return
    conn.info[HOLDS_WRITER] = writer.acquire()
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _release_writer(writer, conn)
        raise


def _release_writer(writer: Writer, conn) -> None:
    if conn.info.pop(HOLDS_WRITER, False):
        writer.release()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # pysqlite's own BEGIN handling is off; the engine's "begin" listener emits BEGIN.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _app_context_id() -> int:
    return id(_cv_app.get(None))


@dataclass
class _State:
    engine: Engine
    session: scoped_session


class Database:
    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["db"] = _State(engine, scoped_session(factory, scopefunc=_app_context_id))
        app.teardown_appcontext(self._remove_session)

    @staticmethod
    def _remove_session(_exc=None) -> None:
        current_app.extensions["db"].session.remove()

    @property
    def session(self) -> Session:
        return current_app.extensions["db"].session

    @property
    def engine(self) -> Engine:
        return current_app.extensions["db"].engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


db = Database()
