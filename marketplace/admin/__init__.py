from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import listings, routes, shops  # noqa: E402,F401
