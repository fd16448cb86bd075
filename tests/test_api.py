"""The public open-data API (/api/v1): the mall's search as JSON, the publicity lists, and the headers that let a
municipal portal read and cache them."""
import re

import pytest
from sqlalchemy import select

from marketplace.catalog.search import SearchArgs, search
from marketplace.extensions import db
from marketplace.models import Field, PublicityBatch, RedemptionStatus, Service, ServiceStatus, ShopStatus

CARD_IDS = re.compile(r'<h3><a href="/services/(\d+)">')


@pytest.fixture
def catalog(make):
    """Services in two cities, with and without the voucher mark and a price, one in a closed shop, one not
    listed; two fields."""
    nanjing = make.provider(city="南京", name="南京大学现代分析中心").provider
    xuzhou = make.provider(city="徐州", name="中国矿业大学分析测试中心").provider
    closed = make.provider(city="南京", name="已退出的检测所", shop_status=ShopStatus.REMOVED).provider
    services = [
        make.service(nanjing, name="场发射扫描电镜形貌分析", price_fen=40000),
        make.service(nanjing, name="透射电镜高分辨成像", price_fen=123456),
        make.service(xuzhou, name="扫描电镜能谱分析", price_fen=None),
        make.service(xuzhou, name="X射线衍射物相分析", price_fen=30000, voucher_eligible=False),
        make.service(xuzhou, name="电镜样品制备", status=ServiceStatus.PENDING),
        make.service(closed, name="电镜形貌观察（已下线）"),
    ]
    biology = Field(name="生物医药", position=0)
    services[1].fields.append(biology)
    db.session.commit()
    return services


def html_ids(client, query: str) -> list[int]:
    page = client.get(f"/services?{query}").get_data(as_text=True)
    return [int(found) for found in CARD_IDS.findall(page)]


def api(client, query: str = "", path: str = "/api/v1/services"):
    response = client.get(f"{path}?{query}" if query else path)
    return response, response.get_json()


@pytest.mark.parametrize("query", ["", "q=电镜", "q=电镜&city=南京", "city=徐州&sort=price_asc", "sort=price_desc",
                                   "voucher=1", "q=扫描&sort=newest", "price_min=300&price_max=500", "FIELD",
                                   "CATEGORY&q=电镜"])
def test_the_api_finds_what_the_services_page_finds_in_the_same_order(client, catalog, query):
    field = db.session.scalar(select(Field).where(Field.name == "生物医药"))
    category = catalog[0].category.parent
    query = query.replace("FIELD", f"field={field.id}").replace("CATEGORY", f"category={category.id}")
    response, data = api(client, query)
    assert response.status_code == 200
    assert [item["id"] for item in data["items"]] == html_ids(client, query)
    assert data["total"] == len(data["items"]) > 0


def test_only_listed_services_of_open_shops_are_published(client, catalog):
    _, data = api(client, "q=电镜")
    names = {item["name"] for item in data["items"]}
    assert names == {"场发射扫描电镜形貌分析", "透射电镜高分辨成像", "扫描电镜能谱分析"}
    assert [item["id"] for item in data["items"]] == search(SearchArgs(q="电镜"), 0, 100).ids


def test_a_service_is_described_with_its_provider_price_fields_category_and_address(client, catalog):
    _, data = api(client, "q=透射")
    (item,) = data["items"]
    service = catalog[1]
    assert item == {
        "id": service.id, "name": "透射电镜高分辨成像",
        "provider": {"id": service.provider_id, "name": "南京大学现代分析中心", "city": "南京"},
        "price_fen": 123456, "price_yuan": "1234.56", "price_unit": "元/样品", "negotiable": False,
        "voucher_eligible": True, "fields": ["生物医药", "新材料"],
        "category": {"id": service.category_id, "name": "微观形貌分析",
                     "parent": {"id": service.category.parent_id, "name": "微区分析"}},
        "url": f"http://localhost/services/{service.id}",
    }
    _, data = api(client, "q=能谱")
    (negotiable,) = data["items"]
    assert ([negotiable[key] for key in ("price_fen", "price_yuan", "price_unit", "negotiable")]
            == [None, None, None, True])


def test_pages_carry_their_numbers_and_a_link_to_the_next(client, catalog):
    _, first = api(client, "q=电镜&per_page=2")
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert first["next"] == "http://localhost/api/v1/services?q=%E7%94%B5%E9%95%9C&page=2&per_page=2"
    response = client.get(first["next"])
    second = response.get_json()
    assert (second["page"], len(second["items"]), second["next"]) == (2, 1, None)
    assert {item["id"] for item in first["items"] + second["items"]} == set(search(SearchArgs(q="电镜"), 0, 10).ids)


def test_per_page_defaults_to_20_and_is_capped_at_100(client, make, provider):
    for n in range(101):
        db.session.add(Service(provider=provider.provider, nature="testing", name=f"批量检测项目{n}",
                               description="用于分页测试的服务。", status=ServiceStatus.LISTED))
    db.session.commit()
    _, default = api(client)
    assert (default["per_page"], len(default["items"]), default["pages"]) == (20, 20, 6)
    _, capped = api(client, "per_page=500")
    assert (capped["per_page"], len(capped["items"]), capped["total"]) == (100, 100, 101)
    assert capped["next"].endswith("page=2&per_page=100")


@pytest.mark.parametrize("query, params, message", [
    ("page=0", ["page"], "page应为正整数"),
    ("page=abc", ["page"], "page应为正整数"),
    ("per_page=-5", ["per_page"], "per_page应为正整数"),
    ("field=999", ["field"], "没有这个服务领域"),
    ("category=x", ["category"], "没有这个服务类别"),
    ("city=上海", ["city"], "“上海”不是江苏省的设区市"),
    ("sort=cheapest", ["sort"], "没有这种排序方式"),
    ("price_min=abc&page=0", ["price_min", "page"], "最低价"),
])
def test_bad_parameters_are_refused_with_400_and_a_chinese_message(client, catalog, query, params, message):
    response, data = api(client, query)
    assert response.status_code == 400
    assert response.content_type == "application/json; charset=utf-8"
    assert message in data["error"]
    assert data["params"] == params


def test_answers_are_public_json_any_origin_may_read_and_cache(client, catalog):
    for path in ("/api/v1/services?q=电镜", "/api/v1/publicity"):
        response = client.get(path, headers={"Origin": "https://www.jiangsu.gov.cn"})
        assert response.status_code == 200
        assert response.content_type == "application/json; charset=utf-8"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.headers["Cache-Control"] == "public, max-age=60"
        assert "Set-Cookie" not in response.headers
        assert "电镜" in response.get_data(as_text=True) or path.endswith("publicity")  # Chinese as is


def test_the_api_is_read_only_and_unknown_paths_answer_json_404(client, catalog):
    for method in ("post", "put", "delete"):
        response = getattr(client, method)("/api/v1/services", **({"csrf": False} if method == "post" else {}))
        assert response.status_code == 405
        assert response.get_json()["error"] == "该地址不支持此请求方式。"
    missing = client.get("/api/v1/nothing")
    assert missing.status_code == 404
    assert missing.get_json()["error"]
    assert missing.headers["Access-Control-Allow-Origin"] == "*"
    assert "Cache-Control" not in missing.headers or "public" not in missing.headers["Cache-Control"]


# ---------------------------------------------------------------- publicity

def test_claims_and_shops_in_publicity_are_published(client, make, enterprise):
    make.voucher(enterprise)
    claim = make.claim(enterprise, status=RedemptionStatus.PUBLICITY, amount_fen=1_234_500)
    make.claim(enterprise, status=RedemptionStatus.SUBMITTED)
    batch = db.session.get(PublicityBatch, claim.publicity_batch_id)
    shop = make.provider(name="第三方检测公司", shop_status=ShopStatus.PUBLICITY).provider
    shop_batch = PublicityBatch(kind="shop", title="入库公示", starts_on=batch.starts_on, ends_on=batch.ends_on,
                                created_by_id=make.reviewer().id)
    db.session.add(shop_batch)
    db.session.flush()
    shop.publicity_batch_id, shop.unit_type = shop_batch.id, "third_party"
    db.session.commit()
    response, data = api(client, path="/api/v1/publicity")
    assert response.status_code == 200
    assert data["claims"] == [{
        "id": claim.id, "enterprise": claim.enterprise.name, "provider": claim.order.provider.name,
        "approved_fen": claim.approved_fen,
        "approved_yuan": f"{claim.approved_fen // 100}.{claim.approved_fen % 100:02d}",
        "starts_on": batch.starts_on.isoformat(), "ends_on": batch.ends_on.isoformat()}]
    assert claim.approved_fen > 0
    assert data["shops"] == [{"id": shop.id, "name": "第三方检测公司", "credit_code": shop.credit_code,
                              "unit_type": "第三方检测机构及其他单位", "city": "徐州",
                              "starts_on": batch.starts_on.isoformat(), "ends_on": batch.ends_on.isoformat()}]
    assert (data["page"], data["total"], data["pages"], data["next"]) == (1, 1, 1, None)


def test_publicity_paging_is_checked_like_the_search(client):
    response, data = api(client, "page=x", path="/api/v1/publicity")
    assert response.status_code == 400
    assert data == {"error": "page应为正整数", "params": ["page"]}
    _, empty = api(client, path="/api/v1/publicity")
    assert (empty["claims"], empty["shops"], empty["total"]) == ([], [], 0)
