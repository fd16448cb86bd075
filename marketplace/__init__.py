"""The application factory. Flask is imported inside it so `from marketplace import policy` stays pure."""
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: Mapping | None = None) -> "Flask":
    from flask import Flask

    from .config import INSTANCE, ROOT, Config

    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(INSTANCE))
    app.config.from_mapping(Config().as_dict())
    if test_config:
        app.config.from_mapping(test_config)
    INSTANCE.mkdir(exist_ok=True)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    from . import errors, htmx, ids, security, templating
    from .extensions import csrf, db, login_manager

    ids.init_app(app)  # before any blueprint: each rule takes its converter when it is added
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    htmx.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    security.init_app(app)

    from . import views  # noqa: F401  every route module attaches itself to its blueprint
    from .accounts import bp as accounts_bp
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .catalog import bp as catalog_bp
    from .health import bp as health_bp
    from .orders import bp as orders_bp
    from .pages import bp as pages_bp
    from .redemption import bp as redemption_bp
    from .seller import bp as seller_bp
    from .uploads.routes import bp as files_bp
    from .vouchers import bp as vouchers_bp
    from .workbench import bp as workbench_bp

    for bp in (catalog_bp, pages_bp, accounts_bp, seller_bp, admin_bp, workbench_bp, vouchers_bp, orders_bp,
               redemption_bp, files_bp, health_bp, api_bp):
        app.register_blueprint(bp)

    from .cli import register as register_cli

    register_cli(app)
    return app
