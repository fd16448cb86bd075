"""Hostile input on every form (tests/hostile.py lists them): whatever is typed, the app never answers 500,
a refused form comes back with the typed text in it (escaped), and no page ever shows stored text unescaped."""

import pytest
from hypothesis import given, strategies as st
from markupsafe import escape

from marketplace.extensions import db

from .conftest import Auth
from .hostile import FORMS, QUERIES, RAW_MARKERS, STRATEGIES, WITHOUT_TYPED_INPUT


def loose(text: str) -> str:
    """What survives the forms' own tidying (trimmed, line breaks and spaces normalised, codes and invoice
    numbers upper-cased), so "kept" means the user's text, not byte-for-byte."""
    return "".join(text.split()).upper()


def assert_escaped(response, where: str) -> None:
    if response.mimetype != "text/html":
        return
    body = response.get_data(as_text=True)
    for marker in RAW_MARKERS:
        assert marker not in body, f"unescaped {marker!r} on {where}"


def key_of(data: dict, name: str) -> str:
    """A form field's posted key: the name itself, or the prefixed key ending in it (checkout's p<id>v-note)."""
    return name if name in data else next(key for key in data if key.endswith(name))


def post_form(app, make, case, typed: dict):
    """Build `case`'s objects, sign its user in, and post its form with `typed` values in place."""
    setup = case.setup(make)
    db.session.commit()
    client = signed_in_client(app, setup.user)
    for url, data in setup.before:
        assert client.post(url, data=data).status_code < 400
    data = dict(setup.data)
    data.update({key_of(data, name): value for name, value in typed.items()})
    if setup.prepare is not None:
        data = setup.prepare(data)
    response = client.post(setup.url, data=data, headers=setup.headers,
                           content_type="multipart/form-data" if case.multipart else None)
    return client, setup, response


def signed_in_client(app, user):
    client = app.test_client()
    if user is not None:
        assert Auth(client).login(user).status_code == 303
    return client


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in FORMS])
@given(draw=st.data())
def test_a_form_never_fails_and_keeps_escaped_input(app, make, case, draw):
    names = draw.draw(st.lists(st.sampled_from(sorted(case.fields)), min_size=1, max_size=3, unique=True))
    typed = {name: draw.draw(STRATEGIES[case.fields[name]](), label=name) for name in names}
    client, setup, response = post_form(app, make, case, typed)
    assert response.status_code in case.allowed, f"{case.name}: {response.status_code} for {typed!r}"
    assert_escaped(response, setup.url)
    if response.status_code == 422:
        page = loose(response.get_data(as_text=True))
        for name in set(typed) & set(case.kept):
            assert loose(str(escape(typed[name]))) in page, f"{case.name}: {name} not kept"
    for url in ([response.location] if response.status_code == 303 else []) + setup.views:
        shown = client.get(url)
        assert shown.status_code < 500, f"{url}: {shown.status_code}"
        assert_escaped(shown, url)
    db.session.rollback()


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in QUERIES])
@given(draw=st.data())
def test_query_arguments_never_fail_and_come_back_escaped(app, make, case, draw):
    user = make.reviewer() if case.who == "reviewer" else None
    client = signed_in_client(app, user)
    args = {name: draw.draw(STRATEGIES[kind](), label=name)
            for name, kind in case.args.items() if draw.draw(st.booleans(), label=f"send {name}")}
    response = client.get(case.path, query_string=args)
    assert response.status_code in case.allowed, f"{case.path}: {response.status_code} for {args!r}"
    assert_escaped(response, case.path)


AMOUNT_FORMS = [case for case in FORMS if "amount" in case.fields.values()]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in AMOUNT_FORMS])
@pytest.mark.parametrize("blank", [" ", "\r\n", "¥", "元"])
def test_an_amount_of_only_spaces_or_a_currency_sign_is_refused_not_a_500(app, make, case, blank):
    """MoneyField reads these as "no amount" (None) while InputRequired sees typed text: the pair must still
    refuse them, not store NULL."""
    for name in [name for name, kind in case.fields.items() if kind == "amount"]:
        _, _, response = post_form(app, make, case, {name: blank})
        assert response.status_code in case.allowed, f"{case.name}.{name}={blank!r}: {response.status_code}"
        db.session.rollback()


# Text str.isdigit() accepts but int() refuses (superscripts), digits of another script int() reads, and a number
# past every id column: what a route reading ids or positions with isdigit() meets.
DIGIT_TRAPS = ["²", "١٢", "9" * 30]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in FORMS])
@pytest.mark.parametrize("trap", DIGIT_TRAPS)
def test_digits_int_cannot_read_or_no_column_holds_are_refused_not_a_500(app, make, case, trap):
    typed = {name: trap for name, kind in case.fields.items() if kind == "text"}
    _, _, response = post_form(app, make, case, typed)
    assert response.status_code in case.allowed, f"{case.name}: {response.status_code} for {trap!r}"
    db.session.rollback()


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in QUERIES])
@pytest.mark.parametrize("trap", DIGIT_TRAPS)
def test_digit_traps_in_every_query_argument_are_ignored_or_refused_not_a_500(app, make, case, trap):
    client = signed_in_client(app, make.reviewer() if case.who == "reviewer" else None)
    response = client.get(case.path, query_string=dict.fromkeys(case.args, trap))
    assert response.status_code in case.allowed + (400,), f"{case.path}: {response.status_code} for {trap!r}"


@pytest.mark.parametrize("trap", DIGIT_TRAPS + ["", "-1", "200.0"])
def test_a_thumbnail_size_that_is_not_one_of_ours_is_a_404_not_a_500(app, make, trap):
    owner = make.enterprise()
    picture = make.stored_png(owner)
    client = signed_in_client(app, owner)
    assert client.get(f"/files/{picture.id}", query_string={"thumb": "200"}).status_code == 200
    assert client.get(f"/files/{picture.id}", query_string={"thumb": trap}).status_code == 404


NUL = "前\x00后"


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in FORMS])
def test_a_nul_byte_in_every_text_field_is_refused_or_dropped_not_a_500(app, make, case):
    typed = {name: NUL for name, kind in case.fields.items() if kind == "text"}
    _, setup, response = post_form(app, make, case, typed)
    assert response.status_code in case.allowed, f"{case.name}: {response.status_code}"
    db.session.rollback()


@pytest.mark.parametrize("case", [pytest.param(case, id=case.name) for case in QUERIES])
def test_a_nul_byte_in_every_query_argument_is_refused_or_ignored_not_a_500(app, make, case):
    client = signed_in_client(app, make.reviewer() if case.who == "reviewer" else None)
    response = client.get(case.path, query_string=dict.fromkeys(case.args, NUL))
    assert response.status_code in case.allowed + (400,), f"{case.path}: {response.status_code}"



@pytest.mark.parametrize("path", ["fields", "categories", "kinds"])
def test_a_reference_name_of_the_longest_allowed_length_is_added(app, make, client, auth, path):
    auth.login(make.reviewer())
    response = client.post(f"/admin/reference/{path}", data={"name": "长" * 50, "keywords": "验货", "parent_id": ""})
    assert response.status_code == 303


def test_a_kind_with_many_keywords_is_added(app, make, client, auth):
    auth.login(make.reviewer())
    response = client.post("/admin/reference/kinds", data={"name": "商业验货", "keywords": "验货 " * 30})
    assert response.status_code == 303


def test_every_post_route_is_in_the_hostile_table_or_declared_without_typed_input(app, make):
    """A new POST route fails here until it has a FormCase in tests/hostile.py (its hostile input tested) or an
    entry in WITHOUT_TYPED_INPUT saying why it takes none."""
    adapter = app.url_map.bind("localhost")
    covered = {}
    for case in FORMS:
        setup = case.setup(make)
        db.session.commit()
        covered.setdefault(adapter.match(setup.url.split("?")[0], method="POST")[0], case.name)
    posts = {rule.endpoint for rule in app.url_map.iter_rules() if "POST" in (rule.methods or ())}
    missing = sorted(posts - set(covered) - set(WITHOUT_TYPED_INPUT))
    assert not missing, f"POST routes neither in FORMS nor in WITHOUT_TYPED_INPUT: {missing}"
    both = sorted(set(covered) & set(WITHOUT_TYPED_INPUT))
    assert not both, f"declared without typed input but given a FormCase: {both}"
    gone = sorted(set(WITHOUT_TYPED_INPUT) - posts)
    assert not gone, f"WITHOUT_TYPED_INPUT names routes that no longer exist: {gone}"
