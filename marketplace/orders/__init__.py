"""Cart, checkout and orders (SPEC 5): the buyer's side lives here, the provider's in seller/orders.py.

Every state change goes through `lifecycle`, which writes the order's timeline and the audit log.
"""
from flask import Blueprint

bp = Blueprint("orders", __name__)

from . import buyer, cart, checkout, feedback, lifecycle, messages  # noqa: E402,F401

# {{ refused_cancellation(order) }}: the last 拒绝取消 both order pages show until a new request
bp.add_app_template_global(lifecycle.refused_cancellation, "refused_cancellation")
