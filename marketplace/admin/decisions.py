"""Every reviewer decision answers the same way, whatever it decides (accounts, shops, provider exit, listings,
voucher applications, claims, objections, complaints, orders the platform closes). The route loads the row FOR
UPDATE (404 when it is missing), then hands it here:

    the state allows the decision?   no  → rolled back, 409: the panel with the refusal
    the form is valid?               no  → 422: the panel with the input kept and the messages beside the fields
    the rule runs                    Refused → rolled back, 409: the panel with the refusal
    committed                        htmx → the panel with the notice; without JS → the notice flashed, 303 back

The state comes first: a reviewer on a stale page learns the object was decided meanwhile, not that a field is
empty. The rules live next to their models (accounts.lifecycle, seller.shop_lifecycle, seller.listing_lifecycle,
vouchers.lifecycle, redemption.claims, redemption.settlement, orders.complaints, orders.lifecycle) and raise a
subclass of refusal.Refused; a new decision adds a rule and a `Desk`, not a route shape.

Not decisions on one row, so not here: the batches of admin.payments (publish, close publicity, pay) act on a
selection with no state of its own, whose answers are the pick-list page and a new batch; admin.kexiao is an import
and admin.reference edits reference data.
"""
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from ..extensions import db
from ..htmx import is_htmx
from ..refusal import Refused


@dataclass(frozen=True)
class Desk:
    """How one kind of object answers its decisions.

    panel(row, status, **extra): the htmx fragment, or the page without JS, answered with `status`; extra holds
    the posted forms (422), `refusal` (409) or `notice` (after the decision).
    back(row, came_from): where the reviewer returns without JS, given the state the object was decided from."""
    panel: Callable[..., ResponseReturnValue]
    back: Callable[[Any, str], str]


def decide(desk: Desk, row: Any, allowed: Callable[[], None], valid: Callable[[], bool], rule: Callable[[], str],
           **forms: Any) -> ResponseReturnValue:
    """One decision on `row` (already row-locked): `allowed` raises Refused when the state forbids it, `valid`
    validates the posted forms (passed on to the panel as `forms`), `rule` makes the move and returns the notice."""
    came_from = row.status
    try:
        allowed()
        if not valid():
            return desk.panel(row, 422, **forms)
        done = rule()
    except Refused as refusal:
        db.session.rollback()
        return desk.panel(row, 409, refusal=str(refusal))
    db.session.commit()
    if is_htmx():
        return desk.panel(row, 200, notice=done)
    flash(done, "success")
    return redirect(desk.back(row, came_from), 303)


def button(form: FlaskForm) -> Callable[[], bool]:
    """`valid` for a decision made by a button alone (DecisionForm: an optional reason no page shows a field for):
    only a crafted request fails it, and is answered 400."""
    def valid() -> bool:
        if not form.validate_on_submit():
            abort(400)
        return True
    return valid
