"""Crash safety: the server process is killed (SIGKILL) at random moments while it submits a claim and while it
checks out a cart, and every time the database is left consistent — the claim fully submitted or still a draft,
each voucher's reservation equal to the claims holding one, no order without items, the cart emptied only with
its orders placed — and every stored file a row names is on disk.

The app runs under gunicorn with --preload and one sync worker: the worker serving the request is killed and
the master forks a fresh one at once, so ten kills cost a fraction of ten cold starts. There are no test hooks
in the app: "mid-request" comes from killing at random moments between sending the request and a little after
the time an uninterrupted one takes on this machine (measured first), the page viewed just before, as a user
would, so the fresh worker's first-request warm-up does not swallow the window."""
import html
import http.client
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace import uploads
from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import AuditLog, Cart, CartLine, Order, OrderItem, OrderStatus, Redemption, StoredFile, Voucher
from marketplace.redemption import readiness

from .conftest import PASSWORD
from .test_checkout import filled

KILLS = 10
LATE_KILL_FACTOR = 1.5
READY_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`gunicorn app:app` on a loopback port, on the test's database and upload folder."""

    def __init__(self, database_url: str, upload_folder: str, log: Path):
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "UPLOAD_FOLDER": upload_folder,
               "SECRET_KEY": "crash-test-secret"}
        env.pop("APP_ENV", None)
        self.log = log.open("w")
        self.master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--preload", "--workers", "1", "--bind", f"127.0.0.1:{self.port}",
             "--timeout", "60", "app:app"], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def worker(self) -> int | None:
        """The pid of the master's worker process (the one serving requests), if it has one."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.master.pid and fields[0] != "Z":
                return int(stat.parent.name)
        return None

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            assert self.master.poll() is None, "gunicorn exited; see its log"
            try:
                if Browser(self.port).get("/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail("the server did not come up")

    def kill_worker(self) -> None:
        worker = self.worker()
        os.kill(worker, signal.SIGKILL)
        while self.worker() == worker:
            time.sleep(0.01)
        self.wait_ready()

    def stop(self) -> None:
        self.master.send_signal(signal.SIGINT)  # quick shutdown: nothing is in flight
        try:
            self.master.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.master.kill()
            self.master.wait()
        self.log.close()


class Browser:
    """A signed-in visitor over real HTTP: keeps the session cookie and sends the CSRF token."""

    def __init__(self, port: int):
        self.port, self.cookies, self.token = port, {}, ""

    def _open(self, method: str, path: str, data=None) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "X-CSRFToken": self.token}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body, headers)
        return connection

    def _answer(self, connection) -> http.client.HTTPResponse:
        response = connection.getresponse()
        response.text = response.read().decode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        connection.close()
        return response

    def get(self, path: str) -> http.client.HTTPResponse:
        return self._answer(self._open("GET", path))

    def post(self, path: str, data) -> http.client.HTTPResponse:
        return self._answer(self._open("POST", path, data))

    def login(self, user) -> None:
        self.take_token(self.get("/auth/login").text)
        assert self.post("/auth/login", {"email": user.email, "password": PASSWORD}).status == 303
        self.take_token(self.get("/").text)  # the session may be new after signing in

    def take_token(self, page: str) -> None:
        """The CSRF token every page carries for htmx (base.html: hx-headers, or a csrf-token meta tag)."""
        found = re.search(r'(?:"X-CSRFToken": "|name="csrf-token" content=")([^"]+)"', html.unescape(page))
        self.token = found.group(1)

    def post_and_kill(self, server: Server, path: str, data, delay: float) -> None:
        """Send the whole request, wait `delay` seconds, kill the worker whatever it is doing."""
        connection = self._open("POST", path, data)
        time.sleep(delay)
        server.kill_worker()
        connection.close()


@pytest.fixture
def server(app, database_url, tmp_path):
    db.session.commit()  # nothing of the test's may hold a lock the server waits for
    running = Server(database_url, app.config["UPLOAD_FOLDER"], tmp_path / "gunicorn.log")
    yield running
    running.stop()


def kill_delays(request_seconds: float) -> list[float]:
    """Moments to kill at, spread from "just sent" to a bit after the request would have finished."""
    spread = random.Random(os.environ.get("CRASH_SEED", "8"))
    return [spread.uniform(0, LATE_KILL_FACTOR * request_seconds) for _ in range(KILLS)]


def timed_post(browser: "Browser", path: str, data) -> float:
    started = time.perf_counter()
    browser.post(path, data)
    return time.perf_counter() - started


def fresh() -> None:
    db.session.commit()
    db.session.expire_all()


def assert_database_consistent() -> None:
    """The invariants any crash must leave intact, over the whole database."""
    fresh()
    holding = {}
    for claim in db.session.scalars(select(Redemption)):
        if claim.status in readiness.HOLDS_RESERVATION:
            holding[claim.voucher_id] = holding.get(claim.voucher_id, 0) + claim.requested_fen
    for voucher in db.session.scalars(select(Voucher)):
        assert voucher.reserved_fen == holding.get(voucher.id, 0), f"voucher {voucher.id}: orphan reservation"
    assert not db.session.scalars(select(Order.order_no).where(~select(OrderItem.id).where(
        OrderItem.order_id == Order.id).exists())).all(), "an order without items"
    for stored in db.session.scalars(select(StoredFile)):
        assert uploads.path_of(stored).is_file(), f"stored file {stored.id} missing on disk"


def submissions(claim: Redemption) -> int:
    return db.session.scalar(select(func.count(AuditLog.id)).where(
        AuditLog.object_type == "redemption", AuditLog.object_id == str(claim.id), AuditLog.action == "submit"))


def assert_claim_whole(claim: Redemption, order_status_before: str) -> bool:
    """The claim is either fully submitted or untouched; True if submitted."""
    fresh()
    claim = db.session.get(Redemption, claim.id)
    if claim.status == "draft":
        assert claim.requested_fen in (0, None) or claim.submitted_at is None
        assert submissions(claim) == 0 and claim.order.status == order_status_before
        return False
    assert claim.status == "submitted" and claim.submitted_at is not None and claim.requested_fen > 0
    assert submissions(claim) == 1 and claim.order.status == OrderStatus.REVIEWING
    return True


def test_killing_the_server_during_claim_submission_leaves_no_half_claim(server, make, enterprise):
    make.voucher(enterprise)
    drafts = [make.claim(enterprise, status="draft", amount_fen=200_000) for _ in range(KILLS + 1)]
    order_status = drafts[0].order.status
    browser = Browser(server.port)
    browser.login(enterprise)

    def submit(claim):
        browser.get(f"/me/redemptions/{claim.id}")
        return f"/me/redemptions/{claim.id}/submit", {"contract_amount": "2000",
                                                       "declarations": list(readiness.DECLARATIONS)}

    uninterrupted = timed_post(browser, *submit(drafts[0]))
    assert assert_claim_whole(drafts[0], order_status), "an uninterrupted submission submits"
    outcomes = []
    for claim, delay in zip(drafts[1:], kill_delays(uninterrupted), strict=True):
        browser.post_and_kill(server, *submit(claim), delay)
        assert_database_consistent()
        outcomes.append(assert_claim_whole(claim, order_status))
    print(f"claims submitted when killed: {outcomes.count(True)} of {len(outcomes)} ({uninterrupted:.3f}s)")


def fill_cart(buyer, services) -> None:
    cart = db.session.scalar(select(Cart).where(Cart.user_id == buyer.id)) or Cart(user_id=buyer.id)
    db.session.add(cart)
    if not cart.lines:
        cart.lines = [CartLine(service_id=service.id, quantity=2) for service in services]
    db.session.commit()


def assert_checkout_whole(buyer, orders_before: int, lines: int) -> int:
    """The cart is still full and no order was added, or it is empty and one order per provider was added."""
    fresh()
    orders = db.session.scalar(select(func.count(Order.id)).where(Order.buyer_id == buyer.id))
    in_cart = db.session.scalar(select(func.count(CartLine.id)).join(Cart).where(Cart.user_id == buyer.id))
    assert (orders, in_cart) in ((orders_before, lines), (orders_before + lines, 0)), "a half checkout"
    return orders


def test_killing_the_server_during_checkout_leaves_no_order_without_items(server, make, enterprise):
    make.voucher(enterprise)
    services = [make.service(make.provider().provider, name=f"拉伸试验{n}", price_fen=25_000) for n in range(2)]
    browser = Browser(server.port)
    browser.login(enterprise)

    def checkout():
        fill_cart(enterprise, services)
        return "/checkout", filled(browser.get("/checkout").text)

    uninterrupted = timed_post(browser, *checkout())
    orders = assert_checkout_whole(enterprise, 0, len(services))
    assert orders == len(services), "an uninterrupted checkout places the orders"
    placed = []
    for delay in kill_delays(uninterrupted):
        browser.post_and_kill(server, *checkout(), delay)
        assert_database_consistent()
        before, orders = orders, assert_checkout_whole(enterprise, orders, len(services))
        placed.append(orders > before)
    print(f"checkouts placed when killed: {placed.count(True)} of {len(placed)} ({uninterrupted:.3f}s)")
