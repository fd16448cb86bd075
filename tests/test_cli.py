from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Service


def test_seed_demo_fills_an_empty_database_and_prints_the_logins(runner, client):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.cxq" in result.output and "demo12345" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 120
    assert "二代基因文库测序" in client.get("/services?q=测序").get_data(as_text=True)


def test_seed_demo_leaves_an_existing_catalog_alone(runner, listed_service):
    result = runner.invoke(args=["seed-demo", "--services", "120"])
    assert result.exit_code == 0 and "跳过" in result.output
    assert db.session.scalar(select(func.count(Service.id))) == 1
