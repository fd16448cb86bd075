"""Extensions created once and bound to each app in create_app()."""
from flask_login import LoginManager
from flask_wtf import CSRFProtect

from .db import db

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "info"
csrf = CSRFProtect()

__all__ = ["db", "login_manager", "csrf"]
