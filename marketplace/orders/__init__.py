"""Cart, checkout and orders (SPEC 5): the buyer's side lives here, the provider's in seller/orders.py.

Every state change goes through `lifecycle`, which writes the order's timeline and the audit log.
"""
from flask import Blueprint

bp = Blueprint("orders", __name__)
