"""The mall as the foundation serves it: home counters, search, service detail, shop."""
import re

import pytest

from marketplace.models import ServiceStatus, ShopStatus


def test_home_counts_what_is_really_on_the_platform(client, make, provider):
    make.service(provider.provider, name="XPS深度剖析")
    make.service(provider.provider, name="草稿服务", status=ServiceStatus.DRAFT)
    closed = make.provider(shop_status=ShopStatus.PENDING)
    make.service(closed.provider, name="未开店的服务")
    page = client.get("/").get_data(as_text=True)
    counters = {label: int(n) for n, label in re.findall(r"<strong>(\d+)</strong><span>([^<（]+)", page)}
    assert counters == {"入驻服务单位": 1, "入驻共享仪器": 2, "发布服务项目": 1, "促成服务交易": 0}
    assert "XPS深度剖析" in page and "草稿服务" not in page and "未开店的服务" not in page


def test_search_finds_a_two_character_chinese_word(client, listed_service):
    page = client.get("/services?q=电镜").get_data(as_text=True)
    assert listed_service.name in page and "共找到 <strong>1</strong> 项服务" in page


def test_search_finds_by_instrument_model_and_provider_name(client, listed_service):
    assert listed_service.name in client.get("/services?q=SU8010").get_data(as_text=True)
    assert listed_service.name in client.get(f"/services?q={listed_service.provider.name}").get_data(as_text=True)


def test_search_without_hits_says_so(client, listed_service):
    page = client.get("/services?q=不存在的服务").get_data(as_text=True)
    assert "没有找到符合条件的服务" in page


def test_negotiable_prices_sort_last_both_ways(client, make, provider):
    make.service(provider.provider, name="便宜", price_fen=100)
    make.service(provider.provider, name="面议服务", price_fen=None)
    make.service(provider.provider, name="昂贵", price_fen=900000)
    for sort, order in (("price_asc", ["便宜", "昂贵", "面议服务"]), ("price_desc", ["昂贵", "便宜", "面议服务"])):
        page = client.get(f"/services?sort={sort}").get_data(as_text=True)
        positions = [page.index(f">{name}</a>") for name in order]
        assert positions == sorted(positions), sort


def test_filters_by_city_and_voucher_mark(client, make, provider):
    make.service(provider.provider, name="徐州的服务")
    nanjing = make.provider(city="南京")
    make.service(nanjing.provider, name="南京的非券服务", voucher_eligible=False)
    assert "南京的非券服务" not in client.get("/services?city=徐州").get_data(as_text=True)
    page = client.get("/services?voucher=1").get_data(as_text=True)
    assert "徐州的服务" in page and "南京的非券服务" not in page


def test_pagination_pages_through_results(client, make, provider, app):
    app.config["PER_PAGE"] = 2
    for n in range(5):
        make.service(provider.provider, name=f"分页服务{n}")
    first = client.get("/services").get_data(as_text=True)
    third = client.get("/services?page=3").get_data(as_text=True)
    assert "共 3 页" in first and first.count('class="service-card"') == 2
    assert third.count('class="service-card"') == 1


def test_service_detail_shows_reference_price_and_voucher_estimate(client, make, provider):
    service = make.service(provider.provider, price_fen=1_500_000)  # 15,000 元
    page = client.get(f"/services/{service.id}").get_data(as_text=True)
    assert "该价格为参考价，具体价格请与服务单位确认" in page
    assert "¥15,000.00" in page
    assert "¥3,750.00" in page  # 25% in 苏南/苏中
    assert "SU8010" in page and "日立" in page and "7-10个自然日" in page


def test_hidden_listings_are_not_found(client, make, provider):
    draft = make.service(provider.provider, status=ServiceStatus.DRAFT)
    assert client.get(f"/services/{draft.id}").status_code == 404
    removed = make.provider(shop_status=ShopStatus.REMOVED)
    listed_of_removed = make.service(removed.provider)
    assert client.get(f"/services/{listed_of_removed.id}").status_code == 404
    assert client.get("/services/999999").status_code == 404


def test_shop_page_lists_its_services(client, listed_service):
    page = client.get(f"/shops/{listed_service.provider_id}").get_data(as_text=True)
    assert listed_service.provider.name in page and listed_service.name in page


def test_policy_page_works_the_seed_examples(client):
    page = client.get("/policy").get_data(as_text=True)
    assert "¥35,000.00" in page and "¥140,000.00" in page and "壹拾肆万元整" in page and "¥60,000.00" in page


def test_publicity_page_has_an_empty_state(client):
    assert "当前没有处于公示期的兑付" in client.get("/publicity").get_data(as_text=True)


def test_unknown_page_is_a_chinese_404_and_a_fragment_for_htmx(client):
    page = client.get("/no-such-page")
    fragment = client.get("/no-such-page", headers={"HX-Request": "true"})
    assert page.status_code == fragment.status_code == 404
    assert "页面不存在" in page.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"
    assert response.json["dialect"] in ("sqlite", "postgresql")


def test_healthz_reports_an_unreachable_database(app, tmp_path):
    from marketplace import create_app

    broken = create_app({"TESTING": True, "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
                         "SECRET_KEY": "x"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["status"] == "degraded"


@pytest.fixture
def boom_route(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")
    return "/boom"


def test_unexpected_errors_get_the_chinese_500_page(client, boom_route):
    response = client.get(boom_route)
    assert response.status_code == 500 and "系统繁忙" in response.get_data(as_text=True)
