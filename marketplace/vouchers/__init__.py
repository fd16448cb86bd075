"""Vouchers (SPEC 1.1–1.5, 6): the enterprise's yearly application, its printable sheet, and 我的创新券.

The reviewer's side lives in `admin/vouchers.py`; the transitions both sides use are in `lifecycle`.
"""
from flask import Blueprint

bp = Blueprint("vouchers", __name__, url_prefix="/me/vouchers")
