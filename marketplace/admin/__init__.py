from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import (  # noqa: E402,F401
    audit_log,
    cities,
    complaints,
    kexiao,
    listings,
    menu,
    orders,
    payments,
    providers,
    redemptions,
    reference,
    routes,
    shops,
    stats,
    vouchers,
)
