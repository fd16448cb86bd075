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
