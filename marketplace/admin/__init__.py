from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import cities, complaints, kexiao, listings, payments, redemptions, reference, routes, shops, stats, vouchers  # noqa: E402,F401
