"""The demo catalog (`marketplace.demo.seed_demo`) on a real SQLite file database."""
import re
from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, aliased
from werkzeug.security import check_password_hash

from marketplace import policy, validators
from marketplace.catalog.search_tokens import tokens
from marketplace.demo import DEMO_PASSWORD, seed_demo
from marketplace.demo.data import DISTRICTS
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    Base,
    Category,
    CitySetting,
    Enterprise,
    Field,
    Instrument,
    KexiaoEntry,
    Order,
    Provider,
    Rating,
    Role,
    Service,
    ServiceStatus,
    ShopStatus,
    User,
    Voucher,
    china_today,
    service_fields,
)

SEED = 20250327
SEED_DAY = date(2025, 3, 27)
SEED_PROVIDER_COUNT = 14
SPEC_FIELDS = ["生物医药", "新材料", "半导体", "新能源", "航空航天", "物联网", "电子信息", "高端装备制造", "其他"]
SPEC_CATEGORIES = {
    "结构分析": ["物相与晶型分析", "分子结构分析", "立体构型分析", "晶体取向分析", "应力与织构分析", "其他"],
    "组成分析": ["元素定性分析", "元素定量分析", "组分分离鉴定", "同位素分析", "大分子分析", "其他"],
    "表面分析": ["表面元素与组成分析", "表面/薄膜形貌分析", "表面/薄膜物相与晶型", "表面/薄膜性质分析", "其他"],
    "微区分析": ["微观形貌分析", "微区结构分析", "微区成分分析", "其他"],
    "物化性质": ["粒度/颗粒分析", "硬度/厚度/密度", "熔点/沸点/折光率", "比表面/孔径/孔容", "热学性能分析",
             "力学性能分析", "声光电磁性能", "还原/氧化/吸附性能", "流体性能分析", "其他"],
    "制备加工": ["材料制备", "测试制样", "非环境条件", "其他"],
    "其他": ["其他"],
}


def fresh_session(path) -> Session:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    return Session(engine)


def seeded(tmp_path_factory, services: int, seed: int = SEED):
    session = fresh_session(tmp_path_factory.mktemp("demo") / "t.db")
    return session, seed_demo(session, services=services, seed=seed)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    session, summary = seeded(tmp_path_factory, 400)
    yield session, summary
    session.close()


@pytest.fixture(scope="module")
def medium(tmp_path_factory):
    """Large enough for removed and pending shops to appear."""
    session, summary = seeded(tmp_path_factory, 2000)
    yield session, summary
    session.close()


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def catalog_rows(session):
    return session.execute(select(Service.name, Service.price_fen, Provider.city)
                           .join(Provider, Service.provider_id == Provider.id).order_by(Service.id)).all()


# ---------------------------------------------------------------- sizes and validity

def test_counts_match_the_summary(small):
    session, summary = small
    assert summary["services"] == count(session, Service) == 400
    assert summary["providers"] == count(session, Provider) >= SEED_PROVIDER_COUNT
    assert summary["instruments"] == count(session, Instrument) > 0


def test_descriptions_have_the_policy_length(small):
    session, _ = small
    lengths = [len(text) for text in session.scalars(select(Service.description))]
    assert min(lengths) >= policy.SERVICE_DESCRIPTION_MIN
    assert max(lengths) <= policy.SERVICE_DESCRIPTION_MAX


def test_registration_details_pass_the_validators(small):
    session, _ = small
    providers = session.scalars(select(Provider)).all()
    codes = [p.credit_code for p in providers] + list(session.scalars(select(Enterprise.credit_code)))
    assert len(set(codes)) == len(codes)
    assert [code for code in codes if validators.credit_code_problem(code) is not None] == []
    for provider in providers:
        assert validators.id_number_problem("id_card", provider.legal_rep_id_number) is None
        assert validators.mobile_problem(provider.legal_rep_phone) is None
        assert validators.phone_problem(provider.contact_phone) is None
        assert validators.bank_branch_code_problem(provider.bank_branch_code) is None


def test_every_city_has_providers(small):
    session, _ = small
    assert set(session.scalars(select(Provider.city))) == set(policy.CITIES)


def test_districts_belong_to_their_city(medium):
    session, _ = medium
    for city, district in session.execute(select(Provider.city, Provider.district)):
        assert policy.normalize_city(city) == city
        assert district in DISTRICTS[city]


def test_prices_mix_units_and_negotiable(small):
    session, _ = small
    prices = session.execute(select(Service.price_fen, Service.price_unit)).all()
    assert any(price is None for price, _ in prices)
    assert all(price is None or (isinstance(price, int) and price >= 0) for price, _ in prices)
    assert len({unit for _, unit in prices}) >= 4


def test_large_instruments_are_worth_at_least_300000_yuan(small):
    session, _ = small
    values = session.scalars(select(Instrument.original_value_fen)).all()
    large = [value for value in values if value >= policy.LARGE_INSTRUMENT_MIN_FEN]
    assert len(large) >= 0.9 * len(values)


def test_every_service_has_one_to_three_fields(small):
    session, _ = small
    per_service = session.execute(select(service_fields.c.service_id, func.count())
                                  .group_by(service_fields.c.service_id)).all()
    assert len(per_service) == 400
    assert all(1 <= fields <= 3 for _, fields in per_service)


# ---------------------------------------------------------------- the seed document

@pytest.mark.parametrize("provider, name, price_fen, unit", [
    ("南京江北新区生物医药公共服务平台", "二代基因文库测序", 750_000, "元/样品"),
    ("中国矿业大学", "亚分辨率线及10μm微加工", 200_000, "元/小时"),
    ("江苏省软件产业检测中心", "软件产品评估检测", 200_000, "元/样品"),
    ("江苏科特生物技术检测有限公司", "生物相容性试验", 1_500_000, "元/样品"),
    ("中国矿业大学", "高真空模式形貌分析", 16_000, "元/样品"),
    ("中国矿业大学", "常规XPS分析; XPS深度剖析", 40_000, "元/样品"),
    ("中国矿业大学", "TEM图像及能谱分析", 110_000, "元/样品"),
    ("苏州中达检测技术有限公司", "集成电路测试方案及程序开发", 2_000_000, "元/样品"),
    ("徐州市检验检测中心", "矿用通风机无线多参数测试仪", None, "元/样品"),
    ("徐州市检验检测中心", "荧光定量PCR位服务", None, "元/样品"),
    ("徐州医科大学", "多功能圆二色谱仪", None, "元/样品"),
])
def test_seed_services_keep_their_prices(small, provider, name, price_fen, unit):
    session, _ = small
    service = session.scalars(select(Service).join(Provider, Service.provider_id == Provider.id)
                              .where(Provider.name == provider, Service.name == name)).one()
    assert (service.price_fen, service.price_unit) == (price_fen, unit)
    assert service.status == ServiceStatus.LISTED and service.published_at is not None
    assert service.voucher_eligible


def test_seed_providers_keep_their_addresses(small):
    session, _ = small
    cumt = session.scalars(select(Provider).where(Provider.name == "中国矿业大学")).one()
    assert (cumt.city, cumt.district, cumt.address_detail) == ("徐州", "云龙区", "大学路1号")
    assert (cumt.website, cumt.unit_type, cumt.is_pilot) == ("dygk.cumt.edu.cn", "university", True)
    centre = session.scalars(select(Provider).where(Provider.name == "徐州市检验检测中心")).one()
    assert centre.address == "江苏省徐州市云龙区南院路12号"
    assert centre.unit_type == "public_institution"


def test_third_party_labs_meet_the_entry_rules(medium):
    session, _ = medium
    labs = session.scalars(select(Provider).where(Provider.unit_type == "third_party",
                                                  Provider.status == ShopStatus.OPEN)).all()
    assert labs
    for lab in labs:
        assert lab.qualification_kind in ("CMA", "CNAS")
        assert policy.provider_entry_problems(False, lab.founded_on, lab.qualification_expires_on, SEED_DAY) == []


# ---------------------------------------------------------------- states

def test_removed_and_pending_shops(medium):
    session, _ = medium
    statuses = dict(session.execute(select(Provider.status, func.count()).group_by(Provider.status)).all())
    assert statuses[ShopStatus.REMOVED] >= 1 and statuses[ShopStatus.PENDING] >= 1
    assert statuses[ShopStatus.OPEN] > statuses[ShopStatus.REMOVED] + statuses[ShopStatus.PENDING]
    by_shop = session.execute(select(Provider.status, Provider.status_reason, Provider.opened_at, Service.status)
                              .join(Service, Service.provider_id == Provider.id)).all()
    for shop_status, reason, opened_at, service_status in by_shop:
        if shop_status == ShopStatus.REMOVED:
            assert service_status == ServiceStatus.DELISTED and reason
        if shop_status == ShopStatus.PENDING:
            assert service_status == ServiceStatus.PENDING and opened_at is None


def test_listed_services_are_mostly_listed_and_published(medium):
    session, _ = medium
    services = session.execute(select(Service.status, Service.published_at)).all()
    listed = [published for status, published in services if status == ServiceStatus.LISTED]
    assert len(listed) >= 0.85 * len(services)
    assert all(published is not None for published in listed)
    assert {status for status, _ in services} >= {ServiceStatus.DRAFT, ServiceStatus.PENDING,
                                                    ServiceStatus.REJECTED, ServiceStatus.DELISTED}


def test_excluded_categories_never_carry_the_voucher_mark(medium):
    session, _ = medium
    parent = aliased(Category)
    excluded_ids = session.scalars(select(Category.id).join(parent, Category.parent_id == parent.id)
                                   .where(Category.voucher_excluded | parent.voucher_excluded)).all()
    assert excluded_ids
    marked = session.scalar(select(func.count()).select_from(Service)
                            .where(Service.category_id.in_(excluded_ids), Service.voucher_eligible))
    assert marked == 0
    eligible = session.scalar(select(func.count()).select_from(Service).where(Service.voucher_eligible))
    assert 0.8 * 2000 <= eligible < 2000


# ---------------------------------------------------------------- reference data

def test_fields_and_category_tree_follow_the_spec(small):
    session, _ = small
    assert session.scalars(select(Field.name).order_by(Field.position)).all() == SPEC_FIELDS
    tops = session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.position)).all()
    assert [top.name for top in tops[:len(SPEC_CATEGORIES)]] == list(SPEC_CATEGORIES)
    for top in tops[:len(SPEC_CATEGORIES)]:
        assert [child.name for child in top.children] == SPEC_CATEGORIES[top.name]
        assert not top.voucher_excluded
    testing = next(top for top in tops if top.name == "检验检测")
    assert {"技术检测测试", "软件测评", "集成电路和测试", "性能测试", "结构、金属理化", "初次测评"} <= {
        child.name for child in testing.children}


def test_city_settings_follow_the_regions(small):
    session, _ = small
    settings = {row.city: row for row in session.scalars(select(CitySetting))}
    assert set(settings) == set(policy.CITIES)
    assert Fraction(settings["徐州"].local_ratio_num, settings["徐州"].local_ratio_den) == Fraction(3, 7)
    assert settings["徐州"].local_cap_fen == 6_000_000
    assert (settings["南京"].local_ratio_num, settings["南京"].local_ratio_den) == (1, 1)
    assert settings["扬州"].local_cap_fen == 10_000_000


# ---------------------------------------------------------------- determinism and idempotence

def test_same_seed_gives_the_same_catalog(tmp_path):
    first = fresh_session(tmp_path / "a.db")
    second = fresh_session(tmp_path / "b.db")
    other_seed = fresh_session(tmp_path / "c.db")
    seed_demo(first, services=300, seed=7)
    seed_demo(second, services=300, seed=7)
    seed_demo(other_seed, services=300, seed=8)
    assert catalog_rows(first) == catalog_rows(second)
    assert catalog_rows(first) != catalog_rows(other_seed)
    assert (first.scalars(select(Provider.credit_code).order_by(Provider.id)).all()
            == second.scalars(select(Provider.credit_code).order_by(Provider.id)).all())


def test_a_seeded_catalog_is_not_seeded_again(small):
    session, summary = small
    before = catalog_rows(session)
    again = seed_demo(session, services=50, seed=1)
    assert again["skipped"] is True
    assert (again["services"], again["providers"]) == (summary["services"], summary["providers"])
    assert catalog_rows(session) == before
    assert count(session, User) == len(summary["logins"])


def test_the_app_database_is_seeded_with_the_same_rows_as_a_fresh_sqlite_file(app, tmp_path):
    """PostgreSQL loads the big tables with COPY, past SQLAlchemy's column defaults; the rows must not differ."""
    reference = fresh_session(tmp_path / "reference.db")
    seed_demo(reference, services=120, seed=5)
    seed_demo(db.session, services=120, seed=5)
    for table in (Service.__table__, Instrument.__table__, Provider.__table__, service_fields):
        query = (select(*(column for column in table.columns if column.name != "updated_at"))
                 .order_by(*table.primary_key.columns))
        assert db.session.execute(query).all() == reference.execute(query).all(), table.name


# ---------------------------------------------------------------- accounts

def test_demo_logins_exist_and_sign_in(small):
    session, summary = small
    users = {user.email: user for user in session.scalars(select(User))}
    assert {email for _, email, _, _ in summary["logins"]} == set(users)
    for _, email, password, _ in summary["logins"]:
        user = users[email]
        assert password == DEMO_PASSWORD and check_password_hash(user.password_hash, password)
        expected = AccountStatus.PENDING if email == "pending@demo.cxq" else AccountStatus.ACTIVE
        assert user.status == expected
        assert (user.approved_at is not None) == (expected == AccountStatus.ACTIVE)
    assert users["admin@demo.cxq"].role == Role.REVIEWER
    assert users["buyer@demo.cxq"].role == Role.INDIVIDUAL
    assert users["cumt@demo.cxq"].provider.name == "中国矿业大学"
    assert users["lab@demo.cxq"].provider.name == "江苏科特生物技术检测有限公司"


@pytest.mark.parametrize("email, city, region", [
    ("nanjing@demo.cxq", "南京", "苏南"), ("xuzhou@demo.cxq", "徐州", "苏北"), ("pending@demo.cxq", "无锡", "苏南"),
])
def test_demo_enterprises(small, email, city, region):
    session, _ = small
    enterprise = session.scalars(select(Enterprise).join(User).where(User.email == email)).one()
    assert enterprise.city == city and policy.region_of(enterprise.city) == region
    assert validators.credit_code_problem(enterprise.credit_code) is None
    assert validators.id_number_problem(enterprise.legal_rep_id_type, enterprise.legal_rep_id_number) is None


# ---------------------------------------------------------------- search

def test_search_tokens_hold_chinese_bigrams(small):
    session, _ = small
    service = session.scalars(select(Service).where(Service.name == "环境扫描电镜")).one()
    words = service.search_tokens.split()
    assert "电镜" in words and "徐州" in words and "quanta" in words
    assert set(tokens(service.description)) <= set(words)


def test_demo_voucher_history_matches_the_seed_screen(small):
    session, _ = small
    nanjing = session.scalar(select(Enterprise).where(Enterprise.city == "南京"))
    vouchers = session.scalars(select(Voucher).where(Voucher.enterprise_id == nanjing.id)
                               .order_by(Voucher.year.desc())).all()
    this_year = china_today().year
    assert [(v.year, v.remaining_fen) for v in vouchers] == [
        (this_year - 1, 9_784_700), (this_year - 2, 10_000_000), (this_year - 3, 9_888_300)]
    assert all(v.valid_until == date(v.year, 12, 31) for v in vouchers)
    xuzhou = session.scalar(select(Enterprise).where(Enterprise.city == "徐州"))
    current = session.scalar(select(Voucher).where(Voucher.enterprise_id == xuzhou.id, Voucher.year == this_year))
    assert current.total_fen == policy.annual_cap("苏北")
    registry = session.scalars(select(KexiaoEntry.number).where(KexiaoEntry.year == this_year)).all()
    assert nanjing.kexiao_number in registry


def test_demo_orders_fill_the_workbenches(small):
    session, _ = small
    orders = session.scalars(select(Order).order_by(Order.created_at)).all()
    assert [o.status for o in orders] == ["in_service", "in_service", "in_service", "in_service", "pending", "pending"]
    assert all(re.fullmatch(r"CXQ\d{12}", o.order_no) for o in orders) and len({o.order_no for o in orders}) == 6
    assert session.scalar(select(func.count()).select_from(Rating)) == 3
    assert all(o.estimated_voucher_fen == policy.voucher_amount(o.quote_fen, policy.region_of(o.enterprise.city))
               for o in orders)
