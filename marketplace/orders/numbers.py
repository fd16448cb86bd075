"""Order numbers (SPEC 5): `CXQ` for voucher orders, `ORD` for the others, then the China date and a daily
sequence, e.g. CXQ202408203178.

The sequence is counted in the database by one statement that inserts the day's counter or increments it and
returns the new value, so checkouts running at the same moment in several workers never share a number; the
row stays locked until the checkout commits, and Order.order_no is unique besides."""
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import OrderNumberCounter, china_today

PREFIXES = {True: "CXQ", False: "ORD"}
ORDER_NO_MAX = 20  # a number from a URL is cut to this before it is looked up


def next_order_no(is_voucher: bool) -> str:
    prefix, day = PREFIXES[is_voucher], china_today()
    # After 9999 orders in a day the number simply grows a digit rather than failing.
    return f"{prefix}{day:%Y%m%d}{_next_value(prefix, day):04d}"


def _next_value(prefix: str, day: date) -> int:
    counter = OrderNumberCounter
    stmt = on_conflict_insert(counter).values(prefix=prefix, day=day, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[counter.prefix, counter.day],
                                      set_={"last_value": counter.last_value + 1})
    return db.session.execute(stmt.returning(counter.last_value)).scalar_one()


def on_conflict_insert(model):
    """INSERT … ON CONFLICT for the database in use: SQLite (≥ 3.35) and PostgreSQL share the construct."""
    return (sqlite.insert if db.is_sqlite else postgresql.insert)(model)
