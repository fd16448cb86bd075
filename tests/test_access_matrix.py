"""SPEC 9: every route answers every role as declared in one table, for an object of the role's own side and
for one of the other side (tests/world.py: enterprise A and provider X own side "own", B and Y side "other").

The table lists each endpoint once: the kind of rule that guards it (who may use it, and what the others get)
and how to build its URL for a side's object. A route missing from the table fails
test_every_route_is_in_the_table, so a new route cannot go unchecked.

GET routes are fetched; POST-only routes are posted with a valid CSRF token and (almost) no data: a refused
role must get its refusal and change nothing, an allowed role must not be refused (401/403/404) nor crash (500);
what it gets instead (422, 409, 400, 303, 200) is each route's own tests' business. Routes taking both GET and
POST are posted to as well (test_the_post_side_…), expecting the same answers."""
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import china_today

from .conftest import empty_all_tables
from .world import ROLES, SIDES, WorldKeeper, fingerprint, url_rules

OK = "ok"            # the role may use the route
LOGIN = "login"      # 302 to the login page


@dataclass(frozen=True)
class Mine:
    """`on_own` for an object of the role's own side; 404 on the other side's, as if it did not exist."""
    on_own: object = OK


MINE = Mine()
REFUSED_STATUSES = {401, 403, 404, 500}

_PROVIDERS = ("provider_x", "provider_y", "removed_provider")
_ENTERPRISES = ("enterprise_a", "enterprise_b")


def kind(default, **answers) -> dict:
    """The answer of every role: `default` unless named (anonymous defaults to LOGIN)."""
    table = {role: default for role in ROLES} | {"anonymous": LOGIN}
    for roles, answer in answers.items():
        for role in _GROUPS.get(roles, (roles,)):
            table[role] = answer
    return table


_GROUPS = {"enterprises": _ENTERPRISES, "providers": _PROVIDERS, "sellers": ("provider_x", "provider_y")}

PUBLIC = kind(OK, anonymous=OK)
GUEST = kind(302, anonymous=OK)                       # signed-in users are sent to their workbench
SIGNED_IN = kind(OK)
ENTERPRISE = kind(403, enterprises=OK)
BUYER = kind(403, enterprises=OK, individual=OK, providers=OK)   # a provider buys too (非创新券订单 only)
CHECKOUT = kind(403, enterprises=OK, individual=OK, providers=303)  # the world's providers' carts are empty: to /cart
PROVIDER = kind(403, providers=OK)                    # a removed provider keeps read access
PROVIDER_WRITE = kind(403, sellers=OK)
REVIEWER = kind(403, reviewer=OK)
ENTERPRISE_OWN = kind(403, enterprises=MINE)           # roles_required("enterprise") + the enterprise's object
BUYER_OWN = kind(404, enterprises=MINE)                # any signed-in user; not the buyer's: 404
CART_LINE = kind(403, enterprises=MINE, individual=404, providers=404)
PROVIDER_OWN = kind(403, sellers=MINE, removed_provider=404)
PROVIDER_OWN_WRITE = kind(403, sellers=MINE)           # removed provider: 403 before the object is looked up
ORDER_PARTY = kind(404, enterprises=MINE, sellers=MINE, reviewer=OK)   # the two sides of an order, reviewers read
ORDER_PARTY_WRITE = kind(404, enterprises=MINE, sellers=MINE, reviewer=403)
ORDER_BUYER = kind(404, enterprises=MINE, sellers=Mine(403), reviewer=403)   # the order's seller may not
PRIVATE_FILE = kind(404, anonymous=404, enterprises=MINE, sellers=MINE, reviewer=OK)


@dataclass(frozen=True)
class Route:
    """`rule`: who gets what; `args(side, world)`: the URL's values for that side's object (`sided=False`: the
    object belongs to no side, e.g. reference data, and the route is tried once); `ok`: an allowed role's
    status on GET; `data`: the minimal form a POST needs to reach its access check."""
    rule: dict
    args: Callable | None = None
    sided: bool = True
    ok: int = 200
    data: Callable | None = None


def of(attr_path: str, key: str) -> Callable:
    """args for a side's object: of("order.order_no", "order_no") → {"order_no": side.order.order_no}."""
    def args(side, _world):
        value = side
        for attr in attr_path.split("."):
            value = getattr(value, attr)
        return {key: value}
    return args


def fixed(**values) -> Callable:
    return lambda _side, world: {key: value(world) if callable(value) else value for key, value in values.items()}


ORDER = of("order.order_no", "order_no")
CLAIM = of("paid_claim.id", "claim_id")
OFFLINE = of("offline_claim.id", "claim_id")
SERVICE = of("service.id", "service_id")
INSTRUMENT = of("instrument.id", "instrument_id")
SHOP = of("provider.provider.id", "provider_id")
APPLICATION = of("voucher.application_id", "application_id")
YEAR = fixed(year=lambda _w: china_today().year)
CITY = fixed(city="南京")
CATEGORY = fixed(item_id=lambda w: w.category.id)
FIELD = fixed(item_id=lambda w: w.field.id)
KIND = fixed(kind_id=lambda w: w.kind.id)


def item(section: str, attr: str) -> Callable:
    return lambda side, _world: {"claim_id": side.paid_claim.id, "section": section,
                                 "item_id": getattr(side, attr).id}


def reviewer(args=None, **options) -> Route:
    return Route(REVIEWER, args, **options)


def world_object(rule, args, **options) -> Route:
    return Route(rule, args, sided=False, **options)


TABLE: dict[str, Route] = {
    # ---- public pages and the open API
    "catalog.home": Route(PUBLIC),
    "catalog.services": Route(PUBLIC),
    "catalog.service_detail": Route(PUBLIC, SERVICE),
    "catalog.service_estimate": Route(PUBLIC, SERVICE, ok=302),   # no htmx: back to the detail page
    "catalog.shop": Route(PUBLIC, SHOP),
    "catalog.instrument": Route(PUBLIC, INSTRUMENT),
    "catalog.local": world_object(PUBLIC, CITY),
    "pages.policy": Route(PUBLIC),
    "pages.policy_calculate": Route(PUBLIC, ok=302),
    "pages.publicity": Route(PUBLIC),
    "pages.object_to_claim": Route(SIGNED_IN, of("publicity_claim.id", "claim_id")),
    "api.services": Route(PUBLIC),
    "api.publicity": Route(PUBLIC),
    "health.healthz": Route(PUBLIC),
    "files.serve": Route(PRIVATE_FILE, of("private_file.id", "file_id")),
    # ---- accounts
    "accounts.login": Route(PUBLIC),
    "accounts.register": Route(GUEST),
    "accounts.logout": Route(PUBLIC),
    "accounts.password": Route(SIGNED_IN),
    "accounts.end_all_sessions": Route(SIGNED_IN),
    # ---- the buyer's side
    "workbench.home": Route(SIGNED_IN),
    "orders.cart": Route(BUYER),
    "orders.cart_add": Route(BUYER, data=lambda side, _w: {"service_id": side.service.id}),
    "orders.cart_quantity": Route(CART_LINE, of("cart_line.id", "line_id")),
    "orders.cart_remove": Route(CART_LINE, of("cart_line.id", "line_id")),
    "orders.checkout": Route(CHECKOUT),
    "orders.checkout_estimate": Route(BUYER),
    "orders.my_orders": Route(SIGNED_IN),
    "orders.my_order": Route(BUYER_OWN, ORDER),
    "orders.withdraw": Route(BUYER_OWN, ORDER),
    "orders.cancellation": Route(BUYER_OWN, lambda side, _w: {"order_no": side.order.order_no,
                                                              "action": "request_cancel"}),
    "orders.messages": Route(ORDER_PARTY, ORDER),
    "orders.send_message": Route(ORDER_PARTY_WRITE, ORDER),
    "orders.rate": Route(ORDER_BUYER, ORDER),
    "orders.complain": Route(ORDER_BUYER, ORDER),
    "vouchers.index": Route(ENTERPRISE),
    "vouchers.detail": world_object(ENTERPRISE, YEAR),
    "vouchers.history": world_object(ENTERPRISE, YEAR),
    "vouchers.sheet": world_object(ENTERPRISE, YEAR),
    "vouchers.apply": Route(ENTERPRISE, ok=302),   # this year's application is decided: to its page
    "vouchers.check_field": world_object(ENTERPRISE, fixed(name="credit_code")),
    "vouchers.send_code": Route(ENTERPRISE),
    "vouchers.submit": Route(ENTERPRISE),
    "redemption.start": Route(BUYER_OWN, ORDER),
    "redemption.order_claim": Route(BUYER_OWN, ORDER),
    "redemption.claim": Route(BUYER_OWN, CLAIM),
    "redemption.add_materials": Route(BUYER_OWN, CLAIM),
    "redemption.delete_material": Route(BUYER_OWN, lambda side, _w: {"claim_id": side.paid_claim.id,
                                                                      "material_id": side.material.id}),
    "redemption.add_item": Route(BUYER_OWN, lambda side, _w: {"claim_id": side.paid_claim.id, "section": "invoices"}),
    "redemption.edit_item": Route(BUYER_OWN, item("invoices", "invoice")),
    "redemption.delete_item": Route(BUYER_OWN, item("invoices", "invoice")),
    "redemption.save": Route(BUYER_OWN, CLAIM),
    "redemption.submit": Route(BUYER_OWN, CLAIM),
    "redemption.offline_list": Route(ENTERPRISE),
    "redemption.offline_new": Route(ENTERPRISE),
    "redemption.offline_first_step": Route(ENTERPRISE),
    "redemption.offline_provider": Route(ENTERPRISE_OWN, OFFLINE),
    "redemption.offline_service": Route(ENTERPRISE_OWN, OFFLINE),
    "redemption.offline_lines": Route(ENTERPRISE_OWN, OFFLINE),
    "redemption.offline_estimate": Route(ENTERPRISE_OWN, OFFLINE, ok=302),  # no htmx: to the step 2 page
    "redemption.offline_abandon": Route(ENTERPRISE_OWN, OFFLINE),
    # ---- the seller's side
    "seller.home": Route(PROVIDER),
    "seller.shop_application": Route(PROVIDER),
    "seller.settings": Route(PROVIDER),
    "seller.services": Route(PROVIDER),
    "seller.service_new": Route(PROVIDER_WRITE),
    "seller.service_description_count": Route(PROVIDER),
    "seller.service_edit": Route(PROVIDER_OWN_WRITE, SERVICE),
    "seller.service_delete": Route(PROVIDER_OWN_WRITE, SERVICE),
    "seller.service_action": Route(PROVIDER_OWN_WRITE, lambda side, _w: {"service_id": side.service.id,
                                                                          "action": "delist"}),
    "seller.instruments": Route(PROVIDER),
    "seller.instrument_new": Route(PROVIDER_WRITE),
    "seller.instrument_edit": Route(PROVIDER_OWN_WRITE, INSTRUMENT),
    "seller.instrument_status": Route(PROVIDER_OWN_WRITE, INSTRUMENT),
    "seller.orders": Route(PROVIDER),
    "seller.order_detail": Route(PROVIDER_OWN, ORDER),
    "seller.order_action": Route(PROVIDER_OWN, lambda side, _w: {"order_no": side.order.order_no,
                                                                 "action": "finish"}),
    "seller.confirm_materials": Route(PROVIDER_OWN, ORDER),
    # ---- the reviewer's back office (every /admin route: reviewers only, whoever owns the object)
    "admin.home": reviewer(),
    "admin.accounts": reviewer(),
    "admin.approve_account": reviewer(of("enterprise.id", "user_id")),
    "admin.reject_account": reviewer(of("enterprise.id", "user_id")),
    "admin.approve_accounts": reviewer(),
    "admin.disable_account": reviewer(of("enterprise.id", "user_id")),
    "admin.enable_account": reviewer(of("enterprise.id", "user_id")),
    "admin.audit": reviewer(),
    "admin.cities": reviewer(),
    "admin.city_settings": reviewer(CITY, sided=False),
    "admin.city_reset": reviewer(CITY, sided=False),
    "admin.complaints": reviewer(),
    "admin.resolve_complaint": reviewer(of("complaint.id", "complaint_id")),
    "admin.kexiao": reviewer(),
    "admin.kexiao_sample": reviewer(),
    "admin.listings": reviewer(),
    "admin.approve_listing": reviewer(SERVICE),
    "admin.reject_listing": reviewer(SERVICE),
    "admin.approve_listings": reviewer(),
    "admin.objections": reviewer(),
    "admin.orders": reviewer(),
    "admin.order_detail": reviewer(ORDER),
    "admin.close_order": reviewer(ORDER),
    "admin.resolve_objection": reviewer(of("objection_id", "objection_id")),
    "admin.payments": reviewer(),
    "admin.pay_claims": reviewer(),
    "admin.payment_batch": reviewer(of("paid_claim.payment_batch_id", "batch_id")),
    "admin.payment_batch_xlsx": reviewer(of("paid_claim.payment_batch_id", "batch_id")),
    "admin.providers": reviewer(),
    "admin.provider_detail": reviewer(SHOP),
    "admin.reinstate_provider": reviewer(SHOP),
    "admin.remove_provider": reviewer(SHOP),
    "admin.publicity": reviewer(),
    "admin.publish_claims": reviewer(),
    "admin.close_publicity": reviewer(),
    "admin.redemptions": reviewer(),
    "admin.redemption_detail": reviewer(CLAIM),
    "admin.approve_redemption": reviewer(CLAIM),
    "admin.request_redemption_corrections": reviewer(CLAIM),
    "admin.reject_redemption": reviewer(CLAIM),
    "admin.reference": reviewer(),
    "admin.category_add": reviewer(),
    "admin.category_delete": reviewer(CATEGORY, sided=False),
    "admin.category_move": reviewer(CATEGORY, sided=False),
    "admin.category_rename": reviewer(CATEGORY, sided=False),
    "admin.field_add": reviewer(),
    "admin.field_delete": reviewer(FIELD, sided=False),
    "admin.field_move": reviewer(FIELD, sided=False),
    "admin.field_rename": reviewer(FIELD, sided=False),
    "admin.kinds": reviewer(),
    "admin.kind_add": reviewer(),
    "admin.kind_detail": reviewer(KIND, sided=False),
    "admin.kind_delete": reviewer(KIND, sided=False),
    "admin.kind_edit": reviewer(KIND, sided=False),
    "admin.kind_mark": reviewer(KIND, sided=False),
    "admin.kind_defaults": reviewer(),
    "admin.pilots": reviewer(),
    "admin.review_batches": reviewer(),
    "admin.shops": reviewer(),
    "admin.shop_detail": reviewer(SHOP),
    "admin.approve_shop": reviewer(SHOP),
    "admin.open_shop": reviewer(SHOP),
    "admin.shop_pilot": reviewer(SHOP),
    "admin.reject_shop": reviewer(SHOP),
    "admin.stats": reviewer(),
    "admin.stats_xlsx": reviewer(fixed(chart="cities"), sided=False),
    "admin.vouchers": reviewer(),
    "admin.voucher_detail": reviewer(APPLICATION),
    "admin.approve_voucher": reviewer(APPLICATION),
    "admin.reject_voucher": reviewer(APPLICATION),
    "admin.return_voucher": reviewer(APPLICATION),
}


def expected(route: Route, role: str, side: str | None):
    """The declared answer (OK, LOGIN or a status) of `role` for `side`'s object."""
    answer = route.rule[role]
    if isinstance(answer, Mine):
        return answer.on_own if _side_of(role) == (side or "own") else 404
    return answer


def _side_of(role: str) -> str | None:
    return {"enterprise_a": "own", "provider_x": "own", "enterprise_b": "other", "provider_y": "other"}.get(role)


def cases(endpoints=None):
    for endpoint, route in TABLE.items():
        if endpoints is not None and endpoint not in endpoints:
            continue
        for side in (SIDES if route.args and route.sided else (None,)):
            for role in ROLES:
                yield pytest.param(endpoint, role, side, id=f"{endpoint}-{role}" + (f"-{side}" if side else ""))


@pytest.fixture(scope="module")
def keeper(shared_app, tmp_path_factory):
    """One world for the module (see tests/world.py), on the shared app with its configuration as created and
    uploads in a folder of the module's own; the tables are emptied at the end, as after any test."""
    yield from keep_world(shared_app, tmp_path_factory)


def keep_world(shared_app, tmp_path_factory):
    app, config = shared_app
    app.config.clear()
    app.config.update(config, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("world-uploads")))
    with app.app_context():
        yield WorldKeeper(app)
        db.session.remove()
        empty_all_tables(db.engine)


def method_of(app, endpoint: str) -> str:
    methods = next(rule.methods for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    return "GET" if "GET" in methods else "POST"


def url_of(app, endpoint: str, world, side: str | None) -> str:
    route = TABLE[endpoint]
    values = route.args(world.side(side or "own"), world) if route.args else {}
    return app.url_map.bind("localhost").build(endpoint, values)


def test_every_route_is_in_the_table(shared_app):
    app, _config = shared_app
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"}
    assert routes - set(TABLE) == set(), "routes missing from the access table"
    assert set(TABLE) - routes == set(), "the access table lists routes the app no longer has"


@pytest.mark.parametrize("endpoint, role, side", list(cases()))
def test_route_answers_each_role_as_declared(keeper, endpoint, role, side):
    check(keeper, endpoint, role, side, method_of(keeper.app, endpoint))


GET_AND_POST = {rule.endpoint for rule in url_rules() if {"GET", "POST"} <= rule.methods}


@pytest.mark.parametrize("endpoint, role, side", list(cases(GET_AND_POST)))
def test_the_post_side_of_get_and_post_routes_answers_as_declared(keeper, endpoint, role, side):
    check(keeper, endpoint, role, side, "POST")


def check(keeper, endpoint: str, role: str, side: str | None, method: str) -> None:
    world = keeper.current()
    app = keeper.app
    route, want = TABLE[endpoint], expected(TABLE[endpoint], role, side)
    url = url_of(app, endpoint, world, side)
    client = keeper.client(role)
    if method == "GET":
        response = client.get(url)
    else:
        before = fingerprint()
        data = route.data(world.side(side or "own"), world) if route.data else {}
        response = client.post(url, data=data)
        changed = fingerprint() != before
        if changed:
            keeper.spoil()   # the next test gets a new world
        if response.status_code < 400:
            keeper.forget_client(role)   # e.g. 退出登录 ended its session
    status = response.status_code
    if want == LOGIN:
        assert status == 302 and response.location.startswith("/auth/login"), (status, response.location)
    elif want == OK and method == "GET":
        assert status == route.ok, status
    elif want == OK:
        assert status not in REFUSED_STATUSES, status
    else:
        assert status == want, status
    if want != OK and method == "POST":
        assert not changed, "a refused request added or deleted rows"


REMOVED_SHOP_WRITES = [endpoint for endpoint, route in TABLE.items() if route.rule is PROVIDER_OWN_WRITE]


@pytest.mark.parametrize("endpoint", REMOVED_SHOP_WRITES)
def test_removed_provider_cannot_change_its_own_listings(keeper, endpoint):
    """The matrix's objects belong to X and Y; a removed provider's own service and instrument are refused
    too (it keeps read access, not write access)."""
    world = keeper.current()
    route = TABLE[endpoint]
    url = keeper.app.url_map.bind("localhost").build(endpoint, route.args(world.removed_shop, world))
    client = keeper.client("removed_provider")
    before = fingerprint()
    response = client.get(url) if method_of(keeper.app, endpoint) == "GET" else client.post(url, data={})
    changed = fingerprint() != before
    if changed:
        keeper.spoil()
    assert response.status_code == 403
    assert not changed


REMOVED_SHOP_ORDER = [
    # (method, endpoint, extra URL values, status): reading stays, new work is refused (SPEC 1.6: no new
    # orders, history kept); work it accepted before removal may still be finished, so the buyer can claim.
    ("GET", "seller.order_detail", {}, 200),
    ("GET", "orders.messages", {}, 200),
    ("POST", "seller.order_action", {"action": "decline"}, 409),
    ("POST", "seller.confirm_materials", {}, 409),
    ("POST", "seller.order_action", {"action": "finish"}, 303),
    ("POST", "seller.order_action", {"action": "request_cancel"}, 422),   # it may ask to end it: a reason is due
]


@pytest.mark.parametrize("method, endpoint, values, status", REMOVED_SHOP_ORDER,
                         ids=[f"{e}-{v.get('action', m.lower())}" for m, e, v, _ in REMOVED_SHOP_ORDER])
def test_removed_provider_reads_its_own_orders_and_only_finishes_work_it_accepted(keeper, method, endpoint, values,
                                                                                  status):
    world = keeper.current()
    order = world.removed_shop.order
    url = keeper.app.url_map.bind("localhost").build(endpoint, {"order_no": order.order_no, **values})
    client = keeper.client("removed_provider")
    before = fingerprint()
    # 服务完成 carries the 实际服务金额 the provider confirms: the order's own amount.
    data = {"final_amount": policy.format_yuan(order.quote_fen)} if values.get("action") == "finish" else {}
    response = client.get(url) if method == "GET" else client.post(url, data=data)
    changed = fingerprint() != before
    if changed:
        keeper.spoil()
    assert response.status_code == status
    assert changed == (status == 303)
