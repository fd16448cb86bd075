"""Jinja filters and globals for money, dates and labels."""
from datetime import UTC, date, datetime

from flask import Flask
from flask_wtf.csrf import generate_csrf
from jinja2 import StrictUndefined

from . import policy
from .models import CHINA


def yuan(fen) -> str:
    """¥-less yuan with two decimals, e.g. 1500000 -> "15,000.00"; None -> 面议."""
    return "面议" if fen is None else policy.format_yuan(fen)


def price(fen, unit: str = "") -> str:
    """Reference price as the mall shows it: "¥2,000.00元/样品" or "面议"."""
    return "面议" if fen is None else f"¥{policy.format_yuan(fen)}{unit}"


def china_time(value) -> str:
    """YYYY-MM-DD HH:MM:SS in Asia/Shanghai, as the provincial platform shows times."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def init_app(app: Flask) -> None:
    if app.config.get("STRICT_TEMPLATES"):
        app.jinja_env.undefined = StrictUndefined  # a missing variable fails loudly in tests
    app.jinja_env.filters.update(yuan=yuan, price=price, china_time=china_time,
                                 uppercase_rmb=policy.uppercase_rmb)
    app.jinja_env.globals.update(csrf_token=generate_csrf, policy=policy)
