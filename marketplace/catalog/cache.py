"""Rendered pieces of the public catalog, kept by each worker for as long as the catalog stays as it was.

The database holds a token that its own triggers replace, in the same transaction, whenever a service, shop,
category or field changes (migration 0006). A piece is kept under the token read when it was rendered, so the
first request after a change, in any worker, reads the new token and renders afresh; no write path has to
remember to invalidate anything. Only GET requests use the cache: a request that changes the catalog must never
store what its own uncommitted transaction shows. CATALOG_CACHE_ENTRIES bounds each worker's pieces (the least
recently used go first); 0 turns the cache off."""
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

from flask import current_app, request
from ..extensions import db
from ..models import CacheGeneration

T = TypeVar("T")
TOKEN_QUERY = f"SELECT token FROM {CacheGeneration.__tablename__} WHERE name = 'catalog'"
MAX_KEY_BYTES = 512  # longer query strings are someone's experiment, not a page worth keeping


class RenderedPieces:
    """A bounded least-recently-used map, safe under a threaded server."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.entries: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], T]) -> T:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key]
        value = render()
        with self.lock:
            self.entries[key] = value
            while len(self.entries) > self.capacity:
                self.entries.popitem(last=False)
        return value


def catalog_token() -> int | None:
    """The catalog's current token; None before the first catalog write of an emptied database.
    Asked on a pooled driver connection of its own, without the ORM session: every catalog page asks, and on a
    kept page a session would cost more than everything else the request does."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(TOKEN_QUERY)
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()  # back to the pool, which ends the driver's transaction
    return row[0] if row else None


def rendered(key: tuple, render: Callable[[], T]) -> T:
    """`render()`'s result for `key` under the catalog as it is now: kept from an earlier request, or made now."""
    capacity = current_app.config.get("CATALOG_CACHE_ENTRIES", 0)
    if not capacity or request.method not in ("GET", "HEAD") or len(repr(key)) > MAX_KEY_BYTES:
        return render()
    token = catalog_token()
    if token is None:
        return render()
    pieces = current_app.extensions.get("catalog_cache")
    if pieces is None or pieces.capacity != capacity:
        pieces = current_app.extensions["catalog_cache"] = RenderedPieces(capacity)
    return pieces.get((token, *key), render)
