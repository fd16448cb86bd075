"""Ids as a column can hold them (issue 15.5). Every id column is a 32-bit INTEGER on PostgreSQL, which refuses
2**31 with an error, and Python's sqlite3 cannot even send a number past 64 bits: either way a 500 where the user
asked for something that does not exist. So any number outside 1..MAX_ID is turned away before a query sees it:

- in a URL, by the app's "int" converter (every <int:...> rule, without naming it in each route): 404;
- in a form field or a query argument, by as_id() (None: "nothing chosen", the caller says what that means) or
  id_arg() (a named argument that is given but names nothing: 404)."""

from flask import abort, request
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1
MAX_ID_DIGITS = len(str(MAX_ID))


class BoundedIntConverter(IntegerConverter):
    """<int:...> for ids (and years, counts) a column can hold: ASCII digits only (werkzeug's \\d also takes "١٢"
    and full-width digits), at most MAX_ID unless the rule asks for less; anything else matches no rule: 404."""

    regex = r"[0-9]+"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None,
                 signed: bool = False) -> None:
        bounded = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(map, fixed_digits, min=min, max=bounded, signed=signed)


def as_id(value) -> int | None:
    """A posted or queried id (text of ASCII digits, or an int) as an int in 1..MAX_ID, else None."""
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_DIGITS and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
        return value
    return None


def id_arg(name: str) -> int | None:
    """Query argument `name` as an id: None when it is absent or empty, 404 when it names no possible row."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    number = as_id(raw)
    if number is None:
        abort(404)
    return number


def init_app(app) -> None:
    """Must run before any blueprint is registered: a rule takes its converter when it is added to the map."""
    app.url_map.converters["int"] = BoundedIntConverter
