"""One engine per app and one session per application context (so per request and per CLI command),
removed when the context ends."""
from dataclasses import dataclass

from flask import Flask, current_app, has_request_context, request
from flask.globals import _cv_app
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, scoped_session, sessionmaker


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=15)  # up to 20 per process


def _sqlite_begin(conn) -> None:
    """Requests that may write (POST …) take SQLite's write lock when they begin, so they queue behind each
    other (busy_timeout) instead of failing with "database is locked" when a read turns into a write. A connection
    opened with execution_options(read_only=True) only reads, so it does not wait for (or hold) the lock."""
    writing = (has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
               and not conn.get_execution_options().get("read_only"))
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


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
