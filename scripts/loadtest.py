"""`make loadtest`: the marketplace under gunicorn (2 workers, loopback) against a bare Flask page served the same
way, measured in one run. Not part of `make test` (about two minutes).

Four phases, each LOADTEST_SECONDS (default 20) with LOADTEST_USERS (default 8) virtual users, each a process
of its own (so the Python client is not held back by one interpreter lock) with keep-alive connections:
  1. bare     GET / of scripts/bare_app.py: the ceiling of this machine, server and client;
  2. search   GET /services?q=… over the popular queries (and their pages 2–3), anonymous: the page the target
              is about, as a mall's traffic asks it, mostly the same queries again (answered from each worker's
              rendered-page cache, marketplace/catalog/cache.py);
  3. new search  the same queries, each with a price limit no earlier request used: every request misses the
              cache and really searches (the worst case, reported beside the target);
  4. journey  signed-in demo enterprises: browse (/) → search → detail (/services/<id>) → cart (POST /cart/add
              with the CSRF token, as htmx sends it).
Target (issue 8): search ≥ 25 % of the bare page's throughput, p99 < 200 ms, zero errors.

The demo catalog (seed-demo, LOADTEST_SERVICES services, default 2000) goes into a temporary SQLite file, or into
DATABASE_URL when set (PostgreSQL: that database must be empty or hold the demo already; it is not wiped).
Client and server share this machine's cores, so the figures are a comparison within one run, not capacity."""
import http.client
import json
import multiprocessing
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from marketplace.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD  # noqa: E402
from marketplace.models import AccountStatus, Role  # noqa: E402

BIN = Path(sys.executable).parent
SECONDS = float(os.environ.get("LOADTEST_SECONDS", 20))
USERS = int(os.environ.get("LOADTEST_USERS", 8))
SERVICES = int(os.environ.get("LOADTEST_SERVICES", 2000))
WORKERS = 2
WARMUP = 3.0  # seconds for the user processes to start and sign in before the measured window opens
ENTERPRISES = tuple(account.email for account in DEMO_ACCOUNTS  # the approved ones: each holds a voucher
                    if account.role == Role.ENTERPRISE and account.status == AccountStatus.ACTIVE)
QUERIES = ("电镜", "扫描电子显微镜", "质谱", "色谱", "能谱仪", "核磁", "检测", "X射线", "光谱", "热分析", "液相",
           "材料", "粒度", "测试", "南京", "显微")
TARGET_RATIO, TARGET_P99_MS = 0.25, 200
SERVICE_LINK = re.compile(r'href="/services/(\d+)"')
CSRF_META = re.compile(r'"X-CSRFToken": "([^"]+)"')


# ---------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_environment(workdir: Path) -> dict:
    env = {**os.environ, "SECRET_KEY": "loadtest-only", "UPLOAD_FOLDER": str(workdir / "uploads"),
           "FLASK_APP": "app"}
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'loadtest.db'}")
    return env


def seed(env: dict) -> None:
    started = time.perf_counter()
    subprocess.run([BIN / "alembic", "upgrade", "head"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([BIN / "flask", "seed-demo", "--services", str(SERVICES)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    print(f"seeded {SERVICES} demo services in {time.perf_counter() - started:.0f} s", file=sys.stderr)


def serve(app: str, env: dict, chdir: Path) -> tuple[subprocess.Popen, int]:
    """gunicorn with the Procfile's settings (gunicorn.conf.py: 2 workers of 8 threads), minus the access log, on a
    free loopback port."""
    port = free_port()
    server = subprocess.Popen([BIN / "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
                               "--chdir", str(chdir), "--log-level", "warning", app], cwd=ROOT, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            Session(port).get("/")
            return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{app} did not start on port {port}")


# ---------------------------------------------------------------- client

class Session:
    """One browser-like user: a keep-alive connection (reopened when the server closes it) and a cookie jar."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None
                ) -> tuple[int, str]:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()  # the worker closed the idle connection: once more on a new one
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text

    def get(self, path: str) -> tuple[int, str]:
        return self.request("GET", path)

    def post(self, path: str, form: dict, headers: dict | None = None) -> tuple[int, str]:
        return self.request("POST", path, urlencode(form), headers)


def sign_in(session: Session, email: str) -> str:
    """Sign in through the login form; the CSRF token of the signed-in session (as htmx sends it)."""
    _, html = session.get("/auth/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    status, _ = session.post("/auth/login", {"csrf_token": token, "email": email, "password": DEMO_PASSWORD})
    if status != 303:
        raise SystemExit(f"signing in as {email} answered {status}")
    _, html = session.get("/me")
    return CSRF_META.search(html).group(1)


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, seconds: float, ok: bool) -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1

    def merge(self, other: "Samples") -> None:
        for kind, values in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(values)
        for kind, count in other.errors.items():
            self.errors[kind] = self.errors.get(kind, 0) + count


def timed(samples: Samples, kind: str, call, expected=(200,)) -> str:
    started = time.perf_counter()
    try:
        status, text = call()
    except OSError:
        status, text = 0, ""
    samples.add(kind, time.perf_counter() - started, status in expected)
    return text


def search_path(rng: random.Random) -> str:
    return f"/services?q={quote(rng.choice(QUERIES))}" + (f"&page={rng.randint(2, 3)}" if rng.random() < .2 else "")


def new_search_path(rng: random.Random) -> str:
    """A query string no earlier request used (a price limit in yuan, drawn from ten million)."""
    return f"/services?q={quote(rng.choice(QUERIES))}&price_max={rng.randint(1, 10 ** 7)}"


def wait_for(start: float) -> None:
    time.sleep(max(0.0, start - time.time()))


def bare_path(_rng: random.Random) -> str:
    return "/"


def page_user(kind: str, path, seed: int, port: int, user: int, start: float, until: float) -> Samples:
    """One anonymous user asking for `path(rng)` over and over."""
    samples, session, rng = Samples(), Session(port), random.Random(seed + user)
    wait_for(start)
    while time.time() < until:
        timed(samples, kind, lambda: session.get(path(rng)))
    return samples


bare_user = partial(page_user, "bare page", bare_path, 0)
search_user = partial(page_user, "search", search_path, 0)
new_search_user = partial(page_user, "new search", new_search_path, 1000)


def journey_user(port: int, user: int, start: float, until: float) -> Samples:
    """browse → search → detail → add to cart, over and over, as one signed-in enterprise."""
    samples, session, rng = Samples(), Session(port), random.Random(user)
    token = sign_in(session, ENTERPRISES[user % len(ENTERPRISES)])
    wait_for(start)
    while time.time() < until:
        timed(samples, "browse /", lambda: session.get("/"))
        ids = SERVICE_LINK.findall(timed(samples, "search", lambda: session.get(search_path(rng))))
        if not ids:
            continue
        service_id = rng.choice(ids)
        timed(samples, "detail", partial(session.get, f"/services/{service_id}"))
        timed(samples, "cart add", partial(session.post, "/cart/add", {"service_id": service_id, "quantity": 1},
                                           {"X-CSRFToken": token, "HX-Request": "true"}))
    return samples


def run_phase(user_loop, port: int) -> tuple[Samples, float]:
    """All users together for SECONDS; a request still running at the end counts (the window is that long)."""
    start = time.time() + WARMUP
    with multiprocessing.Pool(USERS) as pool:
        results = pool.starmap(user_loop, [(port, user, start, start + SECONDS) for user in range(USERS)])
    merged = Samples()
    for samples in results:
        merged.merge(samples)
    return merged, SECONDS


# ---------------------------------------------------------------- report

def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def rows(phase: str, samples: Samples, elapsed: float, bare_rate: float | None) -> list[dict]:
    out = []
    for kind, values in samples.latencies.items():
        rate = len(values) / elapsed
        out.append({"phase": phase, "kind": kind, "requests": len(values), "rate": rate,
                    "ratio": rate / bare_rate if bare_rate else 1.0, "p50": percentile(values, .50) * 1000,
                    "p95": percentile(values, .95) * 1000, "p99": percentile(values, .99) * 1000,
                    "mean": statistics.fmean(values) * 1000, "errors": samples.errors.get(kind, 0)})
    return out


def table(all_rows: list[dict]) -> str:
    lines = ["| phase | page | requests | req/s | vs bare | p50 ms | p95 ms | p99 ms | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['phase']} | {r['kind']} | {r['requests']} | {r['rate']:.0f} | {r['ratio']:.0%} | "
              f"{r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['errors']} |" for r in all_rows]
    return "\n".join(lines)


def verdict(all_rows: list[dict]) -> list[str]:
    search = next(r for r in all_rows if r["phase"] == "search")
    new_search = next(r for r in all_rows if r["phase"] == "new search")
    worst_p99 = max(r["p99"] for r in all_rows if r["phase"] != "bare")
    errors = sum(r["errors"] for r in all_rows)
    checks = [(f"search throughput {search['ratio']:.0%} of the bare page (target ≥ {TARGET_RATIO:.0%})",
               search["ratio"] >= TARGET_RATIO),
              (f"worst p99 of the marketplace pages {worst_p99:.0f} ms (target < {TARGET_P99_MS} ms)",
               worst_p99 < TARGET_P99_MS),
              (f"{errors} errors (target 0)", errors == 0)]
    return ([f"- {'met' if ok else 'NOT met'}: {text}" for text, ok in checks]
            + [f"- for information: searches no one made before (every one a cache miss) {new_search['ratio']:.0%} of "
               f"the bare page, p99 {new_search['p99']:.0f} ms"])


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="cxq-loadtest-") as work:
        env = app_environment(Path(work))
        seed(env)
        servers = []
        try:
            bare, bare_port = serve("bare_app:app", env, ROOT / "scripts")
            servers.append(bare)
            app, app_port = serve("app:app", env, ROOT)
            servers.append(app)
            bare_samples, bare_elapsed = run_phase(bare_user, bare_port)
            bare_rate = len(bare_samples.latencies["bare page"]) / bare_elapsed
            all_rows = rows("bare", bare_samples, bare_elapsed, None)
            all_rows += rows("search", *run_phase(search_user, app_port), bare_rate)
            all_rows += rows("new search", *run_phase(new_search_user, app_port), bare_rate)
            all_rows += rows("journey", *run_phase(journey_user, app_port), bare_rate)
        finally:
            for server in servers:
                server.terminate()
                server.wait(10)
    database = "PostgreSQL" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"\n{USERS} virtual users, {SECONDS:.0f} s per phase, gunicorn {WORKERS} workers, {database}, "
          f"{SERVICES} services, {os.cpu_count()} cores shared by client and server\n")
    print(table(all_rows))
    print()
    print("\n".join(verdict(all_rows)))
    if os.environ.get("LOADTEST_JSON"):
        Path(os.environ["LOADTEST_JSON"]).write_text(json.dumps(all_rows, indent=1))


if __name__ == "__main__":
    main()
