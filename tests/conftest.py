"""The world the tests run in: the real app on a real database (a SQLite file, or the PostgreSQL
named by TEST_DATABASE_URL), migrated with Alembic once per run and emptied after every test."""
import io
import os
import queue
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import NamedTuple

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, settings
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, event, text
from werkzeug.datastructures import FileStorage
from werkzeug.security import generate_password_hash

from marketplace import create_app, policy, uploads
from marketplace.config import ROOT
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    BankReceipt,
    Base,
    Category,
    Enterprise,
    Field,
    Instrument,
    Invoice,
    Material,
    Order,
    OrderItem,
    OrderStatus,
    Provider,
    Redemption,
    RedemptionStatus,
    Role,
    Service,
    ServiceStatus,
    ShopStatus,
    StoredFile,
    User,
    Voucher,
    VoucherApplication,
    china_today,
    utcnow,
)
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, readiness, settlement
from marketplace.validators import make_credit_code, make_id_number
from marketplace.vouchers import lifecycle as voucher_lifecycle

from .samples import pdf_bytes, png_bytes

# Hostile-input tests (tests/test_hostile_*.py): few examples per form, the same ones every run (CI time and
# strict xfails stay stable, no time spent shrinking a failure); HYPOTHESIS_PROFILE=deep explores more and
# shrinks. Examples share a test's function-scoped fixtures.
for name, examples in (("ci", 15), ("deep", 200)):
    settings.register_profile(name, max_examples=examples, deadline=None, derandomize=name == "ci", database=None,
                              phases=[Phase.explicit, Phase.generate] if name == "ci" else list(Phase),
                              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                                     HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PASSWORD = "correct-horse-42"
# One hash for every test user, made with few iterations: production's scrypt is deliberately slow, and
# check_password_hash() reads the method from the hash, so signing in stays real but quick.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def migrate(url: str) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["skip_logging"] = True
    command.upgrade(config, "head")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrate(url)
    return url


class CsrfClient(FlaskClient):
    """Each request runs in its own application context, as in production (its own `g` and database
    session, not the test's), and posts carry the CSRF token the page gave, as a browser's do
    (unless csrf=False)."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)  # read file responses whole, so no file handle stays open
        with self.application.app_context():
            return super().open(*args, **kwargs)

    def csrf_token(self) -> str:
        """The token any page of this session carries, made the way Flask-WTF makes it (session secret
        signed with the app's key) without rendering a page; the app still checks it on every POST."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().post(*args, **kwargs)


TEST_CONFIG = {"TESTING": True, "SECRET_KEY": "test-secret", "STRICT_TEMPLATES": True}
# Fixtures that add routes to the app: their tests get an app of their own (Flask refuses new routes on an
# app that has served requests).
ROUTE_ADDING_FIXTURES = {"shop_form", "transact_route", "boom_route"}


@pytest.fixture(scope="session")
def shared_app(database_url, tmp_path_factory):
    """One app for the run: building one (routes, compiled templates) costs more than most tests."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url,
                      "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("uploads"))})
    app.test_client_class = CsrfClient
    yield app, dict(app.config)
    with app.app_context():
        db.engine.dispose()  # close pooled connections now, not in a garbage collector's warning


@pytest.fixture
def app(request, shared_app, database_url, tmp_path):
    """The app with its configuration as created and uploads in this test's own folder; tables are emptied
    after the test."""
    if ROUTE_ADDING_FIXTURES & set(request.fixturenames):
        app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(tmp_path / "uploads")})
        app.test_client_class = CsrfClient
    else:
        app, config = shared_app
        app.config.clear()
        app.config.update(config, UPLOAD_FOLDER=str(tmp_path / "uploads"))
    with app.app_context():
        yield app
        db.session.remove()
        empty_all_tables(db.engine)
        if app is not shared_app[0]:
            db.engine.dispose()


def empty_all_tables(engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def client(app) -> CsrfClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Query(NamedTuple):
    statement: str
    parameters: tuple


class QueryLog(list[Query]):
    """The statements sent while queries_sent() recorded."""

    def listing(self) -> str:
        """Numbered, one a line, for a failure message: `assert len(sent) <= 9, sent.listing()` (pytest cuts a
        message that is not a string to 240 characters)."""
        lines = (f"{n:3}. {' '.join(query.statement.split())[:400]}" for n, query in enumerate(self, 1))
        return "\n".join([f"{len(self)} queries:", *lines])


@contextmanager
def queries_sent() -> Iterator[QueryLog]:
    """Every SQL statement the app sends on db.engine while the block runs, with its parameters' values (transaction
    control left out). One counter for every test that guards a query count, so an N+1 shows the same way anywhere."""
    sent = QueryLog()

    def record(_conn, _cursor, statement, parameters, *_args):
        if statement.split(" ", 1)[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK"):
            values = parameters.values() if isinstance(parameters, dict) else parameters or ()
            sent.append(Query(statement, tuple(values)))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


class Factory:
    """Builds users, organisations and listings straight in the database."""

    def __init__(self):
        self.serial = 0

    def _next(self) -> int:
        self.serial += 1
        return self.serial

    def user(self, role: str, status: str = AccountStatus.ACTIVE, **fields) -> User:
        n = self._next()
        user = User(email=f"{role}{n}@example.cn", phone=f"139{n:08d}", name=f"测试用户{n}",
                    password_hash=PASSWORD_HASH, role=role, status=status,
                    approved_at=utcnow() if status == AccountStatus.ACTIVE else None, **fields)
        db.session.add(user)
        db.session.flush()
        return user

    def enterprise(self, city: str = "南京", status: str = AccountStatus.ACTIVE) -> User:
        user = self.user(Role.ENTERPRISE, status)
        n = self._next()
        division = policy.CITY_DIVISION_CODES.get(city, "320000")  # registered where it says it is
        db.session.add(Enterprise(user=user, name=f"江苏测试科技有限公司{n}", city=city,
                                  credit_code=make_credit_code(f"91{division}MA{n:07d}"),
                                  legal_rep_name="张三", legal_rep_id_type="id_card",
                                  legal_rep_id_number=make_id_number(f"32010219800101{n % 1000:03d}")))
        db.session.commit()
        return user

    def provider(self, city: str = "徐州", status: str = AccountStatus.ACTIVE,
                 shop_status: str = ShopStatus.OPEN, name: str | None = None) -> User:
        user = self.user(Role.PROVIDER, status)
        n = self._next()
        db.session.add(Provider(user=user, name=name or f"测试检测中心{n}", city=city, district="云龙区",
                                credit_code=make_credit_code(f"12320300MB{n:07d}"), unit_type="university",
                                status=shop_status, opened_at=utcnow() if shop_status == ShopStatus.OPEN else None))
        db.session.commit()
        return user

    def reviewer(self) -> User:
        user = self.user(Role.REVIEWER)
        db.session.commit()
        return user

    def service(self, provider: Provider, name: str = "场发射扫描电镜形貌分析", price_fen: int | None = 40000,
                status: str = ServiceStatus.LISTED, **fields) -> Service:
        field = db.session.query(Field).filter_by(name="新材料").one_or_none() or Field(name="新材料", position=1)
        top = Category(name="微区分析", position=1)
        child = Category(name="微观形貌分析", parent=top, position=1)
        instrument = Instrument(provider=provider, name="场发射扫描电子显微镜", manufacturer="日立",
                                model="SU8010", original_value_fen=150_000_000)
        service = Service(provider=provider, nature="instrument_sharing", name=name, instrument=instrument,
                          description="利用场发射扫描电子显微镜对材料表面进行高分辨率微观形貌观察与分析，并出具报告。",
                          cycle="7-10个自然日", category=child, price_fen=price_fen, status=status,
                          published_at=utcnow() if status == ServiceStatus.LISTED else None, fields=[field],
                          **fields)
        db.session.add(service)
        db.session.commit()
        return service


    def stored_pdf(self, owner: User, name: str = "材料.pdf") -> StoredFile:
        """A real PDF saved through the upload pipeline, owned by `owner`."""
        stored = uploads.save(FileStorage(io.BytesIO(pdf_bytes()), filename=name, content_type="application/pdf"),
                              accept=(uploads.PDF,), owner_id=owner.id)
        db.session.commit()
        return stored

    def stored_png(self, owner: User, name: str = "回单.png") -> StoredFile:
        stored = uploads.save(FileStorage(io.BytesIO(png_bytes()), filename=name, content_type="image/png"),
                              accept=(uploads.IMAGE,), owner_id=owner.id)
        db.session.commit()
        return stored

    def voucher(self, user: User) -> Voucher:
        """This year's voucher of `user`'s enterprise, issued through the real approval."""
        application = self.voucher_application(user, status=ApplicationStatus.SUBMITTED)
        voucher = voucher_lifecycle.approve(application, self.reviewer().id)
        db.session.commit()
        return voucher

    def claim(self, buyer: User, order: Order | None = None, status: str = RedemptionStatus.SUBMITTED,
              amount_fen: int = 1_000_000, invoice_number: str | None = None) -> Redemption:
        """A complete online claim of `buyer` (who needs this year's voucher: see voucher()) on `order` (default: a
        new in-service voucher order from a new provider): real stored files for every material, one invoice and
        one receipt of `amount_fen`, contract amount `amount_fen`; the default order is priced at `amount_fen` and
        its provider confirms that as the 实际服务金额 (an order given in service without a confirmed amount is
        finished at its quote). Driven through the claims module to `status` (draft, submitted, correction,
        approved, publicity, awaiting_payment, paid, rejected)."""
        if order is None:
            provider = self.provider()
            order = self.order(buyer, self.service(provider.provider, price_fen=amount_fen))
            order_lifecycle.act(order, "accept", provider)
        if order.status == OrderStatus.IN_SERVICE and order.final_amount_fen is None:
            order_lifecycle.act(order, "finish", order.provider.user, amount_fen=order.quote_fen or amount_fen,
                                reason="" if order.quote_fen else "按合同结算")
        db.session.commit()
        claim = claims.start_online(order, buyer)
        claim.contract_amount_fen = amount_fen
        for kind in ("contract", "report", "rnd_proof"):
            claim.materials.append(Material(kind=kind, file_id=self.stored_pdf(buyer, f"{kind}.pdf").id))
        claim.invoices.append(Invoice(number=invoice_number or f"2632{order.id:08d}{self._next():08d}",
                                      amount_fen=amount_fen, file_id=self.stored_png(buyer, "发票.png").id))
        claim.receipts.append(BankReceipt(amount_fen=amount_fen, file_id=self.stored_png(buyer).id))
        readiness.refresh_amounts(claim)
        db.session.commit()
        self.advance(claim, status, buyer)
        return claim

    def advance(self, claim: Redemption, status: str, buyer: User) -> None:
        """Move a draft claim on to `status` the way the enterprise and the reviewer would."""
        R = RedemptionStatus
        path = [R.DRAFT, R.SUBMITTED, R.APPROVED, R.PUBLICITY, R.AWAITING_PAYMENT, R.PAID]
        if status in (R.CORRECTION, R.REJECTED):
            path = [R.DRAFT, R.SUBMITTED, status]
        reviewer = None
        for step in path[1:path.index(status) + 1]:
            reviewer = reviewer or self.reviewer()
            if step == R.SUBMITTED:
                claims.submit(claim, buyer, readiness.DECLARATIONS)
            elif step == R.CORRECTION:
                claims.request_corrections(claim, reviewer, "请补充盖章合同", {claim.materials[0]: "合同缺少盖章页"})
            elif step == R.REJECTED:
                claims.reject(claim, reviewer, "服务内容不属于支持范围")
            elif step == R.APPROVED:
                claims.approve(claim, reviewer, claim.requested_fen)
            elif step == R.PUBLICITY:
                settlement.publish([claim], reviewer, days=5)
            elif step == R.AWAITING_PAYMENT:
                settlement.close_publicity(today=china_today() + timedelta(days=6), claims=[claim])
            elif step == R.PAID:
                settlement.pay([claim], reviewer, china_today(), "PAY-TEST-001")
            db.session.commit()

    def voucher_application(self, user: User, status: str = ApplicationStatus.DRAFT, year: int | None = None,
                            stamped: bool = True, **fields) -> VoucherApplication:
        """A complete 科小 application of `user`'s enterprise for this year (or `year`): files uploaded,
        phone verified; `status` other than draft also sets submitted_at."""
        enterprise = user.enterprise
        data = dict(
            unit_name=enterprise.name, credit_code=enterprise.credit_code, founded_on=date(2018, 5, 20),
            email=user.email, identity="kexiao", kexiao_number=f"2026320100{enterprise.id:06d}", employees=56,
            phone="025-83792000", legal_rep_name="张三", legal_rep_mobile="13912345678",
            legal_rep_id_type="id_card", legal_rep_id_number=enterprise.legal_rep_id_number,
            contact_name="李四", contact_phone="13812345678", contact_phone_verified_at=utcnow(),
            registered_province="江苏省", registered_city=enterprise.city, registered_district="玄武区",
            postal_province="江苏省", postal_city=enterprise.city, postal_district="玄武区",
            postal_detail="珠江路88号", in_hightech_zone=True, hightech_zone_name="南京高新技术产业开发区",
            industry="软件和信息技术服务业", product_field="电子信息", supervising_department="南京市科学技术局",
            revenue_fen=2_345 * 1_000_000, bank_account_name=enterprise.name, bank_name="中国银行南京分行",
            bank_account_number="6217000012345678901",
            business_licence_file_id=self.stored_png(user, "营业执照.png").id,
            financial_statement_file_id=self.stored_pdf(user, "财务报表.pdf").id,
            stamped_sheet_file_id=self.stored_pdf(user, "信息表盖章.pdf").id if stamped else None,
        )
        data.update(fields)
        application = VoucherApplication(enterprise_id=enterprise.id, year=year or china_today().year,
                                         status=status, **data)
        if status != ApplicationStatus.DRAFT:
            application.submitted_at = utcnow()
        db.session.add(application)
        db.session.commit()
        return application


    def order(self, buyer: User, service: Service, status: str | None = None, quantity: int = 1,
              is_voucher: bool | None = None, order_no: str | None = None, **fields) -> Order:
        """An order of `buyer` for one `service`, placed through the lifecycle (timeline and audit written,
        自动接单 applied), then set straight to `status` if one is given."""
        n = self._next()
        voucher = service.voucher_eligible and buyer.role == Role.ENTERPRISE if is_voucher is None else is_voucher
        quote = None if service.price_fen is None else service.price_fen * quantity
        values = dict(order_no=order_no or f"{'CXQ' if voucher else 'ORD'}{china_today():%Y%m%d}{n:04d}",
                      buyer_id=buyer.id, enterprise_id=buyer.enterprise.id if buyer.enterprise else None,
                      provider_id=service.provider_id, is_voucher=voucher, contact_name="李四",
                      contact_phone="13812345678", quote_fen=quote, estimated_voucher_fen=0, note="",
                      items=[OrderItem(service_id=service.id, service_name=service.name,
                                       unit_price_fen=service.price_fen, price_unit=service.price_unit,
                                       quantity=quantity)])
        order = Order(**{**values, **fields})
        db.session.add(order)
        db.session.flush()
        order_lifecycle.place(order, buyer)
        if status is not None:
            order.status = status
        db.session.commit()
        return order


@pytest.fixture
def make(app) -> Factory:
    return Factory()


@pytest.fixture
def enterprise(make) -> User:
    return make.enterprise()


@pytest.fixture
def provider(make) -> User:
    return make.provider()


@pytest.fixture
def reviewer(make) -> User:
    return make.reviewer()


@pytest.fixture
def individual(make) -> User:
    user = make.user(Role.INDIVIDUAL)
    db.session.commit()
    return user


@pytest.fixture
def listed_service(make, provider) -> Service:
    return make.service(provider.provider)


@pytest.fixture
def reference(app) -> dict[str, int]:
    """Two fields and part of the category tree, one category excluded from the voucher."""
    materials, chips = Field(name="新材料", position=1), Field(name="半导体", position=2)
    micro = Category(name="微区分析", position=1)
    morphology = Category(name="微观形貌分析", parent=micro, position=1)
    testing = Category(name="技术检测测试", position=2)
    commercial = Category(name="商品批量检验", parent=testing, position=1, voucher_excluded=True)
    db.session.add_all([materials, chips, micro, morphology, testing, commercial])
    db.session.commit()
    return {"field": materials.id, "field2": chips.id, "category": morphology.id, "parent": micro.id,
            "excluded": commercial.id}


class Auth:
    def __init__(self, client: CsrfClient):
        self.client = client

    def login(self, user_or_email, password: str = PASSWORD, **kwargs):
        email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
        return self.client.post("/auth/login", data={"email": email, "password": password, **kwargs})

    def logout(self):
        """Logout writes (it ends every session of the account), so the test's own read transaction ends first:
        SQLite refuses a later write from a snapshot older than a commit."""
        db.session.commit()
        return self.client.post("/auth/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


# Everyone but an approved reviewer, and how /admin answers them: to the login page, or 403.
NOT_REVIEWERS = [("anonymous", 302), ("enterprise", 403), ("provider", 403), ("individual", 403),
                 ("pending_reviewer", 403)]


def sign_in_as(auth: Auth, make: Factory, who: str) -> None:
    """Sign in as one of the roles access tests parametrize over (anything unknown stays anonymous):
    enterprise, individual, reviewer, provider, or a pending (not yet approved) provider/reviewer."""
    if who == "anonymous":
        return
    if who.startswith("pending_"):
        user = make.user(who.removeprefix("pending_"), status=AccountStatus.PENDING)
        if user.role == Role.PROVIDER:
            user = make.provider(status=AccountStatus.PENDING)
    elif who in (Role.INDIVIDUAL, Role.REVIEWER):
        user = make.user(who)
    else:
        user = getattr(make, who)()
    db.session.commit()
    auth.login(user)


def fresh(model, key):
    """`model` row `key` as the database has it now (requests ran in sessions of their own)."""
    db.session.commit()
    db.session.expire_all()
    return db.session.get(model, key)


def run_at_once(app, work, threads: int) -> list[Exception]:
    """Run `work()` in `threads` threads released together, each in its own app context (its own database
    session and connection, as requests in other workers have); returns what they raised unexpectedly."""
    start, failures = threading.Barrier(threads), []

    def run():
        with app.app_context():
            try:
                start.wait()
                work()
            except Exception as error:  # a thread's exception would otherwise vanish
                failures.append(error)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return failures


def signed_in_cookie(app, user) -> str:
    """The session cookie of `user` signed in through the real form."""
    client = app.test_client()
    assert client.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code == 303
    return client.get_cookie("session").value


def posted_at_once(app, requests: list[tuple[object, str, dict]]) -> list[tuple[int, str]]:
    """Post every (user, path, data) at the same moment, each from a client of its own (its own session and
    database connection); (status, Location) of each answer."""
    cookies = {user.id: signed_in_cookie(app, user) for user, _, _ in requests}
    waiting, answers = queue.SimpleQueue(), []
    for request in requests:
        waiting.put(request)

    def post():
        user, path, data = waiting.get()
        client = app.test_client()
        client.set_cookie("session", cookies[user.id])
        response = client.post(path, data=data)
        answers.append((response.status_code, response.location or ""))

    assert run_at_once(app, post, len(requests)) == []
    db.session.commit()
    db.session.expire_all()
    return answers
