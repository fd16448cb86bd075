"""Rendered pieces of the public catalog, kept by each worker for as long as the catalog stays as it was.

The database holds a token that its own triggers replace, in the same transaction, whenever a service, shop,
category or field changes (migration 0006). A piece is kept under the token read when it was rendered, so the
first request after a change, in any worker, reads the new token and renders afresh; no write path has to
remember to invalidate anything. Only GET requests use the cache: a request that changes the catalog must never
store what its own uncommitted transaction shows. CATALOG_CACHE_MB bounds the memory of each worker's pieces (the
least recently used go first); 0 turns the cache off. CATALOG_CACHE_PAGES false keeps the pieces every query shares
(service cards, filter lists) but no whole page (rendered_page): each request then runs its search, as a query no
one made before does on a warm worker, which is what `make bench` times."""
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app, g, request

from ..extensions import db
from ..models import CacheGeneration

T = TypeVar("T")
TOKEN_QUERY = f"SELECT token FROM {CacheGeneration.__tablename__} WHERE name = 'catalog'"
MAX_KEY_BYTES = 512  # longer query strings are someone's experiment, not a page worth keeping


class RenderedPieces:
    """A least-recently-used map bounded by the memory its pieces take, safe under a threaded server."""

    def __init__(self, capacity_bytes: int):
        self.capacity = capacity_bytes
        self.entries: OrderedDict = OrderedDict()  # key -> (piece, its weight)
        self.weight = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], T]) -> T:
        value = self.peek(key)
        return self.put(key, render()) if value is None else value

    def peek(self, key: Hashable):
        """The piece kept under `key` (now the most recently used), or None."""
        with self.lock:
            if key not in self.entries:
                return None
            self.entries.move_to_end(key)
            return self.entries[key][0]

    def put(self, key: Hashable, value: T) -> T:
        weight = weigh(value)
        with self.lock:
            if key in self.entries:
                self.weight -= self.entries.pop(key)[1]
            self.entries[key] = (value, weight)
            self.weight += weight
            while self.weight > self.capacity and self.entries:
                self.weight -= self.entries.popitem(last=False)[1][1]
        return value


def weigh(value) -> int:
    """Roughly the bytes a piece holds: its strings, and the containers around them."""
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(weigh(item) for item in value)
    return sys.getsizeof(value)


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
    pieces, token = _pieces(key)
    if pieces is None:
        return render()
    return pieces.get((token, *key), render)


def rendered_page(key: tuple, render: Callable[[], T]) -> T:
    """rendered() for a whole page or search answer, which CATALOG_CACHE_PAGES false leaves unkept."""
    return rendered(key, render) if current_app.config.get("CATALOG_CACHE_PAGES", True) else render()


def rendered_each(keys: list[tuple], render_missing: Callable[[list[tuple]], dict]) -> list:
    """The piece for each key, in order: kept ones as they are, all the missing ones from one
    `render_missing(missing keys)` call, which answers {key: piece} (one query for a page of cards, not one each)."""
    pieces, token = _pieces(("each",))
    if pieces is None:
        made = render_missing(keys)
        return [made[key] for key in keys]
    found = {key: pieces.peek((token, *key)) for key in keys}
    missing = [key for key, piece in found.items() if piece is None]
    if missing:
        for key, piece in render_missing(missing).items():
            found[key] = pieces.put((token, *key), piece)
    return [found[key] for key in keys]


def _pieces(key: tuple) -> tuple[RenderedPieces | None, int | None]:
    """This worker's pieces and the catalog's token, or (None, None) where nothing may be kept."""
    capacity = int(current_app.config.get("CATALOG_CACHE_MB", 0) * 1024 * 1024)
    if not capacity or request.method not in ("GET", "HEAD") or len(repr(key)) > MAX_KEY_BYTES:
        return None, None
    if "catalog_token" not in g:  # a GET never changes the catalog, so one read serves the whole request
        g.catalog_token = catalog_token()
    if g.catalog_token is None:
        return None, None
    pieces = current_app.extensions.get("catalog_cache")
    if pieces is None or pieces.capacity != capacity:
        pieces = current_app.extensions["catalog_cache"] = RenderedPieces(capacity)
    return pieces, g.catalog_token
