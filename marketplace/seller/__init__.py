"""卖家中心 (/seller): the provider's workbench — shop application, services, instruments."""
from flask import Blueprint

bp = Blueprint("seller", __name__, url_prefix="/seller")

from . import instruments, services, shop  # noqa: E402,F401  (routes attach themselves to bp)
