"""Every id in a URL, a form or a query is bounded (issue 15.5). Id columns are 32-bit integers on PostgreSQL
(1 to 2**31-1) and Python's sqlite3 cannot send a number past 64 bits, so an id outside that range names no row
and must be answered like any other missing row (404, or the form's own 422), never with a 500.

The URL part walks the app's URL map, so a new route with an <int:...> argument is covered without being listed
here; each is asked for by a user who may use it (tests/test_access_matrix.py's table says who)."""
import re

import pytest

from marketplace.extensions import db
from marketplace.ids import MAX_ID
from marketplace.models import Redemption, RedemptionStatus

from .conftest import sign_in_as
from .test_access_matrix import OK, TABLE, Mine, method_of
from .world import url_rules

PAST_POSTGRESQL = 2**31            # one past PostgreSQL's integer
PAST_SQLITE = 10**20 - 1           # twenty digits: past SQLite's 64 bits
OUT_OF_RANGE = [pytest.param(PAST_POSTGRESQL, id="2**31"), pytest.param(PAST_SQLITE, id="20-digits")]

# The roles a bounded-id request signs in as, most general first, as conftest.sign_in_as names them.
SIGN_IN = {"anonymous": "anonymous", "reviewer": "reviewer", "enterprise_a": "enterprise", "provider_x": "provider",
           "individual": "individual"}
# The values of the other arguments of rules that take an id (a new kind of argument fails with a KeyError here).
OTHER_ARGUMENTS = {"section": "invoices", "action": "submit"}
INT_ARGUMENT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")


def _routes_with_ids() -> list:
    return sorted({rule.endpoint for rule in url_rules() if INT_ARGUMENT.search(rule.rule)})


def _allowed(endpoint: str) -> str:
    """The first role (of SIGN_IN) that may use the route on its own object."""
    rule = TABLE[endpoint].rule
    return next(role for role in SIGN_IN
                if rule[role] == OK or (isinstance(rule[role], Mine) and rule[role].on_own == OK))


def _url_with(app, endpoint: str, number: int) -> str:
    rule = next(rule for rule in url_rules() if rule.endpoint == endpoint)
    ids = INT_ARGUMENT.findall(rule.rule)
    values = {name: number if name in ids else OTHER_ARGUMENTS[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(endpoint, values)


def test_routes_with_ids_are_found():
    assert {"catalog.service_detail", "files.serve", "admin.payment_batch_xlsx",
            "redemption.claim"} <= set(_routes_with_ids())


@pytest.mark.parametrize("number", OUT_OF_RANGE)
@pytest.mark.parametrize("endpoint", _routes_with_ids())
def test_an_id_past_what_a_column_holds_answers_404_on_every_route(app, client, auth, make, endpoint, number):
    sign_in_as(auth, make, SIGN_IN[_allowed(endpoint)])
    url = _url_with(app, endpoint, number)
    response = client.get(url) if method_of(app, endpoint) == "GET" else client.post(url, data={})
    assert response.status_code == 404, url


@pytest.mark.parametrize("path, status", [
    (f"/services/{MAX_ID}", 404),          # the largest id reaches the route, which finds nothing
    ("/services/0", 404),
    ("/services/１２", 404),               # full-width digits are not an id
    ("/services/٣", 404),                  # nor Arabic-Indic ones
    ("/services/" + "9" * 5000, 404),      # longer than Python's int() accepts
])
def test_ids_at_and_beyond_the_edges_of_the_range(client, path, status):
    assert client.get(path).status_code == status


def test_a_listed_service_is_still_found_by_its_id(client, listed_service):
    assert client.get(f"/services/{listed_service.id}").status_code == 200


# ---------------------------------------------------------------- ids in queries and forms

@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_a_message_poll_after_an_id_no_row_can_have_shows_the_whole_conversation(client, auth, make, enterprise,
                                                                                  provider, number):
    order = make.order(enterprise, make.service(provider.provider))
    auth.login(enterprise)
    response = client.get(f"/orders/{order.order_no}/messages?after={number}", headers={"HX-Request": "true"})
    assert response.status_code == 200


@pytest.mark.parametrize("raw", [str(PAST_POSTGRESQL), str(PAST_SQLITE), "abc", "0"])
def test_buying_now_a_service_no_row_can_be_is_404(client, auth, enterprise, raw):
    auth.login(enterprise)
    assert client.get(f"/checkout?service_id={raw}&quantity=1").status_code == 404


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_the_sellers_list_filtered_by_a_category_no_row_can_be_shows_the_list(client, auth, provider, number):
    auth.login(provider)
    assert client.get(f"/seller/services?category={number}").status_code == 200


@pytest.mark.parametrize("path", ["/admin/stats?year={}", "/admin/kexiao?year={}", "/admin/vouchers?year={}",
                                  "/admin/orders?page={}", "/services?page={}"])
@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_years_and_pages_no_column_holds_show_the_page(client, auth, reviewer, path, number):
    auth.login(reviewer)
    assert client.get(path.format(number)).status_code == 200


@pytest.mark.parametrize("path, field", [("/admin/accounts/approve", "user_id"),
                                         ("/admin/listings/approve", "service_id"),
                                         ("/admin/publicity", "claim_id"), ("/admin/payments", "claim_id")])
@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_bulk_actions_treat_ticked_ids_no_row_can_have_as_nothing_ticked(client, auth, reviewer, path, field, number):
    auth.login(reviewer)
    response = client.post(path, data={field: [str(number)], "days": "5", "paid_on": "2026-01-01",
                                       "reference": "GK-1"})
    assert response.status_code == 422


@pytest.mark.parametrize("raw", [str(PAST_POSTGRESQL), str(PAST_SQLITE), "abc", "١٢"])
def test_approving_with_a_review_batch_no_row_can_be_is_422_next_to_the_field(client, auth, make, enterprise,
                                                                               reviewer, raw):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=RedemptionStatus.SUBMITTED)
    auth.login(reviewer)
    response = client.post(f"/admin/redemptions/{claim.id}/approve",
                           data={"amount": "100", "review_batch": raw})
    assert response.status_code == 422
    assert 'id="review_batch-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Redemption, claim.id).status == RedemptionStatus.SUBMITTED


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_a_kept_image_id_no_row_can_have_is_ignored(client, auth, make, provider, number):
    service = make.service(provider.provider)
    auth.login(provider)
    response = client.post(f"/seller/services/{service.id}/edit", data={"images__kept": str(number),
                                                                        "display_image__kept": str(number)})
    assert response.status_code == 422
