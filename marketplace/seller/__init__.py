"""卖家中心 (/seller): the provider's workbench — shop application, services, instruments, orders, settings."""
from flask import Blueprint

bp = Blueprint("seller", __name__, url_prefix="/seller")
