"""Configuration read from the environment; tests pass their own mapping."""
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from . import policy

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE / 'marketplace.db'}"


def database_url() -> str:
    """DATABASE_URL from the environment, normalised for SQLAlchemy + psycopg 3."""
    url = os.environ.get("DATABASE_URL") or default_database_url()
    for legacy in ("postgres://", "postgresql://"):
        if url.startswith(legacy):
            return "postgresql+psycopg://" + url[len(legacy):]
    return url


class Config:
    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY") or "dev-only-insecure-key"
        self.DATABASE_URL = database_url()
        self.UPLOAD_FOLDER = env.get("UPLOAD_FOLDER") or str(INSTANCE / "uploads")
        self.PRODUCTION = env.get("APP_ENV") == "production"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = self.PRODUCTION
        self.REMEMBER_COOKIE_SECURE = self.PRODUCTION
        self.REMEMBER_COOKIE_HTTPONLY = True
        self.REMEMBER_COOKIE_SAMESITE = "Lax"
        self.REMEMBER_COOKIE_NAME = "remember_token"
        # 记住我 keeps a browser signed in this long (Flask-Login's default is a year);
        # each sign-in gets its own cookie.
        self.REMEMBER_COOKIE_DURATION = timedelta(days=_positive(env, "REMEMBER_DAYS", int, 14))
        self.MAX_CONTENT_LENGTH = 210 * 1024 * 1024
        self.WTF_CSRF_TIME_LIMIT = None
        self.WTF_I18N_ENABLED = False  # use WTForms' bundled zh catalogue (Form.Meta.locales), no Babel
        self.SMS_BACKEND = env.get("SMS_BACKEND") or "log"
        # A CJK .ttf/.ttc for the printable sheet; empty: the first common system font, else built-in STSong-Light.
        self.PDF_CJK_FONT = env.get("PDF_CJK_FONT") or ""
        self.LOGIN_MAX_FAILURES = 5
        self.LOGIN_WINDOW_MINUTES = 15
        self.PER_PAGE = 20
        # How many reverse proxies (nginx, a PaaS router) stand in front of gunicorn: their X-Forwarded-For /
        # -Proto are then believed, so throttles and the audit log see the visitor's address, not the proxy's.
        # 0 (the default) believes none: a client could otherwise forge its address.
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES") or 0)
        # Memory (MB) each worker may fill with rendered catalog pages and cards, kept until the catalog
        # changes (catalog/cache.py); 0: no cache.
        self.CATALOG_CACHE_MB = float(env.get("CATALOG_CACHE_MB") or 32)
        # Orders no provider accepts within this many days expire (订单失效).
        self.ORDER_ACCEPT_DAYS = int(env.get("ORDER_ACCEPT_DAYS") or 7)
        # One order's amount may not pass this (万元 in the environment); an amount far from the listed price × quantity
        # (more than ORDER_CONFIRM_FACTOR times above or below) is ordered only once the buyer confirms it.
        self.ORDER_MAX_FEN = _positive(env, "ORDER_MAX_WAN", lambda text: int(Decimal(text) * policy.FEN_PER_WAN),
                                       policy.ORDER_MAX_FEN_DEFAULT)
        self.ORDER_CONFIRM_FACTOR = _positive(env, "ORDER_CONFIRM_FACTOR", int, policy.ORDER_CONFIRM_FACTOR_DEFAULT)
        # Approved claims stay on /publicity this many days before they wait for payment (SPEC 7.4).
        self.PUBLICITY_DAYS = int(env.get("PUBLICITY_DAYS") or policy.PUBLICITY_DAYS_DEFAULT)
        if self.PRODUCTION and self.SECRET_KEY == "dev-only-insecure-key":
            raise RuntimeError("SECRET_KEY must be set in production")

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _positive(env, name: str, parse, default: int) -> int:
    """A positive number from the environment (its default when unset); anything else stops the app at start with
    the setting's name, rather than refusing every order later."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = parse(text)
    except (ValueError, ArithmeticError):
        value = 0
    if value <= 0:
        raise RuntimeError(f"{name} must be a positive number, got {text!r}")
    return value
