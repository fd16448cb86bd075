"""SPEC 9: every state-changing route refuses a request without the CSRF token, for page forms and htmx alike,
and changes nothing. The routes come from the URL map (a new POST route is covered by itself); each is tried
as a user the access table (tests/test_access_matrix.py) allows to use it, on that user's own object, so the
refusal is the token's doing and not the role's."""
import pytest

from .test_access_matrix import OK, TABLE, expected, keep_world, url_of
from .world import fingerprint, url_rules

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# Signed-in roles first: a route open to everyone is still tried signed in.
PREFERRED_ROLES = ("enterprise_a", "provider_x", "reviewer", "individual", "removed_provider", "anonymous")
VARIANTS = {"form": {}, "htmx": {"HX-Request": "true"}}


def state_changing_routes() -> list[tuple[str, str]]:
    """(endpoint, method) for every rule accepting a state-changing method."""
    return sorted({(rule.endpoint, method) for rule in url_rules() for method in rule.methods & STATE_CHANGING})


def allowed_role(endpoint: str) -> str:
    route = TABLE[endpoint]
    return next(role for role in PREFERRED_ROLES if expected(route, role, "own") == OK)


@pytest.fixture(scope="module")
def keeper(shared_app, tmp_path_factory):
    yield from keep_world(shared_app, tmp_path_factory)


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("endpoint, method", state_changing_routes())
def test_state_changing_route_refuses_a_request_without_csrf_token(keeper, endpoint, method, variant):
    assert endpoint in TABLE, "route missing from the access table in tests/test_access_matrix.py"
    world = keeper.current()
    role = allowed_role(endpoint)
    url = url_of(keeper.app, endpoint, world, "own")
    before = fingerprint()
    response = keeper.client(role).open(url, method=method, data={}, headers=VARIANTS[variant])
    after = fingerprint()
    if after != before:
        keeper.spoil()
    assert response.status_code == 400, (role, response.status_code)
    assert "安全令牌" in response.get_data(as_text=True)
    assert after == before, "a request without the CSRF token changed the database"
