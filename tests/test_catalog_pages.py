"""The mall's public pages beyond search: service detail with the live voucher estimate, shop tabs,
instruments, 本地服务 and the policy calculator."""
import re
from datetime import date
from urllib.parse import quote

import pytest

from marketplace.catalog import routes
from marketplace.extensions import db
from marketplace.models import (
    CitySetting,
    Field,
    Instrument,
    InstrumentImage,
    ServiceImage,
    ServiceStatus,
    ShopStatus,
    StoredFile,
    Voucher,
    VoucherApplication,
    china_today,
    utcnow,
)

from .conftest import queries_sent

HX = {"HX-Request": "true"}
THIS_YEAR = china_today().year


def text_of(html: str) -> str:
    """The page's words without tags or line breaks, for sentences that mix bold names into the text."""
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", html))


def section(html: str, element_id: str) -> str:
    """The element with that id, up to the first closing tag of its kind (our partials do not nest them)."""
    match = re.search(rf'<(\w+)[^>]*id="{element_id}"[^>]*>.*?</\1>', html, re.S)
    assert match, f"#{element_id} not on the page"
    return match.group(0)


def give_voucher(user, total_fen=10_000_000, reserved_fen=0, approved_fen=0, disbursed_fen=0, region="苏南"):
    enterprise = user.enterprise
    application = VoucherApplication(enterprise_id=enterprise.id, year=THIS_YEAR, status="approved")
    db.session.add(application)
    db.session.flush()
    db.session.add(Voucher(enterprise_id=enterprise.id, application_id=application.id, year=THIS_YEAR, region=region,
                           total_fen=total_fen, reserved_fen=reserved_fen, approved_fen=approved_fen,
                           disbursed_fen=disbursed_fen, valid_until=date(THIS_YEAR, 12, 31), issued_at=utcnow()))
    db.session.commit()


def stored_file(name="photo.jpg") -> StoredFile:
    file = StoredFile(storage_key=f"key-{name}", original_name=name, content_type="image/jpeg", size=1000,
                      sha256="0" * 64, width=400, height=400)
    db.session.add(file)
    db.session.flush()
    return file


def field_named(name: str, position: int = 5) -> Field:
    field = db.session.query(Field).filter_by(name=name).one_or_none() or Field(name=name, position=position)
    db.session.add(field)
    return field


# ---------------------------------------------------------------- service detail

def test_service_detail_shows_every_field_of_the_listing(client, make, provider):
    shop = provider.provider
    shop.is_pilot = True
    display = stored_file("display.jpg")
    service = make.service(shop, name="XPS深度剖析", price_fen=1_500_000, service_type="普通服务",
                           has_qualification=True, qualification_desc="CMA认证，证书编号2021001",
                           standards="GB/T 19500-2004", sample_requirements="固体样品，尺寸不超过1cm",
                           tags="XPS,深度剖析，薄膜", display_image_id=display.id)
    images = [stored_file(f"instrument{n}.jpg") for n in range(2)]
    service.images = [ServiceImage(file_id=f.id, position=n) for n, f in enumerate(images)]
    db.session.commit()

    page = client.get(f"/services/{service.id}").get_data(as_text=True)
    for expected in ("XPS深度剖析", "仪器共享服务", "普通服务", "微区分析 › 微观形貌分析", "新材料",
                     f'href="/instruments/{service.instrument_id}"', "场发射扫描电子显微镜", "日立", "SU8010",
                     shop.address, "7-10个自然日", "CMA认证，证书编号2021001", "GB/T 19500-2004",
                     "固体样品，尺寸不超过1cm", "¥15,000.00", "该价格为参考价，具体价格请与服务单位确认",
                     f"/files/{display.id}?thumb=400", f"/files/{images[0].id}?thumb=200",
                     f"/files/{images[1].id}?thumb=200", "免审", "创新券", 'name="quantity"'):
        assert expected in page, expected
    assert re.search(r"<dt>是否有资质</dt><dd>有</dd>", page)
    chips = page[page.index('class="chips"'):]
    assert all(f">{tag}</a>" in chips for tag in ("XPS", "深度剖析", "薄膜"))
    assert f'href="/shops/{shop.id}"' in page and "已上架服务 1 项 · 共享仪器 1 台/套" in page


def test_service_without_images_zero_price_or_negotiable_price(client, make, provider):
    free = make.service(provider.provider, name="免费开放日", price_fen=0)
    negotiable = make.service(provider.provider, name="定制研发", price_fen=None)
    page = client.get(f"/services/{free.id}").get_data(as_text=True)
    assert "service-default.svg" in page and "¥0.00" in page and "/files/" not in page
    assert re.search(r"<dt>是否有资质</dt><dd>无</dd>", page)
    page = client.get(f"/services/{negotiable.id}").get_data(as_text=True)
    assert 'class="price negotiable">面议' in page and "面议服务以实际合同金额计算" in page


def test_enterprise_with_a_voucher_sees_region_balance_cap_and_the_estimate_for_its_quantity(
        client, auth, make, provider, enterprise):
    give_voucher(enterprise, total_fen=10_000_000, reserved_fen=1_000_000, approved_fen=500_000)
    service = make.service(provider.provider, price_fen=1_500_000)  # ¥15,000 a sample
    auth.login(enterprise)
    estimate = section(client.get(f"/services/{service.id}?quantity=3").get_data(as_text=True), "voucher-estimate")
    assert "苏南" in estimate and "25%" in estimate
    assert f"{THIS_YEAR}年度券额剩余 <strong>¥85,000.00</strong>" in estimate and "¥100,000.00" in estimate
    assert "× 3" in estimate and "服务金额 ¥45,000.00" in estimate and "¥11,250.00" in estimate
    assert "苏北" not in estimate  # its own region only


def test_an_estimate_never_exceeds_the_remaining_balance(client, auth, make, provider, enterprise):
    give_voucher(enterprise, total_fen=10_000_000, approved_fen=9_500_000)  # ¥5,000 left
    service = make.service(provider.provider, price_fen=1_500_000)
    auth.login(enterprise)
    estimate = section(client.get(f"/services/{service.id}?quantity=3").get_data(as_text=True), "voucher-estimate")
    assert "¥5,000.00</strong>" in estimate and "超出" in estimate and "剩余额度" in estimate


def test_enterprise_without_this_years_voucher_is_invited_to_apply(client, auth, make, provider):
    xuzhou = make.enterprise(city="徐州")
    service = make.service(provider.provider, price_fen=1_500_000)
    auth.login(xuzhou)
    estimate = section(client.get(f"/services/{service.id}").get_data(as_text=True), "voucher-estimate")
    assert f"您尚未申领{THIS_YEAR}年度省创新券" in estimate and "申领券额" in estimate
    assert "苏北" in estimate and "35%" in estimate and "¥140,000.00" in estimate and "¥5,250.00" in estimate


def test_enterprise_sees_why_negotiable_and_unmarked_services_have_no_amount(client, auth, make, provider, enterprise):
    negotiable = make.service(provider.provider, name="定制研发", price_fen=None)
    unmarked = make.service(provider.provider, name="商业验货", voucher_eligible=False)
    auth.login(enterprise)
    page = client.get(f"/services/{negotiable.id}").get_data(as_text=True)
    assert "面议服务以实际合同金额计算" in section(page, "voucher-estimate")
    page = client.get(f"/services/{unmarked.id}").get_data(as_text=True)
    assert "该服务不带创新券标识，不能兑付" in section(page, "voucher-estimate")


def test_visitors_see_the_terms_and_amount_of_every_region(client, make, provider):
    service = make.service(provider.provider, price_fen=1_500_000)
    estimate = section(client.get(f"/services/{service.id}").get_data(as_text=True), "voucher-estimate")
    assert re.search(r"苏南、苏中</td><td[^>]*>25%</td><td[^>]*>¥100,000.00</td>"
                     r"<td[^>]*><strong[^>]*>¥3,750.00", estimate)
    assert re.search(r"苏北</td><td[^>]*>35%</td><td[^>]*>¥140,000.00</td><td[^>]*><strong[^>]*>¥5,250.00", estimate)
    assert "登录企业账号" in estimate


def test_visitors_see_unmarked_services_cannot_be_redeemed(client, make, provider):
    service = make.service(provider.provider, voucher_eligible=False)
    estimate = section(client.get(f"/services/{service.id}").get_data(as_text=True), "voucher-estimate")
    assert "该服务不带创新券标识，不能兑付" in estimate and "<table" not in estimate


def test_estimate_fragment_follows_the_quantity_for_htmx(client, make, provider):
    service = make.service(provider.provider, price_fen=1_500_000)
    response = client.get(f"/services/{service.id}/estimate?quantity=2", headers=HX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert fragment.lstrip().startswith("<section") and 'id="voucher-estimate"' in fragment
    assert "× 2" in fragment and "¥7,500.00" in fragment  # 30,000 × 25%
    assert "HX-Request" in response.headers["Vary"]


def test_estimate_fragment_is_the_enterprises_own_when_signed_in(client, auth, make, provider, enterprise):
    give_voucher(enterprise, total_fen=10_000_000, disbursed_fen=2_000_000)
    service = make.service(provider.provider, price_fen=1_500_000)
    auth.login(enterprise)
    fragment = client.get(f"/services/{service.id}/estimate?quantity=4", headers=HX).get_data(as_text=True)
    assert "¥80,000.00" in fragment and "服务金额 ¥60,000.00" in fragment and "¥15,000.00</strong>" in fragment
    assert "<table" not in fragment


def test_estimate_url_without_htmx_opens_the_detail_page_at_that_quantity(client, make, provider):
    service = make.service(provider.provider, price_fen=1_500_000)
    response = client.get(f"/services/{service.id}/estimate?quantity=2")
    assert response.status_code == 302 and response.headers["Location"] == f"/services/{service.id}?quantity=2"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="2"' in page and "¥7,500.00" in page


@pytest.mark.parametrize("raw, shown", [("abc", 1), ("0", 1), ("-3", 1), ("5000", 999)])
def test_quantity_out_of_range_is_kept_within_1_to_999(client, make, provider, raw, shown):
    service = make.service(provider.provider, price_fen=100)
    fragment = client.get(f"/services/{service.id}/estimate?quantity={raw}", headers=HX).get_data(as_text=True)
    assert f"× {shown} " in fragment


def test_no_estimate_for_hidden_services(client, make, provider):
    draft = make.service(provider.provider, status=ServiceStatus.DRAFT)
    assert client.get(f"/services/{draft.id}/estimate", headers=HX).status_code == 404


# ---------------------------------------------------------------- shop

def shop_with_instruments(make, provider):
    shop = provider.provider
    shop.intro = "国家大型科学仪器中心，开放共享测试平台。"
    shop.contact_name, shop.contact_phone, shop.website = "李老师", "0516-83590000", "dygk.cumt.edu.cn"
    service = make.service(shop, name="高真空模式形貌分析")  # brings a ¥1,500,000 electron microscope
    db.session.add(Instrument(provider=shop, name="激光粒度仪", manufacturer="马尔文", model="MS3000",
                              original_value_fen=20_000_000, status="maintenance"))
    db.session.commit()
    return shop, service


def test_shop_home_tab_shows_intro_contact_counts_and_latest_services(client, make, provider):
    shop, service = shop_with_instruments(make, provider)
    page = client.get(f"/shops/{shop.id}").get_data(as_text=True)
    for expected in ("国家大型科学仪器中心", "李老师", "0516-83590000", 'href="http://dygk.cumt.edu.cn"', shop.address,
                     "已上架服务 1 项 · 共享仪器 2 台/套", service.name):
        assert expected in page, expected
    assert re.search(r'<a href="/shops/\d+"[^>]*aria-current="page">首页</a>', page)


def test_shop_services_tab_is_a_fragment_for_htmx_and_a_page_otherwise(client, make, provider):
    shop, service = shop_with_instruments(make, provider)
    page = client.get(f"/shops/{shop.id}?tab=services").get_data(as_text=True)
    fragment = client.get(f"/shops/{shop.id}?tab=services", headers=HX).get_data(as_text=True)
    assert "<html" in page and shop.name in page and service.name in page
    assert "<html" not in fragment and service.name in fragment and "国家大型科学仪器中心" not in fragment
    for html in (page, fragment):
        assert re.search(r'<a href="/shops/\d+\?tab=services"[^>]*hx-push-url="true" aria-current="page">服务</a>',
                         html)


def test_shop_instruments_tab_lists_instruments_with_the_large_instrument_mark(client, make, provider):
    shop, _ = shop_with_instruments(make, provider)
    fragment = client.get(f"/shops/{shop.id}?tab=instruments", headers=HX).get_data(as_text=True)
    rows = {name: row for row in re.findall(r"<tr>.*?</tr>", fragment, re.S)
            for name in ("场发射扫描电子显微镜", "激光粒度仪") if name in row}
    assert "日立" in rows["场发射扫描电子显微镜"] and "SU8010" in rows["场发射扫描电子显微镜"]
    assert "¥1,500,000.00" in rows["场发射扫描电子显微镜"] and "大型仪器" in rows["场发射扫描电子显微镜"]
    assert "¥200,000.00" in rows["激光粒度仪"] and "大型仪器" not in rows["激光粒度仪"]
    assert "维护中" in rows["激光粒度仪"] and "可预约" in rows["场发射扫描电子显微镜"]
    assert "/instruments/" in fragment


def test_shop_tabs_page_through_services(client, make, provider, app):
    app.config["PER_PAGE"] = 2
    for n in range(3):
        make.service(provider.provider, name=f"分页服务{n}")
    fragment = client.get(f"/shops/{provider.provider.id}?tab=services&page=2", headers=HX).get_data(as_text=True)
    assert fragment.count('class="service-card"') == 1
    assert 'hx-target="#shop-tab"' in fragment and "tab=services&amp;page=1" in fragment


def test_removed_provider_shop_shows_a_notice_and_no_services(client, make):
    removed = make.provider(shop_status=ShopStatus.REMOVED)
    service = make.service(removed.provider, name="历史服务")
    for tab in ("", "?tab=services"):
        page = client.get(f"/shops/{removed.provider.id}{tab}").get_data(as_text=True)
        assert "已退出省创新券服务" in page and service.name not in page
    instruments = client.get(f"/shops/{removed.provider.id}?tab=instruments").get_data(as_text=True)
    assert "场发射扫描电子显微镜" in instruments  # history stays


@pytest.mark.parametrize("status", [ShopStatus.DRAFT, ShopStatus.PENDING, ShopStatus.PUBLICITY, ShopStatus.REJECTED])
def test_shops_not_yet_open_are_not_found(client, make, status):
    unopened = make.provider(shop_status=status)
    assert client.get(f"/shops/{unopened.provider.id}").status_code == 404
    assert client.get(f"/shops/{unopened.provider.id}?tab=services", headers=HX).status_code == 404


# ---------------------------------------------------------------- instrument

def test_instrument_page_shows_the_instrument_its_provider_and_the_services_using_it(client, make, provider):
    service = make.service(provider.provider, name="高真空模式形貌分析")
    draft = make.service(provider.provider, name="草稿服务", status=ServiceStatus.DRAFT)
    instrument = db.session.get(Instrument, service.instrument_id)
    draft.instrument_id = instrument.id
    instrument.location, instrument.description = "南湖校区分析测试中心201室", "分辨率1.0nm，可做能谱分析。"
    instrument.field = field_named("新材料")
    photos = [stored_file(f"sem{n}.jpg") for n in range(2)]
    instrument.images = [InstrumentImage(file_id=f.id, position=n) for n, f in enumerate(photos)]
    db.session.commit()
    page = client.get(f"/instruments/{instrument.id}").get_data(as_text=True)
    for expected in ("场发射扫描电子显微镜", "日立", "SU8010", "南湖校区分析测试中心201室", "¥1,500,000.00", "新材料",
                     "可预约", "分辨率1.0nm", "大型仪器", f"/files/{photos[0].id}?thumb=400",
                     f"/files/{photos[1].id}?thumb=200", provider.provider.name, service.name):
        assert expected in page, expected
    assert "草稿服务" not in page


def test_instrument_of_a_removed_provider_is_readable_with_a_notice(client, make):
    removed = make.provider(shop_status=ShopStatus.REMOVED)
    service = make.service(removed.provider, name="历史服务")
    page = client.get(f"/instruments/{service.instrument_id}").get_data(as_text=True)
    assert "已退出省创新券服务" in page and "场发射扫描电子显微镜" in page and "历史服务" not in page


def test_instrument_of_an_unopened_shop_is_not_found(client, make):
    pending = make.provider(shop_status=ShopStatus.PENDING)
    service = make.service(pending.provider)
    assert client.get(f"/instruments/{service.instrument_id}").status_code == 404
    assert client.get("/instruments/999999").status_code == 404


# ---------------------------------------------------------------- 本地服务

def xuzhou_catalog(make):
    """Three open Xuzhou providers (2, 1 and 0 listed services; 2 of 3 carry the 创新券 mark) and
    listings that must not count: a draft, a pending shop's, a Nanjing one."""
    cumt = make.provider(city="徐州", name="中国矿业大学").provider
    xzmu = make.provider(city="徐州", name="徐州医科大学").provider
    make.provider(city="徐州", name="徐州市检验检测中心")
    energy, chips = field_named("新能源", 4), field_named("半导体", 3)
    first = make.service(cumt, name="高真空模式形貌分析")
    second = make.service(cumt, name="锂电池材料表征")
    third = make.service(xzmu, name="商业验货", voucher_eligible=False)
    first.fields, second.fields, third.fields = [energy], [energy, chips], [field_named("其他", 9)]
    make.service(cumt, name="草稿服务", status=ServiceStatus.DRAFT)
    make.service(make.provider(city="徐州", shop_status=ShopStatus.PENDING).provider, name="未开店的服务")
    make.service(make.provider(city="南京").provider, name="南京的服务")
    db.session.commit()


def test_local_page_sums_up_the_citys_providers_services_and_voucher_share(client, make):
    xuzhou_catalog(make)
    page = client.get("/local/徐州").get_data(as_text=True)
    assert ("平台集聚了中国矿业大学、徐州医科大学、徐州市检验检测中心等徐州当地服务单位3家，服务产品3项，"
            "其中创新券服务产品2项（占比66%），主要分布在新能源、半导体等领域。") in text_of(page)
    for name in ("高真空模式形貌分析", "锂电池材料表征", "商业验货"):
        assert name in page
    for name in ("草稿服务", "未开店的服务", "南京的服务"):
        assert name not in page
    assert page.count('class="provider-card tile"') == 3 and "已上架服务 2 项" in page


def test_local_page_accepts_the_full_city_name(client, make):
    xuzhou_catalog(make)
    assert "徐州当地服务单位3家" in text_of(client.get("/local/徐州市").get_data(as_text=True))


def test_local_page_of_a_city_without_providers_says_so(client):
    assert "平台暂无宿迁当地服务单位入驻" in text_of(client.get("/local/宿迁").get_data(as_text=True))


@pytest.mark.parametrize("city", ["北京", "上海市", "xyz"])
def test_local_page_of_an_unknown_city_is_not_found_and_lists_the_cities(client, city):
    response = client.get(f"/local/{city}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert f"没有「{city}」的本地服务" in page and "南京、无锡、常州" in page and "宿迁" in page


def test_local_page_pages_providers_and_services_separately(client, make, monkeypatch, app):
    monkeypatch.setattr(routes, "PROVIDERS_PER_PAGE", 2)
    app.config["PER_PAGE"] = 2
    xuzhou_catalog(make)
    second = client.get("/local/徐州?shops=2&page=2").get_data(as_text=True)
    assert second.count('class="provider-card tile"') == 1 and "徐州市检验检测中心" in second
    assert second.count('class="service-card"') == 1
    assert "shops=2&amp;page=1" in second or "page=1&amp;shops=2" in second  # the other list keeps its page


def test_local_page_queries_do_not_grow_with_the_number_of_providers(client, make, app):
    def statements_for(url):
        with queries_sent() as sent:
            client.get(url)
        return len(sent)

    xuzhou_catalog(make)
    few = statements_for("/local/徐州")
    for n in range(5):
        make.service(make.provider(city="徐州").provider, name=f"新服务{n}")
    assert statements_for("/local/徐州") == few


# ---------------------------------------------------------------- home

def test_home_links_every_city_and_the_entry_points_for_visitors(client):
    page = client.get("/").get_data(as_text=True)
    for city in ("南京", "徐州", "宿迁", "南通"):
        assert f'href="/local/{quote(city)}"' in page
    assert 'href="/auth/register"' in page and 'href="/auth/register?type=provider"' in page


def test_home_entry_points_lead_signed_in_users_to_their_shop_or_vouchers(client, auth, provider, enterprise):
    auth.login(provider)
    assert 'href="/seller/shop"' in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login(enterprise)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/seller/shop"' not in page and 'class="entry enterprise" href="/me/vouchers"' in page


# ---------------------------------------------------------------- policy calculator

SEED_CASES = [
    # city, spend 元, provincial, its 大写, local matching
    ("徐州", "408000", "¥140,000.00", "壹拾肆万元整", "¥60,000.00"),
    ("南京", "140000", "¥35,000.00", "叁万伍仟元整", "¥35,000.00"),
    ("苏州", "15000", "¥3,750.00", "叁仟柒佰伍拾元整", "¥3,750.00"),
]


@pytest.mark.parametrize("city, spend, provincial, uppercase, local", SEED_CASES)
def test_policy_calculator_works_the_seed_examples_on_the_page(client, city, spend, provincial, uppercase, local):
    response = client.get(f"/policy?city={city}&spend={spend}")
    result = section(response.get_data(as_text=True), "calculator-result")
    assert response.status_code == 200
    provincial_row, local_row = re.findall(r"<dd><strong[^>]*>(¥[\d,.]+)</strong> <small[^>]*>([^<]+)", result)[:2]
    assert provincial_row == (provincial, uppercase) and local_row[0] == local


@pytest.mark.parametrize("city, spend, provincial, uppercase, local", SEED_CASES)
def test_policy_calculator_fragment_for_htmx(client, city, spend, provincial, uppercase, local):
    response = client.get(f"/policy/calculate?city={city}&spend={spend}", headers=HX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in fragment
    assert provincial in fragment and uppercase in fragment and local in fragment
    assert re.search(r'<div class="field-errors" id="spend-errors" hx-swap-oob="true"></div>', fragment)
    assert response.headers["HX-Replace-Url"] == f"/policy?city={quote(city)}&spend={spend}"


def test_policy_calculator_url_without_htmx_goes_to_the_policy_page(client):
    response = client.get("/policy/calculate?city=徐州&spend=408000")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/policy?city={quote('徐州')}&spend=408000"


def test_policy_calculator_accepts_full_city_names_and_thousands_separators(client):
    result = section(client.get("/policy?city=徐州市&spend=408,000.00").get_data(as_text=True), "calculator-result")
    assert "¥140,000.00" in result and "苏北" in result


def test_policy_calculator_counts_what_was_already_used_this_year(client):
    result = section(client.get("/policy?city=徐州&spend=408000&used=100000").get_data(as_text=True),
                     "calculator-result")
    assert "¥40,000.00</strong> <small class=\"rmb\">肆万元整" in result and "剩余额度" in result
    assert "¥17,142.85" in result  # local 3/7 of 40,000, fen dropped


def test_policy_calculator_uses_the_citys_own_local_matching(client, app):
    db.session.add(CitySetting(city="南京", local_ratio_num=1, local_ratio_den=2, local_cap_fen=1_000_000,
                               local_identities="kexiao,gaoqi"))
    db.session.commit()
    result = section(client.get("/policy?city=南京&spend=140000").get_data(as_text=True), "calculator-result")
    assert "¥35,000.00" in result and "¥10,000.00" in result and "省地 2:1" in result
    assert "科技型中小企业、高新技术企业" in result and "人才企业" not in result


@pytest.mark.parametrize("query, field, message", [
    ("city=徐州&spend=abc", "spend", "请填写数字金额"),
    ("city=徐州&spend=-5", "spend", "金额不能为负数"),
    ("city=徐州&spend=1000000000001", "spend", "金额过大"),
    ("city=徐州&spend=12.345", "spend", "最多保留两位小数"),
    ("city=徐州&spend=", "spend", "请填写服务金额"),
    ("city=北京&spend=1000", "city", "不是江苏省的设区市"),
    ("spend=1000", "city", "请选择企业注册地"),
    ("city=徐州&spend=1000&used=一万", "used", "请填写数字金额"),
])
def test_policy_calculator_explains_bad_input_next_to_the_field(client, query, field, message):
    fragment = client.get(f"/policy/calculate?{query}", headers=HX)
    assert fragment.status_code == 422
    assert message in section(fragment.get_data(as_text=True), f"{field}-errors")
    page = client.get(f"/policy?{query}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert message in section(html, f"{field}-errors") and "<html" in html


def test_policy_page_keeps_what_the_user_typed_when_it_is_wrong(client):
    html = client.get("/policy?city=徐州&spend=12abc").get_data(as_text=True)
    assert 'value="12abc"' in html and re.search(r'<option selected value="徐州">|<option value="徐州" selected', html)


def test_policy_page_without_input_invites_to_calculate(client):
    response = client.get("/policy")
    result = section(response.get_data(as_text=True), "calculator-result")
    assert response.status_code == 200 and "选择企业注册地并填写服务金额" in result
