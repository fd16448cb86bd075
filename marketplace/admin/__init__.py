from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import audit_log, cities, complaints, kexiao, listings, menu, orders, payments, providers, redemptions, reference, routes, shops, stats, vouchers  # noqa: E402,F401
