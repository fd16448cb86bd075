from flask import Blueprint

bp = Blueprint("catalog", __name__)

from . import routes, search_views  # noqa: E402,F401
