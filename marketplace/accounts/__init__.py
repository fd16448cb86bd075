from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/auth")

from . import routes  # noqa: E402,F401  (routes attach themselves to bp)
