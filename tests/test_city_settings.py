"""省地联动 (SPEC 1.3, 8): each city's local-matching rule — the policy defaults, the reviewer's settings
(/admin/cities), and what they mean for a voucher (marketplace.vouchers.local)."""
from fractions import Fraction

import pytest
from sqlalchemy import select

from marketplace import policy
from marketplace.extensions import db
from marketplace.models import ApplicationStatus, AuditLog, CitySetting
from marketplace.vouchers import lifecycle, local

from .conftest import NOT_REVIEWERS, sign_in_as

YUAN = policy.FEN_PER_YUAN
SETTING = {"region_override": "", "identities": ["kexiao", "gaoqi", "incubated", "talent"], "province_part": "1",
           "local_part": "1", "cap": "80,000", "contact": "徐州市科学技术局 0516-00000000"}


def setting(city="徐州", **fields) -> CitySetting:
    values = dict(city=city, region_override=None, local_identities="kexiao,gaoqi,incubated,talent",
                  local_ratio_num=1, local_ratio_den=1, local_cap_fen=80_000 * YUAN, contact="")
    values.update(fields)
    row = CitySetting(**values)
    db.session.add(row)
    db.session.commit()
    return row


def saved(city: str):
    # A new transaction: in the one a previous read opened, SQLite (WAL) would still show its snapshot.
    db.session.rollback()
    return db.session.get(CitySetting, city)


def audit_rows(city: str) -> list[AuditLog]:
    db.session.rollback()
    return db.session.scalars(select(AuditLog).where(AuditLog.object_type == "city_setting",
                                                     AuditLog.object_id == city).order_by(AuditLog.id)).all()


def issued_voucher(make, reviewer, city: str, identity: str = "kexiao"):
    user = make.enterprise(city=city)
    application = make.voucher_application(user, status=ApplicationStatus.SUBMITTED, identity=identity)
    voucher = lifecycle.approve(application, reviewer.id)
    db.session.commit()
    return voucher


@pytest.fixture
def signed_in(client, auth, reviewer):
    auth.login(reviewer)
    return reviewer


# ---------------------------------------------------------------- the rules (marketplace.vouchers.local)

@pytest.mark.parametrize("city, region, ratio, cap_yuan", [
    ("南京", "苏南", Fraction(1), 100_000), ("苏州市", "苏南", Fraction(1), 100_000),
    ("扬州", "苏中", Fraction(1), 100_000), ("徐州", "苏北", Fraction(3, 7), 60_000),
    ("宿迁市", "苏北", Fraction(3, 7), 60_000)])
def test_without_a_setting_a_city_follows_the_policy_defaults_of_its_region(app, city, region, ratio, cap_yuan):
    rule = local.city_rule(city)
    assert (rule.region, rule.ratio, rule.cap_fen) == (region, ratio, cap_yuan * YUAN)
    assert rule.identities == tuple(policy.ENTERPRISE_IDENTITIES) and not rule.configured
    assert rule.city == policy.normalize_city(city)
    assert local.region_for(city) == region


def test_subei_default_matches_three_sevenths_up_to_sixty_thousand(app):
    rule = local.city_rule("徐州")
    assert rule.ratio_label == "7:3"
    assert rule.amount(140_000 * YUAN) == 60_000 * YUAN
    assert rule.amount(70_000 * YUAN) == 30_000 * YUAN
    assert local.city_rule("南京").amount(100_000 * YUAN) == 100_000 * YUAN


def test_a_city_outside_jiangsu_has_no_rule(app):
    with pytest.raises(ValueError):
        local.city_rule("上海")
    with pytest.raises(ValueError):
        local.region_for("")


def test_a_saved_setting_overrides_the_defaults(app):
    setting("徐州", local_ratio_num=1, local_ratio_den=2, local_cap_fen=50_000 * YUAN, contact="科技局")
    rule = local.city_rule("徐州市")
    assert rule.configured and rule.region == "苏北" and rule.contact == "科技局"
    assert (rule.ratio, rule.ratio_label, rule.cap_fen) == (Fraction(1, 2), "2:1", 50_000 * YUAN)
    assert rule.amount(140_000 * YUAN) == 50_000 * YUAN
    assert local.default_rule("徐州").ratio == Fraction(3, 7)  # the default stays what the policy says


def test_the_setting_decides_which_enterprise_types_get_local_money(app):
    setting("徐州", local_identities="gaoqi,talent,unknown")
    rule = local.city_rule("徐州")
    assert rule.identities == ("gaoqi", "talent")
    assert rule.matches("gaoqi") and not rule.matches("kexiao")
    assert rule.identity_labels == ["高新技术企业", "人才企业"]
    setting("南京", local_identities="")
    assert local.city_rule("南京").identities == ()


def test_a_region_override_changes_the_region_and_the_voucher_total(make, reviewer):
    setting("南京", region_override="苏北", local_ratio_num=3, local_ratio_den=7, local_cap_fen=60_000 * YUAN)
    assert local.region_for("南京市") == "苏北"
    assert issued_voucher(make, reviewer, "南京").total_fen == 140_000 * YUAN


def test_local_offer_for_a_subei_voucher_is_sixty_thousand(make, reviewer):
    offer = local.local_offer(issued_voucher(make, reviewer, "徐州"))
    assert offer.max_fen == 60_000 * YUAN and offer.identity == "kexiao"
    assert offer.for_provincial(7_000 * YUAN) == 3_000 * YUAN


def test_local_offer_is_none_for_a_type_the_city_does_not_match(make, reviewer):
    setting("徐州", local_identities="gaoqi")
    assert local.local_offer(issued_voucher(make, reviewer, "徐州", identity="kexiao")) is None


# ---------------------------------------------------------------- the list

def test_the_list_shows_all_thirteen_cities_by_region_with_their_rules(client, signed_in):
    setting("徐州", local_identities="kexiao", contact="徐州市科学技术局")
    page = client.get("/admin/cities").get_data(as_text=True)
    for city in policy.CITIES:
        assert f'id="city-{city}"' in page
    assert page.index("苏南") < page.index("南京市") < page.index("苏中") < page.index("扬州市") < page.index("苏北")
    xuzhou = page[page.index('id="city-徐州"'):page.index('id="city-连云港"')]
    assert "已设置" in xuzhou and "1:1" in xuzhou and "80,000.00" in xuzhou and "徐州市科学技术局" in xuzhou
    assert "科技型中小企业" in xuzhou and "高新技术企业" not in xuzhou
    lianyungang = page[page.index('id="city-连云港"'):page.index('id="city-淮安"')]
    assert "默认" in lianyungang and "7:3" in lianyungang and "60,000.00" in lianyungang


def test_an_overridden_region_is_marked_on_the_list(client, signed_in):
    setting("南京", region_override="苏北")
    page = client.get("/admin/cities").get_data(as_text=True)
    assert "已调整（按注册地为苏南）" in page[page.index('id="city-南京"'):page.index('id="city-无锡"')]


# ---------------------------------------------------------------- the form

def test_the_form_starts_from_the_citys_current_rule(client, signed_in):
    page = client.get("/admin/cities/徐州").get_data(as_text=True)
    assert 'name="province_part" required size="4" step="1" type="number" value="7"' in page
    assert 'name="local_part" required size="4" step="1" type="number" value="3"' in page
    assert 'value="60000.00"' in page and "按注册地（苏北）" in page
    assert page.count('name="identities"') == 4 and page.count("checked") == 4


def test_saving_a_setting_changes_the_citys_rule(client, signed_in):
    response = client.post("/admin/cities/徐州", data=SETTING)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/cities"
    row = saved("徐州")
    assert (row.local_ratio_den, row.local_ratio_num, row.local_cap_fen) == (1, 1, 80_000 * YUAN)
    assert row.region_override is None and row.local_identities == "kexiao,gaoqi,incubated,talent"
    rule = local.city_rule("徐州")
    assert rule.configured and rule.contact == "徐州市科学技术局 0516-00000000"
    # 1:1 on a 140,000 元 苏北 voucher would be 140,000 元; the configured cap holds it at 80,000 元.
    assert rule.amount(140_000 * YUAN) == 80_000 * YUAN
    assert "已保存徐州市的地方配套设置" in client.get("/admin/cities").get_data(as_text=True)


def test_a_saved_setting_changes_the_enterprises_local_offer(client, signed_in, make):
    client.post("/admin/cities/徐州", data=SETTING)
    assert local.local_offer(issued_voucher(make, signed_in, "徐州")).max_fen == 80_000 * YUAN


def test_saving_is_audited_with_what_changed(client, signed_in):
    client.post("/admin/cities/徐州", data=SETTING)
    client.post("/admin/cities/徐州", data=dict(SETTING, identities=["gaoqi"]))
    first, second = audit_rows("徐州")
    assert (first.action, first.from_state, first.to_state, first.actor_id) == ("update", "default", "configured",
                                                                               signed_in.id)
    assert "省:市 7:3 → 1:1" in first.reason and "每年上限 60,000.00元 → 80,000.00元" in first.reason
    assert "地区" not in first.reason  # unchanged settings are not listed
    assert second.from_state == "configured"
    assert second.reason == "配套企业类型 科技型中小企业、高新技术企业、入孵化器企业、人才企业 → 高新技术企业"


def test_no_type_checked_means_the_city_gives_no_local_money(client, signed_in, make):
    client.post("/admin/cities/徐州", data={k: v for k, v in SETTING.items() if k != "identities"})
    assert saved("徐州").local_identities == ""
    assert local.city_rule("徐州").identities == ()
    assert local.local_offer(issued_voucher(make, signed_in, "徐州")) is None


def test_a_region_override_saved_in_the_form_changes_region_for(client, signed_in):
    client.post("/admin/cities/南京", data=dict(SETTING, region_override="苏北"))
    assert saved("南京").region_override == "苏北"
    assert local.region_for("南京") == "苏北"


def test_choosing_the_citys_own_region_is_no_override(client, signed_in):
    client.post("/admin/cities/南京", data=dict(SETTING, region_override="苏南"))
    assert saved("南京").region_override is None


def test_a_local_part_of_zero_is_allowed(client, signed_in):
    assert client.post("/admin/cities/徐州", data=dict(SETTING, local_part="0")).status_code == 303
    assert local.city_rule("徐州").amount(140_000 * YUAN) == 0


@pytest.mark.parametrize("field, value, message", [
    ("province_part", "0", "省的部分应为1至100的整数"),
    ("province_part", "", "请填写比例中省的部分"),
    ("local_part", "-1", "市的部分应为0至100的整数"),
    ("local_part", "1.5", "不是有效的整数"),
    ("cap", "abc", "请填写数字金额"),
    ("cap", "-5", "金额不能为负数"),
    ("cap", "", "请填写每年配套上限（元）"),
    ("region_override", "华东", "请选择苏南、苏中或苏北"),
    ("identities", ["kexiao", "bogus"], "不是可选的企业类型：bogus"),
    ("contact", "电" * 201, "联系方式不超过200字"),
])
def test_bad_input_is_refused_next_to_the_field_and_kept(client, signed_in, field, value, message):
    response = client.post("/admin/cities/徐州", data=dict(SETTING, **{field: value}))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert 'value="80,000"' in page or field == "cap"  # the other input is kept
    if isinstance(value, str) and value and field != "region_override":
        assert f'value="{value}"' in page
    assert saved("徐州") is None and audit_rows("徐州") == []


@pytest.mark.parametrize("method, path", [("get", "/admin/cities/上海"), ("post", "/admin/cities/上海"),
                                          ("get", "/admin/cities/上海/reset"), ("post", "/admin/cities/上海/reset")])
def test_a_city_outside_jiangsu_is_not_found(client, signed_in, method, path):
    assert getattr(client, method)(path, data=SETTING).status_code == 404


def test_the_long_city_name_reaches_the_same_setting(client, signed_in):
    assert client.post("/admin/cities/徐州市", data=SETTING).status_code == 303
    assert saved("徐州") is not None


# ---------------------------------------------------------------- back to the defaults

def test_reset_asks_for_confirmation_then_restores_the_defaults(client, signed_in):
    client.post("/admin/cities/徐州", data=SETTING)
    confirm = client.get("/admin/cities/徐州/reset").get_data(as_text=True)
    assert "确定恢复默认" in confirm and "省:市 7:3" in confirm
    assert saved("徐州") is not None  # asking changes nothing
    response = client.post("/admin/cities/徐州/reset")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/cities"
    assert saved("徐州") is None
    rule = local.city_rule("徐州")
    assert not rule.configured and rule.ratio == Fraction(3, 7) and rule.cap_fen == 60_000 * YUAN
    entry = audit_rows("徐州")[-1]
    assert (entry.action, entry.from_state, entry.to_state) == ("reset", "configured", "default")
    assert entry.reason.startswith("恢复默认：") and "省:市 1:1 → 7:3" in entry.reason


def test_resetting_a_city_already_on_defaults_changes_and_audits_nothing(client, signed_in):
    response = client.post("/admin/cities/徐州/reset", follow_redirects=True)
    assert "徐州市已是默认设置" in response.get_data(as_text=True)
    assert audit_rows("徐州") == []


def test_the_reset_link_appears_only_for_a_configured_city(client, signed_in):
    assert "/admin/cities/%E5%BE%90%E5%B7%9E/reset" not in client.get("/admin/cities/徐州").get_data(as_text=True)
    setting("徐州")
    assert "/admin/cities/%E5%BE%90%E5%B7%9E/reset" in client.get("/admin/cities/徐州").get_data(as_text=True)


# ---------------------------------------------------------------- access

@pytest.mark.parametrize("who, expected", NOT_REVIEWERS)
@pytest.mark.parametrize("method, path", [("get", "/admin/cities"), ("get", "/admin/cities/徐州"),
                                          ("post", "/admin/cities/徐州"), ("get", "/admin/cities/徐州/reset"),
                                          ("post", "/admin/cities/南京/reset")])
def test_only_reviewers_reach_the_city_settings(client, auth, make, who, expected, method, path):
    setting("南京")
    sign_in_as(auth, make, who)
    response = getattr(client, method)(path, data=SETTING)
    assert response.status_code == expected
    assert saved("徐州") is None and saved("南京") is not None


@pytest.mark.parametrize("path", ["/admin/cities/徐州", "/admin/cities/南京/reset"])
def test_changes_without_the_csrf_token_are_refused(client, signed_in, path):
    setting("南京")
    assert client.post(path, data=SETTING, csrf=False).status_code == 400
    assert saved("徐州") is None and saved("南京") is not None
