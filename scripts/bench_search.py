"""make bench: how fast the mall's search answers, through the real app, at the platform's size and at ten times it.

For each size, a throw-away database is migrated and seeded with the demo catalog; then the HTMX result
fragment (GET /services with HX-Request: true) is timed for each query kind, once through the search index and
once through a plain LIKE scan over the same columns (the app with SEARCH_SUBSTRING_SCAN), with the page cache
off (CATALOG_CACHE_PAGES false) so every request runs its search and renders its page, as a search no one made
before does on a worker that has served others: the service cards and filter lists, kept per service and catalog
token and shared by every query, stay warm. BENCH_COLD=1 turns those off too (CATALOG_CACHE_MB 0: the first
request after a catalog change). Prints median and p95 in milliseconds and checks the targets of issues 3 and 18.
SQLite always; PostgreSQL too when BENCH_DATABASE_URL names a database it may wipe. BENCH_SIZES, BENCH_RUNS and
BENCH_BASELINE_RUNS override the defaults."""
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alembic import command  # noqa: E402
from alembic.config import Config as AlembicConfig  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from marketplace import create_app  # noqa: E402
from marketplace.catalog.search_index import bulk_indexing  # noqa: E402
from marketplace.config import ROOT  # noqa: E402
from marketplace.demo import seed_demo  # noqa: E402
from marketplace.extensions import db  # noqa: E402

QUERIES = {
    "1 character": "q=镜",
    "2 characters": "q=电镜",
    "4 characters": "q=扫描电镜",
    "model number": "q=SU8010",
    "filtered + sorted": "q=检测&city=南京&voucher=1&sort=price_asc",
    "browse, no query": "sort=newest",
    "page past the end": "q=检测&page=9999",
}
MULTI_CHARACTER = ("2 characters", "4 characters", "model number", "filtered + sorted")
P95_LIMIT_MS = 10  # issue 18: the fragment with the cache off
GROWTH_LIMIT = 3
SPEEDUP_MIN = 10
TOTAL = re.compile(r"共找到 <strong>([\d,]+\+?)</strong>")  # "1,000+" where PostgreSQL stops counting


def main() -> int:
    sizes = [int(n) for n in os.environ.get("BENCH_SIZES", "35000,350000").split(",")]
    runs = int(os.environ.get("BENCH_RUNS", "50"))
    baseline_runs = int(os.environ.get("BENCH_BASELINE_RUNS", "10"))
    targets = [("SQLite", lambda size, folder: f"sqlite:///{folder}/bench-{size}.db")]
    if os.environ.get("BENCH_DATABASE_URL"):
        targets.append(("PostgreSQL", lambda size, folder: _wiped(os.environ["BENCH_DATABASE_URL"])))
    failures = []
    for name, url_for_size in targets:
        with tempfile.TemporaryDirectory() as folder:
            results = {size: measure(url_for_size(size, folder), size, runs, baseline_runs) for size in sizes}
        print_table(name, results)
        failures += check_targets(name, results, sizes)
    for failure in failures:
        print(f"MISSED: {failure}")
    print("All targets hold." if not failures else f"{len(failures)} target(s) missed.")
    return 1 if failures else 0


def measure(url: str, size: int, runs: int, baseline_runs: int) -> dict:
    started = time.perf_counter()
    _migrate(url)
    cache = {"CATALOG_CACHE_MB": 0} if os.environ.get("BENCH_COLD") else {"CATALOG_CACHE_PAGES": False}
    indexed = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", **cache})
    with indexed.app_context(), bulk_indexing(db.session):
        seed_demo(db.session, services=size)
    print(f"{url.split('://')[0]} {size:,} services seeded and indexed in {time.perf_counter() - started:.0f} s",
          flush=True)
    scan = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", **cache, "SEARCH_SUBSTRING_SCAN": True})
    return {kind: {"indexed": _time(indexed, query, runs), "like": _time(scan, query, baseline_runs)}
            for kind, query in QUERIES.items()}


def _time(app, query: str, runs: int) -> dict:
    client = app.test_client()
    url, headers = f"/services?{query}", {"HX-Request": "true"}
    for _ in range(max(3, runs // 10)):
        response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        client.get(url, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median": statistics.median(timings), "p95": timings[min(len(timings) - 1, round(0.95 * len(timings)) - 1)],
            "hits": TOTAL.search(response.get_data(as_text=True)).group(1)}


def print_table(database: str, results: dict) -> None:
    cache = "cache off" if os.environ.get("BENCH_COLD") else "page cache off, cards warm"
    print(f"\n{database}: GET /services fragment ({cache}), milliseconds (median / p95)")
    print("| services | query | hits | indexed median | indexed p95 | LIKE median | LIKE p95 "
          "| LIKE ÷ indexed (median) |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size, kinds in results.items():
        for kind, r in kinds.items():
            i, like = r["indexed"], r["like"]
            print(f"| {size:,} | {kind} ({QUERIES[kind]}) | {i['hits']} | {i['median']:.1f} | {i['p95']:.1f} | "
                  f"{like['median']:.1f} | {like['p95']:.1f} | {like['median'] / i['median']:.1f}× |")
    if len(results) > 1:
        small, large = min(results), max(results)
        print(f"\nGrowth {small:,} → {large:,} (indexed p95): " + ", ".join(
            f"{kind} {results[large][kind]['indexed']['p95'] / results[small][kind]['indexed']['p95']:.2f}×"
            for kind in QUERIES))
    print(flush=True)


def check_targets(database: str, results: dict, sizes: list[int]) -> list[str]:
    failures = []
    if 35000 in results:
        failures += [f"{database} 35,000 {kind}: p95 {r['indexed']['p95']:.1f} ms > {P95_LIMIT_MS} ms"
                     for kind, r in results[35000].items() if r["indexed"]["p95"] > P95_LIMIT_MS]
    if 35000 in results and 350000 in results:
        for kind in QUERIES:
            small, large = results[35000][kind]["indexed"]["p95"], results[350000][kind]["indexed"]["p95"]
            if large > GROWTH_LIMIT * small:
                failures.append(f"{database} {kind}: p95 {large:.1f} ms at 350,000 > {GROWTH_LIMIT} × {small:.1f} ms")
        for kind in MULTI_CHARACTER:
            r = results[350000][kind]
            if r["like"]["median"] < SPEEDUP_MIN * r["indexed"]["median"]:
                ratio = r["like"]["median"] / r["indexed"]["median"]
                failures.append(f"{database} 350,000 {kind}: LIKE only {ratio:.1f}× slower")
    return failures


def _migrate(url: str) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


def _wiped(url: str) -> str:
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


if __name__ == "__main__":
    sys.exit(main())
