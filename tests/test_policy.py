import dataclasses
import subprocess
import sys
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from marketplace import policy
from marketplace.policy import Problem

SUNAN, SUZHONG, SUBEI = policy.REGION_SUNAN, policy.REGION_SUZHONG, policy.REGION_SUBEI
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def yuan(amount):
    return amount * 100


# ---------------------------------------------------------------- regions

CITY_REGIONS = [
    ("南京", SUNAN), ("无锡", SUNAN), ("常州", SUNAN), ("苏州", SUNAN), ("镇江", SUNAN),
    ("扬州", SUZHONG), ("泰州", SUZHONG), ("南通", SUZHONG),
    ("徐州", SUBEI), ("连云港", SUBEI), ("淮安", SUBEI), ("盐城", SUBEI), ("宿迁", SUBEI),
]


@pytest.mark.parametrize("city, region", CITY_REGIONS)
def test_every_jiangsu_city_belongs_to_its_region_with_or_without_shi(city, region):
    assert policy.region_of(city) == region
    assert policy.region_of(city + "市") == region
    assert policy.normalize_city(city + "市") == city


def test_the_thirteen_cities_are_listed_in_policy_order():
    assert tuple(city for city, _ in CITY_REGIONS) == policy.CITIES
    assert list(policy.REGIONS) == [SUNAN, SUZHONG, SUBEI]
    assert policy.REGIONS[SUZHONG] == ("扬州", "泰州", "南通")


@pytest.mark.parametrize("name", ["南京", "南京市", " 南京市 ", "\u3000南京\t"])
def test_city_name_is_accepted_with_or_without_shi_and_spaces(name):
    assert policy.region_of(name) == SUNAN


@pytest.mark.parametrize("name", ["上海", "杭州市", "", "   ", None, "江苏", "江苏省", "苏南", "南京市市", "市"])
def test_city_outside_jiangsu_or_unknown_is_refused_not_defaulted(name):
    with pytest.raises(ValueError):
        policy.region_of(name)


def test_refusal_names_the_city_and_the_consequence_in_chinese():
    with pytest.raises(ValueError, match="「上海」不是江苏省的设区市，企业不符合省创新券申领条件"):
        policy.region_of("上海")


@pytest.mark.parametrize("region, rate, cap_yuan", [
    (SUNAN, Fraction(1, 4), 100_000),
    (SUZHONG, Fraction(1, 4), 100_000),
    (SUBEI, Fraction(7, 20), 140_000),
])
def test_each_region_has_its_rate_and_annual_cap(region, rate, cap_yuan):
    assert policy.rate_of(region) == rate == policy.RATE[region]
    assert policy.annual_cap(region) == yuan(cap_yuan) == policy.ANNUAL_CAP_FEN[region]


@pytest.mark.parametrize("region", ["徐州", "苏东", "", None])
def test_unknown_region_is_refused(region):
    with pytest.raises(ValueError):
        policy.annual_cap(region)
    with pytest.raises(ValueError):
        policy.voucher_amount(yuan(1000), region)
    with pytest.raises(ValueError):
        policy.local_match(yuan(1000), region)


# ---------------------------------------------------------------- provincial voucher (SPEC 1.2)

def test_subei_spend_over_cap_is_capped_at_140000_yuan():
    # 徐州: 408,000 × 35% = 142,800 > 140,000
    assert policy.voucher_amount(yuan(408_000), policy.region_of("徐州")) == yuan(140_000)


def test_sunan_spend_of_140000_yuan_gives_35000_yuan():
    assert policy.voucher_amount(yuan(140_000), policy.region_of("南京")) == yuan(35_000)


@pytest.mark.parametrize("region", [SUNAN, SUZHONG])
@pytest.mark.parametrize("quote_yuan, voucher_yuan", [(15_000, 3_750), (500, 125)])
def test_online_quote_in_sunan_or_suzhong_shows_a_quarter_as_voucher(region, quote_yuan, voucher_yuan):
    assert policy.voucher_amount(yuan(quote_yuan), region) == yuan(voucher_yuan)


def test_what_is_left_of_the_year_limits_the_next_redemption():
    used = yuan(100_000 - 97_847)
    assert used == yuan(2_153)
    assert policy.voucher_amount(yuan(1_000_000), SUNAN, used_fen=used) == yuan(97_847)
    assert policy.voucher_amount(yuan(10_000), SUNAN, used_fen=used) == yuan(2_500)


@pytest.mark.parametrize("region, spend_fen, voucher_fen", [
    (SUNAN, 1, 0), (SUNAN, 3, 0), (SUNAN, 7, 1), (SUNAN, 399, 99),
    (SUZHONG, 1, 0), (SUZHONG, 3, 0), (SUZHONG, 7, 1), (SUZHONG, 399, 99),
    (SUBEI, 1, 0), (SUBEI, 3, 1), (SUBEI, 7, 2), (SUBEI, 399, 139),
])
def test_voucher_is_rounded_down_to_the_fen_never_up(region, spend_fen, voucher_fen):
    assert policy.voucher_amount(spend_fen, region) == voucher_fen


@pytest.mark.parametrize("region, spend_fen, voucher_fen", [
    (SUNAN, yuan(400_000), yuan(100_000)),
    (SUNAN, yuan(400_000) + 4, yuan(100_000)),
    (SUNAN, yuan(400_000) - 4, yuan(100_000) - 1),
    (SUBEI, yuan(400_000), yuan(140_000)),
    (SUBEI, yuan(400_000) + 3, yuan(140_000)),
    (SUBEI, yuan(400_000) - 3, yuan(140_000) - 2),
])
def test_spend_reaching_the_cap_exactly_gives_the_cap_and_no_more(region, spend_fen, voucher_fen):
    assert policy.voucher_amount(spend_fen, region) == voucher_fen


@pytest.mark.parametrize("region", [SUNAN, SUZHONG, SUBEI])
@pytest.mark.parametrize("over", [0, 1, yuan(50_000)])
def test_nothing_more_once_the_cap_is_used_and_never_negative(region, over):
    used = policy.annual_cap(region) + over
    assert policy.voucher_amount(yuan(1_000_000), region, used_fen=used) == 0


@pytest.mark.parametrize("region", [SUNAN, SUBEI])
def test_zero_spend_gives_zero_voucher(region):
    assert policy.voucher_amount(0, region) == 0


@pytest.mark.parametrize("spend_fen, used_fen", [(-1, 0), (100, -1)])
def test_negative_spend_or_used_is_refused(spend_fen, used_fen):
    with pytest.raises(ValueError):
        policy.voucher_amount(spend_fen, SUNAN, used_fen=used_fen)


@pytest.mark.parametrize("spend", [100.0, "100", True])
def test_money_that_is_not_integer_fen_is_refused(spend):
    with pytest.raises(TypeError):
        policy.voucher_amount(spend, SUNAN)


# ---------------------------------------------------------------- local matching (SPEC 1.3)

def test_xuzhou_full_voucher_gets_60000_yuan_local_match():
    provincial = policy.voucher_amount(yuan(408_000), policy.region_of("徐州"))
    assert policy.local_match(provincial, SUBEI) == yuan(60_000)


@pytest.mark.parametrize("region, provincial_fen, local_fen", [
    (SUNAN, yuan(35_000), yuan(35_000)),
    (SUZHONG, yuan(100_000), yuan(100_000)),
    (SUNAN, yuan(150_000), yuan(100_000)),
    (SUBEI, yuan(35_000), yuan(15_000)),
    (SUBEI, yuan(210_000), yuan(60_000)),
    (SUBEI, 1, 0),
    (SUBEI, 7, 3),
    (SUBEI, 10, 4),
    (SUNAN, 0, 0),
])
def test_local_match_follows_the_default_ratio_and_cap(region, provincial_fen, local_fen):
    assert policy.local_match(provincial_fen, region) == local_fen


def test_default_local_ratios_and_caps():
    assert {SUNAN: 1, SUZHONG: 1, SUBEI: Fraction(3, 7)} == policy.LOCAL_RATIO
    assert {SUNAN: yuan(100_000), SUZHONG: yuan(100_000), SUBEI: yuan(60_000)} == policy.LOCAL_CAP_FEN


@pytest.mark.parametrize("ratio, cap_fen, local_fen", [
    (Fraction(1, 2), None, yuan(50_000)),
    (None, yuan(20_000), yuan(20_000)),
    (Fraction(2), yuan(150_000), yuan(150_000)),
    (0, None, 0),
])
def test_city_setting_may_override_local_ratio_and_cap(ratio, cap_fen, local_fen):
    assert policy.local_match(yuan(100_000), SUNAN, ratio=ratio, cap_fen=cap_fen) == local_fen


@pytest.mark.parametrize("kwargs, error", [
    ({"ratio": 0.3}, TypeError),
    ({"ratio": Fraction(-1, 2)}, ValueError),
    ({"cap_fen": -1}, ValueError),
    ({"cap_fen": 1.5}, TypeError),
])
def test_bad_local_overrides_are_refused(kwargs, error):
    with pytest.raises(error):
        policy.local_match(yuan(1_000), SUBEI, **kwargs)


def test_negative_provincial_amount_is_refused_for_local_match():
    with pytest.raises(ValueError):
        policy.local_match(-1, SUNAN)


# ---------------------------------------------------------------- balance and display

@pytest.mark.parametrize("total, reserved, approved, disbursed, remaining", [
    (yuan(100_000), 0, 0, yuan(2_153), yuan(97_847)),
    (yuan(140_000), yuan(10_000), yuan(20_000), yuan(30_000), yuan(80_000)),
    (yuan(100_000), yuan(100_000), 0, 0, 0),
    (yuan(100_000), yuan(60_000), yuan(60_000), 0, 0),
])
def test_remaining_balance_subtracts_reserved_approved_and_disbursed_never_below_zero(
        total, reserved, approved, disbursed, remaining):
    assert policy.remaining_fen(total, reserved, approved, disbursed) == remaining


@pytest.mark.parametrize("fen, text", [
    (yuan(140_000), "140,000.00"),
    (0, "0.00"),
    (5, "0.05"),
    (123456, "1,234.56"),
    (-150, "-1.50"),
    (policy.REVENUE_LIMIT_FEN, "400,000,000.00"),
])
def test_format_yuan_shows_thousands_and_two_decimals(fen, text):
    assert policy.format_yuan(fen) == text


@pytest.mark.parametrize("fen, text", [
    (yuan(140_000), "14"),
    (yuan(12_345_000), "1234.5"),
    (yuan(123_450), "12.345"),
    (0, "0"),
    (1, "0.000001"),
    (policy.REVENUE_LIMIT_FEN, "40000"),
    (-yuan(5_000), "-0.5"),
])
def test_format_wan_trims_trailing_zeros(fen, text):
    assert policy.format_wan(fen) == text


@pytest.mark.parametrize("fen, words", [
    (yuan(140_000), "壹拾肆万元整"),
    (0, "零元整"),
    (123456, "壹仟贰佰叁拾肆元伍角陆分"),
    (yuan(1_000_001), "壹佰万零壹元整"),
    (yuan(100_000), "壹拾万元整"),
    (yuan(10), "壹拾元整"),
    (yuan(100_100), "壹拾万零壹佰元整"),
    (5, "伍分"),
    (50, "伍角"),
    (56, "伍角陆分"),
    (150, "壹元伍角"),
    (105, "壹元零伍分"),
    (yuan(100_000_000), "壹亿元整"),
    (yuan(100_010_000), "壹亿零壹万元整"),
    (yuan(100_000_005), "壹亿零伍元整"),
    (yuan(1_001), "壹仟零壹元整"),
    (yuan(1_010), "壹仟零壹拾元整"),
    (yuan(10_010), "壹万零壹拾元整"),
    (yuan(97_847), "玖万柒仟捌佰肆拾柒元整"),
    (yuan(3_750), "叁仟柒佰伍拾元整"),
    (yuan(1_050) + 5, "壹仟零伍拾元零伍分"),
])
def test_uppercase_rmb_follows_chinese_financial_writing(fen, words):
    assert policy.uppercase_rmb(fen) == words


def test_uppercase_rmb_refuses_negative_amounts():
    with pytest.raises(ValueError):
        policy.uppercase_rmb(-1)


# ---------------------------------------------------------------- eligibility (SPEC 1.4, 1.6)

def fields(problems):
    return [problem.field for problem in problems]


def test_jiangsu_sme_below_the_revenue_limit_with_an_identity_is_eligible():
    assert policy.enterprise_problems("徐州市", policy.REVENUE_LIMIT_FEN - 1, "kexiao") == []


def test_revenue_of_exactly_400_million_yuan_is_refused():
    problems = policy.enterprise_problems("南京", yuan(400_000_000), "gaoqi")
    assert problems == [Problem("revenue", "上年度营业收入须低于4亿元（40,000万元），企业不符合省创新券申领条件")]


@pytest.mark.parametrize("city", ["上海", "杭州市", "", None])
def test_enterprise_outside_jiangsu_is_refused(city):
    assert fields(policy.enterprise_problems(city, yuan(1_000_000), "talent")) == ["city"]


@pytest.mark.parametrize("identity", [None, "", "kexiao ", "科技型中小企业"])
def test_enterprise_must_pick_one_of_the_four_identities(identity):
    assert fields(policy.enterprise_problems("苏州", yuan(1_000_000), identity)) == ["identity"]


@pytest.mark.parametrize("revenue", [None, -1])
def test_revenue_must_be_given_and_not_negative(revenue):
    assert fields(policy.enterprise_problems("苏州", revenue, "incubated")) == ["revenue"]


def test_every_eligibility_problem_is_reported_at_once():
    problems = policy.enterprise_problems("上海", yuan(500_000_000), None)
    assert fields(problems) == ["city", "revenue", "identity"]
    assert all(problem.message for problem in problems)


def test_identities_are_the_four_of_the_policy_in_order():
    assert list(policy.ENTERPRISE_IDENTITIES.items()) == [
        ("kexiao", "科技型中小企业"), ("gaoqi", "高新技术企业"),
        ("incubated", "入孵化器企业"), ("talent", "人才企业"),
    ]


def test_problem_is_an_immutable_value():
    problem = Problem("city", "x")
    assert problem == Problem("city", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.message = "y"


TODAY = date(2025, 6, 15)


@pytest.mark.parametrize("founded_on, expires_on, today, expected_fields", [
    (date(2023, 6, 15), TODAY, TODAY, []),
    (date(2010, 1, 1), date(2027, 12, 31), TODAY, []),
    (date(2023, 6, 16), date(2027, 12, 31), TODAY, ["founded_on"]),
    (date(2010, 1, 1), date(2025, 6, 14), TODAY, ["qualification_expires_on"]),
    (None, None, TODAY, ["founded_on", "qualification_expires_on"]),
    (date(2024, 1, 1), date(2020, 1, 1), TODAY, ["founded_on", "qualification_expires_on"]),
    (date(2020, 2, 29), date(2027, 1, 1), date(2022, 2, 28), ["founded_on"]),
    (date(2020, 2, 29), date(2027, 1, 1), date(2022, 3, 1), []),
    (date(2022, 2, 28), date(2027, 1, 1), date(2024, 2, 29), []),
])
def test_third_party_provider_needs_two_years_and_an_unexpired_qualification(
        founded_on, expires_on, today, expected_fields):
    problems = policy.provider_entry_problems(False, founded_on, expires_on, today)
    assert fields(problems) == expected_fields


def test_too_young_provider_is_told_the_latest_founding_date():
    [problem] = policy.provider_entry_problems(False, date(2024, 1, 1), date(2027, 1, 1), TODAY)
    assert "2023-06-15" in problem.message and "2年" in problem.message


@pytest.mark.parametrize("founded_on, expires_on", [
    (None, None),
    (date(2025, 1, 1), date(2020, 1, 1)),
])
def test_directly_eligible_provider_skips_age_and_qualification_checks(founded_on, expires_on):
    assert policy.provider_entry_problems(True, founded_on, expires_on, TODAY) == []


# ---------------------------------------------------------------- order amounts (issue 14)

@pytest.mark.parametrize("contract, limits, eligible", [
    (yuan(400_000), (yuan(400_000), yuan(400_000), yuan(160)), yuan(160)),    # the provider confirmed ¥160
    (yuan(1_000_000), (yuan(1_000_000), yuan(1_000_000), None, yuan(408_000)), yuan(408_000)),  # seed case 1
    (yuan(15_000), (yuan(12_000), yuan(12_000)), yuan(12_000)),
    (yuan(15_000), (None, None), yuan(15_000)),
    (None, (yuan(500),), 0),
])
def test_the_eligible_spend_is_the_least_of_every_amount_that_applies(contract, limits, eligible):
    assert policy.eligible_spend(contract, *limits) == eligible


def test_the_eligible_spend_takes_only_whole_fen():
    with pytest.raises(TypeError):
        policy.eligible_spend(100.0, 50)
    with pytest.raises(ValueError):
        policy.eligible_spend(100, -1)


@pytest.mark.parametrize("amount, problem", [
    (None, None), (1, None), (policy.ORDER_MAX_FEN_DEFAULT, None),
    (0, "订单金额应大于0"), (-5, "订单金额应大于0"),
    (policy.ORDER_MAX_FEN_DEFAULT + 1, "订单金额不能超过单笔订单上限 1000 万元，请核对金额和单位"),
])
def test_an_order_amount_is_positive_and_within_the_ceiling(amount, problem):
    assert policy.order_amount_problem(amount) == problem


def test_the_ceiling_is_ten_million_yuan_by_default():
    assert yuan(10_000_000) == policy.ORDER_MAX_FEN_DEFAULT and policy.ORDER_CONFIRM_FACTOR_DEFAULT == 3


@pytest.mark.parametrize("amount, priced, far", [
    (yuan(1_200), yuan(400), False), (yuan(1_200) + 1, yuan(400), True),
    (yuan(400) // 3 + 1, yuan(400), False), (yuan(100), yuan(400), True),
    (yuan(999_999), None, False), (yuan(999_999), 0, False), (None, yuan(400), False),
])
def test_an_amount_more_than_three_times_off_the_listed_price_is_far(amount, priced, far):
    assert policy.far_from_price(amount, priced) is far


@pytest.mark.parametrize("final, agreed, note, fields", [
    (yuan(160), yuan(160), "", []),
    (yuan(150), yuan(160), "少测一项", []),
    (yuan(150), yuan(160), "  ", ["final_amount_note"]),
    (yuan(150), None, "", []),               # 面议: nothing was agreed to differ from
    (None, yuan(160), "", ["final_amount"]),
    (0, yuan(160), "", ["final_amount"]),
    (policy.ORDER_MAX_FEN_DEFAULT + 1, None, "", ["final_amount"]),
])
def test_the_actual_amount_needs_a_reason_only_when_it_differs_from_the_order(final, agreed, note, fields):
    assert [p.field for p in policy.final_amount_problems(final, agreed, note)] == fields


# ---------------------------------------------------------------- constants and isolation

def test_policy_constants_are_integer_fen():
    assert policy.REVENUE_LIMIT_FEN == 40_000_000_000
    assert yuan(300_000) == policy.LARGE_INSTRUMENT_MIN_FEN
    assert policy.PROVIDER_MIN_YEARS == 2
    assert policy.PUBLICITY_DAYS_DEFAULT == 5
    assert policy.MAX_UPLOAD_BYTES == 50 * 1024 * 1024
    assert policy.MAX_INVOICE_BYTES == 5 * 1024 * 1024
    assert (policy.SERVICE_DESCRIPTION_MIN, policy.SERVICE_DESCRIPTION_MAX) == (30, 100)


ISOLATION_CHECK = """
import sys
sys.path.insert(0, {root!r})
from marketplace import {module}
loaded = sorted(name for name in sys.modules
                if name.split(".")[0] in ("flask", "sqlalchemy", "werkzeug", "flask_sqlalchemy")
                or (name.startswith("marketplace.") and name != "marketplace.{module}"))
print(",".join(loaded))
"""


@pytest.mark.parametrize("module", ["policy", "validators"])
def test_rules_module_imports_without_flask_or_the_database(module):
    # A fresh interpreter imports the real package: nothing of Flask or the database may come along.
    code = ISOLATION_CHECK.format(root=str(PROJECT_ROOT), module=module)
    result = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
