"""卖家中心 (/seller): the provider's workbench — shop application, services, instruments, orders, settings."""
from flask import Blueprint

bp = Blueprint("seller", __name__, url_prefix="/seller")

from . import instruments, orders, services, settings, shop  # noqa: E402,F401  (routes attach themselves to bp)
