"""One small marketplace with two mirrored sides, for tests that ask every route "who may see this?".

Side "own" is enterprise A buying from provider X, side "other" is enterprise B buying from provider Y; each
side has the same objects (voucher, orders, claims, cart line, complaint, objection, message, files...), so a
route's URL can be built for either side's object and each role's answer compared. Around them: an individual
buyer, a removed provider, a reviewer and the reference data /admin edits.

Building it takes a good part of a second, far too slow for each of the matrix's ~2,000 cases, so one World
is kept for a whole test module (WorldKeeper) and rebuilt only after a request that may have changed it."""
import functools
from dataclasses import dataclass, field
from types import SimpleNamespace

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts import sessions
from marketplace.extensions import db
from marketplace.models import (
    Base,
    Cart,
    CartLine,
    Complaint,
    Message,
    NonEligibleKind,
    Order,
    Redemption,
    RedemptionStatus,
    Role,
    Service,
    ShopStatus,
    StoredFile,
    User,
    Voucher,
)
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, settlement

from .conftest import CsrfClient, Factory, empty_all_tables


@functools.cache
def url_rules() -> tuple:
    """Every rule of the app's URL map, read at collection time (the test app exists only once tests run) from
    an app made for the purpose; it serves no request."""
    from marketplace import create_app
    app = create_app({"TESTING": True, "SECRET_KEY": "collecting-routes", "DATABASE_URL": "sqlite://"})
    return tuple(app.url_map.iter_rules())


ROLES = ("anonymous", "enterprise_a", "enterprise_b", "individual", "provider_x", "provider_y",
         "removed_provider", "reviewer")
SIDES = ("own", "other")
OFFLINE_PROVIDER_CODE = "123200004660000004"  # the offline claims' provider, a unit with no shop here


@dataclass
class Side:
    """One buyer–seller pair and everything routes take an id of. `paid_claim` went all the way (so it has
    publicity and payment batches); `publicity_claim` is in publicity with an open objection; `offline_claim`
    is an offline draft whose first step was begun (it names its provider's credit code, nothing more)."""
    enterprise: User
    provider: User
    voucher: Voucher
    service: Service
    order: Order
    paid_claim: Redemption
    publicity_claim: Redemption
    offline_claim: Redemption
    cart_line: CartLine
    complaint: Complaint
    objection_id: int
    private_file: StoredFile

    @property
    def instrument(self):
        return self.service.instrument

    @property
    def invoice(self):
        return self.paid_claim.invoices[0]

    @property
    def material(self):
        return self.paid_claim.materials[0]


@dataclass
class World:
    sides: dict[str, Side]
    individual: User
    removed_provider: User
    reviewer: User
    kind: NonEligibleKind
    removed_shop: SimpleNamespace   # the removed provider's own service, instrument and order (a Side's names)
    users: dict[str, User] = field(default_factory=dict)

    def side(self, name: str) -> Side:
        return self.sides[name]

    @property
    def category(self):
        return self.sides["own"].service.category

    @property
    def field(self):
        return self.sides["own"].service.fields[0]


def build_world() -> World:
    make = Factory()
    sides = {"own": _side(make, city="南京", provider_city="徐州"),
             "other": _side(make, city="苏州", provider_city="无锡")}
    individual = make.user(Role.INDIVIDUAL)
    db.session.add(Cart(user_id=individual.id, lines=[CartLine(service_id=sides["own"].service.id, quantity=1)]))
    removed = make.provider()
    removed_service = make.service(removed.provider, name="已移除单位的服务")
    removed_order = _accepted_order(make, individual, removed_service)  # taken before the provider was removed
    removed.provider.status = ShopStatus.REMOVED
    reviewer = make.reviewer()
    kind = NonEligibleKind(name="常规检验", keywords="CCC", position=1)
    db.session.add(kind)
    db.session.commit()
    world = World(sides=sides, individual=individual, removed_provider=removed, reviewer=reviewer, kind=kind,
                  removed_shop=SimpleNamespace(service=removed_service, instrument=removed_service.instrument,
                                               order=removed_order))
    world.users = {"enterprise_a": sides["own"].enterprise, "enterprise_b": sides["other"].enterprise,
                   "individual": individual, "provider_x": sides["own"].provider,
                   "provider_y": sides["other"].provider, "removed_provider": removed, "reviewer": reviewer}
    return world


def _side(make: Factory, city: str, provider_city: str) -> Side:
    enterprise = make.enterprise(city=city)
    voucher = make.voucher(enterprise)
    provider = make.provider(city=provider_city)
    service = make.service(provider.provider)
    paid = make.claim(enterprise, order=_accepted_order(make, enterprise, service), status=RedemptionStatus.PAID)
    in_publicity = make.claim(enterprise, order=_accepted_order(make, enterprise, service),
                              status=RedemptionStatus.PUBLICITY)
    objection = settlement.lodge_objection(in_publicity, make.reviewer(), "公示期内收到的异议")
    offline = claims.start_offline(enterprise, OFFLINE_PROVIDER_CODE)
    order = paid.order
    complaint = Complaint(order_id=order.id, provider_id=provider.provider.id, user_id=enterprise.id,
                          reason="服务周期超过约定")
    db.session.add_all([complaint, Message(order_id=order.id, sender_id=enterprise.id, body="请问何时出报告？")])
    cart = Cart(user_id=enterprise.id, lines=[CartLine(service_id=service.id, quantity=1)])
    db.session.add(cart)
    db.session.commit()
    return Side(enterprise=enterprise, provider=provider, voucher=voucher, service=service, order=order,
                paid_claim=paid, publicity_claim=in_publicity, offline_claim=offline, cart_line=cart.lines[0],
                complaint=complaint,
                objection_id=objection.id, private_file=paid.invoices[0].file)


def _accepted_order(make: Factory, buyer: User, service: Service) -> Order:
    order = make.order(buyer, service)
    order_lifecycle.act(order, "accept", service.provider.user)
    db.session.commit()
    return order


def fingerprint() -> tuple[int, ...]:
    """The row count of every table, in one query: a request that adds or deletes anything changes it (and
    state moves add an audit row). Read in a transaction of its own: one left open would keep seeing the
    database as it was before the request."""
    db.session.commit()
    counts = [select(func.count()).select_from(table).scalar_subquery() for table in Base.metadata.sorted_tables]
    rows = tuple(db.session.execute(select(*counts)).one())
    db.session.commit()
    return rows


class WorldKeeper:
    """The module's one World and a signed-in client per role. A test whose request changed the world (see
    fingerprint()) calls spoil(); the next test then gets a new world (tables emptied, built again) and new
    clients."""

    def __init__(self, app: Flask):
        self.app = app
        self.world: World | None = None
        self.clients: dict[str, CsrfClient] = {}

    def current(self) -> World:
        if self.world is None:
            db.session.remove()
            empty_all_tables(db.engine)
            self.world = build_world()
            self.clients = {}
        return self.world

    def spoil(self) -> None:
        self.world = None

    def forget_client(self, role: str) -> None:
        """Sign `role` in again next time (its session may have ended, e.g. by 退出登录)."""
        self.clients.pop(role, None)

    def client(self, role: str) -> CsrfClient:
        """A client signed in as `role` (anonymous: signed out), made once per world. It signs in by putting
        the user in its session, as Flask-Login's login_user does: the login form is tested elsewhere, and
        thousands of sign-ins would only add time (and meet the login rate limits)."""
        if role not in self.clients:
            client = self.app.test_client()
            if role != "anonymous":
                user = self.current().users[role]
                user.sign_in_nonce = sessions.new_nonce()
                with client.session_transaction() as session:
                    session["_user_id"] = user.get_id()
                    session["_fresh"] = True
            self.clients[role] = client
        return self.clients[role]

