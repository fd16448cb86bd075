"""Each worker keeps rendered search pages until the catalog changes (marketplace/catalog/cache.py): a repeated
search costs no search, and every change, through the app or straight in the database, is seen by the next
request of every worker."""
import re

import pytest
from sqlalchemy import create_engine, select, text

from marketplace import create_app
from marketplace.catalog.cache import RenderedPieces, catalog_token, weigh
from marketplace.demo import seed_demo
from marketplace.demo.seed import new_catalog_token
from marketplace.extensions import db
from marketplace.models import CacheGeneration, Category, Field, Instrument, Service, ShopStatus, utcnow

from .conftest import TEST_CONFIG, queries_sent

HTMX = {"HX-Request": "true"}
CARD_TITLE = re.compile(r'<h3><a href="/services/\d+">([^<]+)</a>')


def titles(client, query: str = "q=电镜", htmx: bool = False) -> list[str]:
    response = client.get(f"/services?{query}", headers=HTMX if htmx else {})
    assert response.status_code == 200
    return CARD_TITLE.findall(response.get_data(as_text=True))


def test_a_repeated_search_sends_no_query_but_the_token_read(client, make, provider):
    """The token is read on the driver connection directly (catalog_token), so the engine sees no query at all."""
    make.service(provider.provider, name="场发射电镜形貌")
    for htmx in (False, True):
        with queries_sent() as sent:
            assert titles(client, htmx=htmx) == ["场发射电镜形貌"]
        assert sent  # the first time, a search
        with queries_sent() as sent:
            assert titles(client, htmx=htmx) == ["场发射电镜形貌"]
        assert sent == []


def test_a_new_query_searches_but_reuses_the_cards_other_queries_rendered(client, make, provider):
    make.service(provider.provider, name="场发射电镜形貌")
    assert titles(client, "q=电镜") == ["场发射电镜形貌"]
    with queries_sent() as sent:
        assert titles(client, "q=形貌", htmx=True) == ["场发射电镜形貌"]
    assert sent  # searched
    # but loaded no card (only a card's load asks for the price unit)
    assert not any("price_unit" in q.statement for q in sent), sent.listing()


def test_with_the_page_cache_off_a_search_searches_but_reuses_the_cards_and_filter_lists(app, client, make, provider):
    """CATALOG_CACHE_PAGES false, as make bench runs: a repeated query costs what a query no one made before does on
    a warm worker: its search, not its cards nor the fields and categories of the filter form."""
    app.config["CATALOG_CACHE_PAGES"] = False
    make.service(provider.provider, name="场发射电镜形貌")
    assert titles(client, htmx=True) == ["场发射电镜形貌"]
    with queries_sent() as sent:
        assert titles(client, htmx=True) == ["场发射电镜形貌"]
    assert any("service_search" in q.statement for q in sent), sent.listing()  # searched again
    assert not any("price_unit" in q.statement or "categories" in q.statement for q in sent), sent.listing()


def test_with_the_cache_off_every_search_searches(app, client, make, provider):
    app.config["CATALOG_CACHE_MB"] = 0
    make.service(provider.provider, name="场发射电镜形貌")
    titles(client)
    with queries_sent() as sent:
        assert titles(client) == ["场发射电镜形貌"]
    assert any("services" in q.statement for q in sent)


def _rename_service(service):
    service.name = "改名电镜测试"
    db.session.commit()
    return ["改名电镜测试"]


def _reprice_in_sql(service):
    db.session.execute(text("UPDATE services SET price_fen = 12300 WHERE id = :id"), {"id": service.id})
    db.session.commit()
    return None  # checked by price below


def _close_shop(service):
    service.provider.status = ShopStatus.REMOVED
    db.session.commit()
    return []


def _delete_service(service):
    db.session.delete(service)
    db.session.commit()
    return []


def _rename_category(service):
    service.category.name = "新的类别名"
    db.session.commit()
    return None


def _rename_shop_in_sql(service):
    db.session.execute(text("UPDATE providers SET name = '另一家检测中心' WHERE id = :id"), {"id": service.provider_id})
    db.session.commit()
    return None


SHOWS_AFTER = {_reprice_in_sql: "¥123", _rename_category: "新的类别名", _rename_shop_in_sql: "另一家检测中心"}


@pytest.mark.parametrize("change", [_rename_service, _reprice_in_sql, _close_shop, _delete_service, _rename_category,
                                    _rename_shop_in_sql], ids=lambda change: change.__name__.strip("_"))
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_any_change_to_what_a_search_shows_is_seen_on_the_next_search(client, make, provider, change, htmx):
    service = make.service(provider.provider, name="场发射电镜形貌", price_fen=40000)
    assert titles(client, htmx=htmx) == ["场发射电镜形貌"]
    expected = change(service)
    response = client.get("/services?q=电镜", headers=HTMX if htmx else {}).get_data(as_text=True)
    if expected is not None:
        assert CARD_TITLE.findall(response) == expected
    else:
        assert SHOWS_AFTER[change] in response


def test_the_filters_follow_new_fields_and_categories(client, make, provider):
    make.service(provider.provider)
    assert "生物医药" not in client.get("/services").get_data(as_text=True)
    db.session.add_all([Field(name="生物医药", position=9), Category(name="基因测序", position=9)])
    db.session.commit()
    page = client.get("/services").get_data(as_text=True)
    assert ">生物医药</option>" in page and ">基因测序</option>" in page


def test_a_change_through_another_worker_is_seen_by_this_one(app, client, make, provider, database_url):
    """Two app instances stand for two gunicorn workers, each with its own cache."""
    service = make.service(provider.provider, name="场发射电镜形貌")
    assert titles(client) == ["场发射电镜形貌"]
    other = create_app({**TEST_CONFIG, "DATABASE_URL": database_url, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]})
    with other.app_context():
        assert titles(other.test_client()) == ["场发射电镜形貌"]
        db.session.get(Service, service.id).name = "另一个电镜"
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert titles(client) == ["另一个电镜"]


def test_the_token_changes_when_a_catalog_change_commits_and_only_then(app, make, provider, database_url):
    service = make.service(provider.provider)
    before = catalog_token()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("UPDATE services SET name = '回滚的名字' WHERE id = :id"), {"id": service.id})
        conn.rollback()
    db.session.commit()  # a fresh snapshot for the reads below
    assert catalog_token() == before
    with engine.begin() as conn:
        conn.execute(text("UPDATE services SET name = '提交的名字' WHERE id = :id"), {"id": service.id})
    engine.dispose()
    db.session.commit()
    assert catalog_token() not in (before, None)


def test_seeding_the_demo_catalog_sets_a_new_token(app):
    db.session.execute(text("INSERT INTO cache_generations (name, token) VALUES ('catalog', 1)"))
    db.session.commit()
    seed_demo(db.session, services=60)
    assert catalog_token() not in (1, None)


def test_rows_of_a_bulk_load_leave_the_token_to_the_loader_and_only_that_transaction(app, make, provider,
                                                                                      database_url):
    """PostgreSQL (migration 0010): with cxq.bulk_load on, the row triggers skip and queue nothing; the loader sets
    the token once (new_catalog_token). The setting ends with its transaction, so the next change bumps again."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps its row triggers on during bulk loads")
    service = make.service(provider.provider)
    before = catalog_token()
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('cxq.bulk_load', 'on', true)"))
        conn.execute(text("UPDATE services SET name = '批量的名字' WHERE id = :id"), {"id": service.id})
    db.session.commit()
    assert catalog_token() == before
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('cxq.bulk_load', 'on', true)"))
        conn.execute(text("UPDATE services SET name = '批量的名字二' WHERE id = :id"), {"id": service.id})
        new_catalog_token(conn)
    db.session.commit()
    after_load = catalog_token()
    assert after_load not in (before, None)
    with engine.begin() as conn:
        conn.execute(text("UPDATE services SET name = '提交的名字' WHERE id = :id"), {"id": service.id})
    engine.dispose()
    db.session.commit()
    assert catalog_token() not in (after_load, None)


def test_writes_outside_the_catalog_keep_the_token(client, make, provider, enterprise):
    service = make.service(provider.provider)
    before = catalog_token()
    make.order(enterprise, service)
    assert catalog_token() == before


def test_an_emptied_database_is_served_without_the_cache_until_its_first_catalog_write(client, make, provider):
    db.session.execute(text("DELETE FROM cache_generations"))
    db.session.commit()
    assert db.session.scalar(select(CacheGeneration.token)) is None
    assert titles(client) == []
    make.service(provider.provider, name="场发射电镜形貌")
    assert catalog_token() is not None
    assert titles(client) == ["场发射电镜形貌"]


def test_only_get_requests_use_the_cache(app, make, provider):
    from marketplace.catalog.cache import rendered
    make.service(provider.provider)
    calls = []
    for method in ("POST", "GET", "GET"):
        with app.test_request_context("/services", method=method):
            rendered(("probe",), lambda method=method: calls.append(method) or method)
    assert calls == ["POST", "GET"]


def test_the_least_recently_used_piece_goes_first_when_the_memory_is_full():
    pieces, made = RenderedPieces(2 * weigh("a")), []

    def render(key):
        made.append(key)
        return key.upper()

    for key in ("a", "b", "a", "c", "a", "b"):
        assert pieces.get(key, lambda key=key: render(key)) == key.upper()
    assert made == ["a", "b", "c", "b"] and list(pieces.entries) == ["a", "b"]


COUNTER = re.compile(r"<strong>(\d+)</strong><span>([^<（]+)")


def home_counts(client) -> dict[str, int]:
    page = client.get("/").get_data(as_text=True)
    return {label: int(number) for number, label in COUNTER.findall(page)}


def test_the_home_page_keeps_its_catalog_part_and_counts_deals_and_new_instruments_at_once(client, make, provider,
                                                                                          enterprise):
    service = make.service(provider.provider, name="场发射电镜形貌")
    first = home_counts(client)
    assert first == {"入驻服务单位": 1, "入驻共享仪器": 1, "发布服务项目": 1, "促成服务交易": 0}
    with queries_sent() as sent:
        assert home_counts(client) == first
    assert not any("FROM services" in q.statement or "FROM instruments" in q.statement for q in sent), sent.listing()
    make.order(enterprise, service, accepted_at=utcnow())
    assert home_counts(client)["促成服务交易"] == 1
    db.session.add(Instrument(provider=provider.provider, name="X射线衍射仪", original_value_fen=0))
    db.session.commit()
    assert home_counts(client)["入驻共享仪器"] == 2
    service.name = "最新的电镜服务"
    db.session.commit()
    assert "最新的电镜服务" in client.get("/").get_data(as_text=True)
