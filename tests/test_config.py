import pytest

from marketplace.config import Config, database_url


def test_database_url_defaults_to_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert database_url().startswith("sqlite:///") and database_url().endswith("instance/marketplace.db")


@pytest.mark.parametrize("given", ["postgres://u:p@db/cxq", "postgresql://u:p@db/cxq"])
def test_postgres_urls_use_psycopg3(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert database_url() == "postgresql+psycopg://u:p@db/cxq"


def test_configuration_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3")
    monkeypatch.setenv("UPLOAD_FOLDER", "/srv/uploads")
    config = Config()
    assert config.SECRET_KEY == "s3" and config.UPLOAD_FOLDER == "/srv/uploads"


def test_the_order_ceiling_and_confirmation_factor_come_from_the_environment_in_wan_yuan(monkeypatch):
    monkeypatch.delenv("ORDER_MAX_WAN", raising=False)
    monkeypatch.delenv("ORDER_CONFIRM_FACTOR", raising=False)
    assert (Config().ORDER_MAX_FEN, Config().ORDER_CONFIRM_FACTOR) == (1_000_000_000, 3)  # 1,000 万元
    monkeypatch.setenv("ORDER_MAX_WAN", "0.5")
    monkeypatch.setenv("ORDER_CONFIRM_FACTOR", "5")
    assert (Config().ORDER_MAX_FEN, Config().ORDER_CONFIRM_FACTOR) == (500_000, 5)  # 5,000 元


@pytest.mark.parametrize("name, value", [("ORDER_MAX_WAN", "0"), ("ORDER_MAX_WAN", "-5"), ("ORDER_MAX_WAN", "lots"),
                                         ("ORDER_CONFIRM_FACTOR", "0"), ("ORDER_CONFIRM_FACTOR", "2.5")])
def test_a_bad_order_limit_stops_the_app_at_start_naming_the_setting(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        Config()


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(RuntimeError):
        Config()


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "real-secret")
    config = Config()
    assert config.SESSION_COOKIE_SECURE and config.SESSION_COOKIE_HTTPONLY and config.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize("proxies, seen", [(0, "127.0.0.1"), (1, "203.0.113.7")])
def test_the_visitors_address_comes_from_the_proxy_only_when_told_to_trust_it(database_url, tmp_path, proxies, seen):
    """Behind nginx every request comes from the proxy; the throttles (login, SMS) must count the visitor. Without
    TRUSTED_PROXIES the header is a client's claim and is ignored."""
    from sqlalchemy import select

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.models import LoginAttempt

    from .conftest import TEST_CONFIG, CsrfClient, empty_all_tables
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_FOLDER": str(tmp_path),
                      "TRUSTED_PROXIES": proxies})
    app.test_client_class = CsrfClient
    with app.app_context():
        client = app.test_client()
        client.get("/auth/login")
        response = client.post("/auth/login", data={"email": "nobody@example.cn", "password": "wrong-password"},
                               headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 422
        assert db.session.scalars(select(LoginAttempt.ip)).all() == [seen]
        db.session.remove()
        empty_all_tables(db.engine)
        db.engine.dispose()
