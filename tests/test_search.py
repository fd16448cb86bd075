"""The mall's search (GET /services): what a query finds, filters, sorts, pages, the fragment, and an index that
stays in step with the catalog. Run on SQLite (FTS5) and on PostgreSQL (tsvector): both must give the hits a
plain Python reading of the same rules gives, so they give each other's."""
import re
from datetime import UTC, timedelta

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from marketplace.catalog.search import SearchArgs, search
from marketplace.catalog.search_index import reindex_instrument, reindex_provider
from marketplace.catalog.search_tokens import SEPARATOR, Term, query_terms, service_index_text
from marketplace.config import ROOT
from marketplace.demo import seed_demo
from marketplace.extensions import db
from marketplace.models import Category, Field, Provider, Service, ServiceStatus, ShopStatus, utcnow

HTMX = {"HX-Request": "true"}
TOTAL = re.compile(r"共找到 <strong>(\d+)</strong>")
CARD_NAMES = re.compile(r'<h3><a href="/services/\d+">([^<]+)</a>')
PROPERTY_QUERIES = ["镜", "谱", "测", "电镜", "光谱", "检测", "扫描电镜", "射线衍射", "SU8010", "su80", "8010", "XPS",
                    "PCR", "ICP", "D8", "JEM-2100F", "XPS深度", "日立", "Thermo", "KRÜSS", "中国矿业大学", "%",
                    "矿业大学 电镜"]


def names(page: str) -> list[str]:
    return CARD_NAMES.findall(page)


def total(page: str) -> int:
    return int(TOTAL.search(page).group(1))


def get(client, query: str, htmx: bool = False) -> str:
    response = client.get(f"/services?{query}", headers=HTMX if htmx else {})
    assert response.status_code == 200, query
    return response.get_data(as_text=True)


def all_hits(args: SearchArgs) -> list[int]:
    return search(args, 0, 1_000_000).ids


# ---------------------------------------------------------------- tokens

def test_queries_become_bigrams_single_characters_and_latin_prefixes():
    assert query_terms("镜") == [Term("镜", False)]
    assert query_terms("电镜") == [Term("电镜", False)]
    assert query_terms("扫描电镜") == [Term("扫描", False), Term("描电", False), Term("电镜", False)]
    assert query_terms("SU80 XPS深度") == [Term("su80", True), Term("xps", True), Term("深度", False)]
    assert query_terms("（%）") == []


def test_stored_tokens_put_the_title_first_and_keep_model_number_tails():
    stored = service_index_text("扫描电镜", "观察形貌，日立电镜", "SEM", "场发射扫描电子显微镜", "SU8010", "日立",
                                "中心")
    title, body = (part.split() for part in stored.split(SEPARATOR))
    assert {"扫", "扫描", "电镜", "sem", "su8010", "8010", "显微"} <= set(title)
    assert {"观察", "日立", "中心"} <= set(body) and not set(title) & set(body)


# ---------------------------------------------------------------- what a query finds

def offer(make, shop, name: str, description: str | None = None, instrument: bool = True, **fields) -> Service:
    """A listed service; the factory's description and SU8010 instrument unless told otherwise."""
    service = make.service(shop, name=name, **fields)
    service.description = description or service.description
    service.instrument = service.instrument if instrument else None
    db.session.commit()
    return service


@pytest.fixture
def catalog(make, provider):
    shop = provider.provider
    return {
        "sem": offer(make, shop, "场发射扫描电镜形貌分析"),
        "tem": offer(make, shop, "透射电镜高分辨成像",
                     "使用透射电子显微镜观察样品的晶格结构，分辨率高，可出具规范的测试报告。", instrument=False),
        "pcr": offer(make, shop, "实时荧光PCR检测",
                     "基于荧光定量聚合酶链式反应的核酸扩增检测服务，适用于基因表达分析。", instrument=False),
        "xrd": offer(make, shop, "X射线衍射物相分析",
                     "利用X射线衍射仪测定粉末或块体样品的物相组成与晶型结构，出具分析报告。", instrument=False),
    }


@pytest.mark.parametrize("query, expected", [
    ("镜", {"sem", "tem"}),            # one character: every service with it
    ("电镜", {"sem", "tem"}),           # two
    ("扫描电镜", {"sem"}),               # four: all bigrams required
    ("衍射", {"xrd"}),
    ("SU8010", {"sem"}),               # latin model number, via the instrument
    ("su80", {"sem"}),                 # prefix
    ("8010", {"sem"}),                 # the digits of a model number
    ("pcr", {"pcr"}),                  # case-insensitive
    ("PCR 荧光", {"pcr"}),              # several words: all required
    ("PCR 电镜", set()),
    ("检测中心", {"sem", "tem", "pcr", "xrd"}),  # the provider's name
    ("不存在", set()),
])
def test_queries_of_one_two_and_four_characters_and_model_numbers_find_exactly_their_services(client, catalog, query,
                                                                                              expected):
    page = get(client, f"q={query}")
    assert set(names(page)) == {catalog[key].name for key in expected} and total(page) == len(expected)


def test_the_index_follows_creating_renaming_delisting_and_deleting(client, make, provider):
    service = make.service(provider.provider, name="原子力显微镜表面形貌")
    assert names(get(client, "q=原子力")) == [service.name]
    service.name = "纳米压痕硬度测试"
    db.session.commit()
    assert names(get(client, "q=原子力")) == [] and names(get(client, "q=压痕")) == ["纳米压痕硬度测试"]
    service.status = ServiceStatus.DELISTED
    db.session.commit()
    assert total(get(client, "q=压痕")) == 0
    service.status = ServiceStatus.LISTED
    db.session.commit()
    assert total(get(client, "q=压痕")) == 1
    db.session.delete(service)
    db.session.commit()
    assert total(get(client, "q=压痕")) == 0
    assert_index_intact()


def test_renaming_a_provider_or_an_instrument_reindexes_its_services(client, make, provider):
    service = make.service(provider.provider)
    provider.provider.name = "南京大学现代分析中心"
    service.instrument.model = "Regulus 8230"
    db.session.commit()
    assert names(get(client, "q=现代分析")) == [service.name]
    assert names(get(client, "q=Regulus")) == [service.name] and total(get(client, "q=SU8010")) == 0
    db.session.execute(text("UPDATE instruments SET model = 'S-4800' WHERE id = :id"), {"id": service.instrument_id})
    assert reindex_instrument(service.instrument_id) == 1
    db.session.execute(text("UPDATE providers SET name = '东南大学' WHERE id = :id"), {"id": service.provider_id})
    assert reindex_provider(service.provider_id) == 1
    db.session.commit()
    assert names(get(client, "q=S-4800 东南大学")) == [service.name]
    assert_index_intact()


def test_closed_shops_and_unlisted_services_are_never_found_and_a_move_is_followed(client, make, provider):
    make.service(provider.provider, name="草稿电镜", status=ServiceStatus.DRAFT)
    make.service(provider.provider, name="审核中电镜", status=ServiceStatus.PENDING)
    listed = make.service(provider.provider, name="上架电镜")
    assert names(get(client, "q=电镜")) == [listed.name]
    provider.provider.status = ShopStatus.REMOVED
    db.session.commit()
    assert total(get(client, "q=电镜")) == 0 and total(get(client, "")) == 0
    provider.provider.status = ShopStatus.OPEN
    db.session.commit()
    assert names(get(client, "q=电镜")) == [listed.name]
    provider.provider.city = "南京"
    db.session.commit()
    assert total(get(client, "q=电镜&city=徐州")) == 0 and names(get(client, "q=电镜&city=南京")) == [listed.name]
    assert_index_intact()


def test_a_query_without_searchable_characters_falls_back_to_a_substring_scan(client, make, provider):
    make.service(provider.provider, name="温度范围-80~200℃的热分析")
    make.service(provider.provider, name="常温测试")
    assert names(get(client, "q=℃")) == ["温度范围-80~200℃的热分析"]


# ---------------------------------------------------------------- filters

def test_filters_by_field_category_city_district_voucher_and_qualification(client, make, provider):
    nanjing = make.provider(city="南京").provider
    nanjing.district = "鼓楼区"
    base = make.service(provider.provider, name="徐州云龙区服务")
    other = make.service(nanjing, name="南京鼓楼区服务", voucher_eligible=False, has_qualification=True)
    biology = Field(name="生物医药", position=0)
    other.fields = [biology]
    db.session.commit()
    top_id = base.category.parent_id
    assert names(get(client, f"field={biology.id}")) == [other.name]
    assert names(get(client, f"category={top_id}")) == [base.name]  # a top-level category matches its children
    assert names(get(client, f"category={base.category_id}")) == [base.name]
    assert names(get(client, "city=南京")) == [other.name]
    assert names(get(client, "city=南京市&district=鼓楼区")) == [other.name]
    assert names(get(client, "city=徐州&district=鼓楼区")) == [base.name]  # a district of another city is dropped
    assert names(get(client, "voucher=1")) == [base.name]
    assert names(get(client, "qualified=1")) == [other.name]
    assert total(get(client, f"voucher=1&qualified=1&city=南京&field={biology.id}")) == 0
    assert_index_intact()


def test_price_range_is_in_yuan_inclusive_and_leaves_out_negotiable(client, make, provider):
    for name, fen in (("一百元", 10_000), ("一百零五元五角", 10_550), ("两百元", 20_000), ("面议服务", None)):
        make.service(provider.provider, name=name, price_fen=fen)
    assert set(names(get(client, "price_min=100&price_max=105.5"))) == {"一百元", "一百零五元五角"}
    assert set(names(get(client, "price_min=150"))) == {"两百元"}
    assert set(names(get(client, "price_max=1,000"))) == {"一百元", "一百零五元五角", "两百元"}
    assert names(get(client, "price_min=200&price_max=100&sort=price_desc")) == ["两百元", "一百零五元五角", "一百元"]
    page = get(client, "price_min=100")
    assert "不含面议" in page and 'value="100"' in page


@pytest.mark.parametrize("query, message", [
    ("price_min=abc", "最低价：请填写数字金额"),
    ("price_max=-5", "最高价：金额不能为负数"),
    ("price_max=NaN", "最高价：请填写数字金额"),
    ("field=999999", "没有这个服务领域"),
    ("category=abc", "没有这个服务类别"),
    ("city=北京", "不是江苏省的设区市"),
    ("page=abc", "共找到"),
    ("page=99999", "共找到"),
    ("sort=drop+table", "共找到"),
    ("district=不存在区", "共找到"),
])
def test_bad_filter_values_are_ignored_with_a_chinese_note_never_an_error(client, listed_service, query, message):
    for htmx in (False, True):
        page = get(client, query, htmx)
        assert message in page and total(page) == 1


# ---------------------------------------------------------------- order and pages

def test_relevance_puts_title_hits_first_then_the_newest(client, make, provider):
    old_title = make.service(provider.provider, name="拉曼光谱")
    newer_body = offer(make, provider.provider, "红外分析",
                       "可同时提供拉曼光谱与红外光谱联用分析，出具完整报告并解读数据。")
    new_title = make.service(provider.provider, name="共聚焦拉曼光谱")
    old_title.published_at, new_title.published_at = utcnow() - timedelta(days=9), utcnow() - timedelta(days=1)
    db.session.commit()
    assert names(get(client, "q=拉曼")) == [new_title.name, old_title.name, newer_body.name]
    assert names(get(client, "q=拉曼&sort=newest")) == [newer_body.name, new_title.name, old_title.name]


def test_price_sorts_put_negotiable_last_both_ways(client, make, provider):
    for name, fen in (("中价", 5_000), ("面议甲", None), ("低价", 100), ("高价", 900_000), ("面议乙", None)):
        make.service(provider.provider, name=name, price_fen=fen)
    assert names(get(client, "sort=price_asc"))[:3] == ["低价", "中价", "高价"]
    assert names(get(client, "sort=price_desc"))[:3] == ["高价", "中价", "低价"]
    assert ({*names(get(client, "sort=price_asc"))[3:]} == {*names(get(client, "sort=price_desc"))[3:]}
            == {"面议甲", "面议乙"})


def test_twenty_results_a_page_and_the_pager_keeps_the_filters(client, make, provider):
    for n in range(45):
        make.service(provider.provider, name=f"电镜测试{n:02d}", price_fen=100 * (n + 1))
    first, third = get(client, "q=电镜&sort=price_asc"), get(client, "q=电镜&sort=price_asc&page=3")
    assert len(names(first)) == 20 and names(third) == [f"电镜测试{n}" for n in range(40, 45)]
    assert "共 3 页" in first and 'href="/services?q=%E7%94%B5%E9%95%9C&amp;sort=price_asc&amp;page=2"' in first
    assert names(get(client, "q=电镜&sort=price_asc&page=99")) == names(third)  # past the end: the last page


# The fragment htmx gets, and the district filter that follows the city: tests/test_catalog_search_history.py.


# ---------------------------------------------------------------- the demo catalog: superset and one truth

@pytest.fixture
def demo(app):
    seed_demo(db.session, services=600)
    db.session.expire_all()
    return visible_services()


def test_every_query_finds_at_least_what_a_substring_search_finds(app, demo):
    answered = []
    for query in PROPERTY_QUERIES:
        args = SearchArgs(q=query)
        indexed = set(all_hits(args))
        app.config["SEARCH_SUBSTRING_SCAN"] = True
        substring = set(all_hits(args))
        app.config["SEARCH_SUBSTRING_SCAN"] = False
        assert substring <= indexed, (query, substring - indexed)
        answered += [query] if substring else []
    assert len(answered) >= len(PROPERTY_QUERIES) - 2, set(PROPERTY_QUERIES) - set(answered)  # not vacuous


def test_hits_and_their_order_follow_the_rules_on_either_database(demo):
    field_id = db.session.scalar(select(Field.id).where(Field.name == "新材料"))
    top = db.session.scalar(select(Category).where(Category.name == "微区分析", Category.parent_id.is_(None)))
    cases = [SearchArgs(q=q, sort=sort) for q in ("镜", "电镜", "扫描电镜", "su80", "检测 日立", "")
             for sort in ("relevance", "newest", "price_asc", "price_desc")]
    cases += [SearchArgs(q="检测", city="南京", voucher=True, sort="price_asc"),
              SearchArgs(q="分析", field=field_id, qualified=True, sort="price_desc"),
              SearchArgs(category=top.id, price_min_fen=10_000, price_max_fen=300_000),
              SearchArgs(q="测试", price_min_fen=5_000, sort="relevance"),
              SearchArgs(q="谱", price_max_fen=50_000, sort="price_desc"),
              SearchArgs(city="苏州", district=demo_district(demo, "苏州"), sort="newest")]
    for args in cases:
        assert all_hits(args) == reference_search(demo, args), args
    paged = SearchArgs(q="测试", sort="price_asc", price_min_fen=20_000)
    pages = [search(paged, offset, 7) for offset in range(0, 70, 7)]
    assert [i for page in pages for i in page.ids] == reference_search(demo, paged)[:70]
    assert_index_intact()


def visible_services() -> list[Service]:
    return db.session.scalars(select(Service).join(Service.provider)
                              .where(Service.status == ServiceStatus.LISTED, Provider.status == ShopStatus.OPEN)
                              .options(joinedload(Service.provider), joinedload(Service.category),
                                       selectinload(Service.fields))).unique().all()


def demo_district(services: list[Service], city: str) -> str:
    return next(s.provider.district for s in services if s.provider.city == city and s.provider.district)


def reference_search(services: list[Service], args: SearchArgs) -> list[int]:
    """The rules of the search, read plainly in Python."""
    terms = query_terms(args.q)

    def found(words: set[str]) -> bool:
        return all(any(w == t.text or (t.prefix and w.startswith(t.text)) for w in words) for t in terms)

    def kept(s: Service) -> bool:
        title, body = (set(part.split()) for part in s.search_tokens.split(SEPARATOR))
        category = s.category
        return (found(title | body)
                and (not args.city or s.provider.city == args.city)
                and (not args.district or s.provider.district == args.district)
                and (not args.voucher or s.voucher_eligible) and (not args.qualified or s.has_qualification)
                and (args.field is None or args.field in {f.id for f in s.fields})
                and (args.category is None or args.category in (s.category_id, category and category.parent_id))
                and (not args.has_price_range
                     or (s.price_fen is not None and (args.price_min_fen or 0) <= s.price_fen
                         and (args.price_max_fen is None or s.price_fen <= args.price_max_fen))))

    def published(s: Service) -> int:
        return int(s.published_at.replace(tzinfo=UTC).timestamp()) if s.published_at else 0

    def in_title(s: Service) -> bool:
        return found(set(s.search_tokens.split(SEPARATOR)[0].split()))

    orders = {
        "price_asc": lambda s: (s.price_fen is None, s.price_fen or 0, s.id),
        "price_desc": lambda s: (s.price_fen is None, -(s.price_fen or 0), -s.id),
        "newest": lambda s: (-published(s), -s.id),
        "relevance": lambda s: (not in_title(s) if terms else False, -published(s), -s.id),
    }
    return [s.id for s in sorted(filter(kept, services), key=orders[args.sort])]


def assert_index_intact() -> None:
    """SQLite: FTS5 checks both indexes against the view they index (the services anyone may buy)."""
    if db.is_sqlite:
        for table in ("service_search_newest", "service_search_price"):
            db.session.execute(text(f"INSERT INTO {table}({table}, rank) VALUES ('integrity-check', 1)"))


# ---------------------------------------------------------------- the migration

def alembic(url: str, *steps: str) -> None:
    config = AlembicConfig(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["skip_logging"] = True
    for step in steps:
        command.upgrade(config, step) if step == "head" else command.downgrade(config, step)


def search_objects(url: str) -> set[str]:
    engine = create_engine(url)
    inspector = inspect(engine)
    found = {t for t in inspector.get_table_names() if t.startswith("service_search")}
    found |= {c["name"] for c in inspector.get_columns("services") if c["name"] == "search_vector"}
    engine.dispose()
    return found


BEFORE_SEARCH = "0001"  # the revision before the search index


def test_the_search_migration_goes_down_and_up_again(database_url, tmp_path):
    urls = [f"sqlite:///{tmp_path / 'empty.db'}"]
    if not database_url.startswith("sqlite"):
        urls.append(database_url)
    for url in urls:
        alembic(url, "head")
        assert search_objects(url)
        alembic(url, BEFORE_SEARCH)
        assert not search_objects(url)
        alembic(url, "head")
        assert search_objects(url)


def test_the_migration_retokenizes_and_indexes_existing_services(tmp_path):
    url = f"sqlite:///{tmp_path / 'existing.db'}"
    alembic(url, "head", BEFORE_SEARCH)
    engine = create_engine(url)
    with Session(engine) as session:
        shop = Provider(name="老店", credit_code="X", unit_type="university", city="南京", status=ShopStatus.OPEN)
        session.add(Service(provider=shop, nature="testing", name="热重分析", description="", published_at=utcnow(),
                            status=ServiceStatus.LISTED))
        session.commit()
        session.execute(text("UPDATE services SET search_tokens = '热 重'"))  # the layout before this migration
        session.commit()
    alembic(url, "head")
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT search_tokens FROM services")).startswith("热 重 分 析 热重")
        match = f'title : "热重" AND facets : "c{"南京".encode().hex()}"'
        assert conn.scalar(text("SELECT count(*) FROM service_search_newest WHERE service_search_newest MATCH :m"),
                           {"m": match}) == 1
    engine.dispose()


# ---------------------------------------------------------------- counting and paging at size

def test_a_page_past_the_end_answers_the_last_page_from_one_search(app, make, provider):
    for n in range(5):
        offer(make, provider.provider, f"电镜检测{n}")
    every = all_hits(SearchArgs(q="电镜"))
    hits = search(SearchArgs(q="电镜"), 9_980, 2)
    assert (hits.total, hits.offset, hits.ids) == (5, 4, every[4:])
    assert search(SearchArgs(q="没有的词"), 40, 20).offset == 0


def test_postgresql_stops_counting_at_the_bound_and_the_page_says_so(app, client, make, provider):
    app.config.update(SEARCH_COUNT_BOUND=3, PER_PAGE=2)
    for n in range(5):
        offer(make, provider.provider, f"电镜检测{n}")
    page = get(client, "q=电镜&page=9")
    if db.is_sqlite:  # FTS5 counts from its index: exact
        assert "共找到 <strong>5</strong>" in page and "共 3 页" in page
        return
    assert "共找到 <strong>3+</strong>" in page and "共 2 页" in page
    assert len(names(page)) == 2 and '<span aria-current="page">2</span>' in page  # the last page, full
    assert search(SearchArgs(q="电镜"), 0, 2).more
