from flask import Blueprint

bp = Blueprint("catalog", __name__)

# search_index registers the flush listeners that keep every service's search tokens current.
from . import routes, search_index, search_views  # noqa: E402,F401
