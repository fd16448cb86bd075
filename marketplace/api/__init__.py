"""Public open data (SPEC 11): read-only JSON of the listed services and the publicity lists, for municipal
portals. No login, no cookies, GET only; every answer may be cached for a minute and read from any origin."""
from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
