from datetime import date

import pytest

from marketplace import validators
from marketplace.validators import (
    CREDIT_CODE_CHARSET,
    ID_TYPES,
    bank_branch_code_problem,
    credit_code_problem,
    id_number_problem,
    make_credit_code,
    make_id_number,
    make_registration_number,
    mobile_problem,
    normalize_credit_code,
    phone_problem,
    whole_number,
)

# ---------------------------------------------------------------- 统一社会信用代码

# The example printed in GB 32100-2015, checked by hand. Character values come from the
# position in 0123456789ABCDEFGHJKLMNPQRTUWXY (M = 21, Y = 30):
#   9·1 + 1·3 + 3·9 + 5·27 + 0·19 + 1·26 + 0·16 + 0·17 + M21·20 + 0·29 + 0·25 + 0·13
#   + 1·8 + 0·24 + 0·10 + Y30·30 + 4·28 = 9+3+27+135+26+420+8+900+112 = 1640
#   1640 mod 31 = 28; 31 − 28 = 3 → check character "3".
GB_STANDARD_EXAMPLE = "91350100M000100Y43"

# Published codes of well-known companies (华为技术有限公司, 阿里巴巴（中国）有限公司,
# 深圳市腾讯计算机系统有限公司): an outside check that the weights and charset are right.
PUBLISHED_CODES = ["914403001922038216", "91330100799655058B", "9144030071526726XG"]

BODIES = ["91320000MA1N2B3C4", "12320000466007282", "52320000MJ5678901", "91320100000000000"]


def test_gb_standard_example_check_character_is_3():
    assert make_credit_code(GB_STANDARD_EXAMPLE[:17]) == GB_STANDARD_EXAMPLE


@pytest.mark.parametrize("code", [GB_STANDARD_EXAMPLE, *PUBLISHED_CODES, *map(make_credit_code, BODIES)])
def test_valid_credit_code_is_accepted(code):
    assert credit_code_problem(code) is None


@pytest.mark.parametrize("body", BODIES + [GB_STANDARD_EXAMPLE[:17]])
def test_every_other_check_character_is_refused(body):
    right = make_credit_code(body)[-1]
    for wrong in CREDIT_CODE_CHARSET.replace(right, ""):
        assert credit_code_problem(body + wrong) == "统一社会信用代码校验位不正确，请核对"


@pytest.mark.parametrize("typed", [
    " 91350100m000100y43 ",
    "９１３５０１００Ｍ０００１００Ｙ４３",
    "\t91350100M000100Y43\n",
])
def test_credit_code_is_trimmed_upper_cased_and_made_half_width(typed):
    assert normalize_credit_code(typed) == GB_STANDARD_EXAMPLE
    assert credit_code_problem(typed) is None


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_credit_code_with_letters_outside_the_standard_is_refused(letter):
    code = GB_STANDARD_EXAMPLE[:8] + letter + GB_STANDARD_EXAMPLE[9:]
    assert "不含I、O、S、V、Z" in credit_code_problem(code)


@pytest.mark.parametrize("code", [GB_STANDARD_EXAMPLE[:17], GB_STANDARD_EXAMPLE + "0", "9135", "1" * 16])
def test_credit_code_of_wrong_length_is_refused(code):
    assert credit_code_problem(code) == "统一社会信用代码应为18位（旧版工商注册号为15位数字）"


@pytest.mark.parametrize("code", ["", "   ", None])
def test_missing_credit_code_is_asked_for(code):
    assert credit_code_problem(code) == "请填写统一社会信用代码"


@pytest.mark.parametrize("body", ["9132000013478026", "91320000I34780262", "91320000-34780262"])
def test_make_credit_code_refuses_a_malformed_body(body):
    with pytest.raises(ValueError):
        make_credit_code(body)


# ---------------------------------------------------------------- 15-digit 工商注册号

# The example of GS 15-2006, checked by hand with ISO 7064 MOD 11,10 over 11010800000001:
#   p = 10; for each digit d: s = (p + d) mod 10 (0 counts as 10), p = 2s mod 11
#   p: 2, 6, 1, 4, 8, 1, 2, 4, 8, 5, 10, 9, 7, 5 → check digit (11 − 5) mod 10 = 6.
GS15_EXAMPLE = "110108000000016"


@pytest.mark.parametrize("number", [GS15_EXAMPLE, make_registration_number("32010000012345"),
                                    make_registration_number("32030200099999")])
def test_legacy_fifteen_digit_registration_number_is_accepted(number):
    assert credit_code_problem(number) is None


def test_make_registration_number_reproduces_the_standard_example():
    assert make_registration_number(GS15_EXAMPLE[:14]) == GS15_EXAMPLE


@pytest.mark.parametrize("wrong", "012345789")
def test_legacy_registration_number_with_wrong_check_digit_is_refused(wrong):
    assert credit_code_problem(GS15_EXAMPLE[:14] + wrong) == "工商注册号校验位不正确，请核对"


def test_legacy_registration_number_must_be_all_digits():
    assert credit_code_problem("11010800000001A") == "15位工商注册号应全部为数字"


# ---------------------------------------------------------------- 证件号码

# The example of GB 11643-1999, checked by hand: digits 11010519491231002 times weights
# 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 = 7+9+0+5+0+20+2+9+24+27+7+18+30+5+0+0+4 = 167;
# 167 mod 11 = 2 → "10X98765432"[2] = "X".
ID_CARD_EXAMPLE = "11010519491231002X"
TODAY = date(2025, 6, 15)


@pytest.mark.parametrize("number", [
    ID_CARD_EXAMPLE,
    ID_CARD_EXAMPLE.lower(),
    f" {ID_CARD_EXAMPLE} ",
    make_id_number("32010219900101123"),
    make_id_number("32030319851231001"),
    make_id_number("32130220000229004"),
    make_id_number("32010220250615000"),
])
def test_valid_id_card_number_is_accepted(number):
    assert id_number_problem("id_card", number, today=TODAY) is None


def test_make_id_number_reproduces_the_standard_example():
    assert make_id_number(ID_CARD_EXAMPLE[:17]) == ID_CARD_EXAMPLE


@pytest.mark.parametrize("wrong", "0123456789")
def test_id_card_with_wrong_check_character_is_refused(wrong):
    assert id_number_problem("id_card", ID_CARD_EXAMPLE[:17] + wrong) == "居民身份证号码校验位不正确，请核对"


@pytest.mark.parametrize("body", [
    "32010219901301123",  # month 13
    "32010219900230123",  # 30 February
    "32010220010229123",  # 2001 is not a leap year
    "32010218991231123",  # before 1900
    "32010220250616123",  # born after today
])
def test_id_card_with_impossible_birth_date_is_refused(body):
    assert id_number_problem("id_card", make_id_number(body), today=TODAY) == "居民身份证号码中的出生日期不正确"


@pytest.mark.parametrize("number", ["110105491231002", ID_CARD_EXAMPLE + "1", "1101051949123100AX",
                                    "X1010519491231002"])
def test_id_card_of_wrong_shape_is_refused(number):
    assert id_number_problem("id_card", number) == "居民身份证号码应为18位（最后一位可以是X）"


@pytest.mark.parametrize("id_type, number", [
    ("passport", "E12345678"),
    ("passport", "g1234"),
    ("hk_macau", "C12345678"),
    ("taiwan", "12345678"),
    ("taiwan", "1" * 20),
])
def test_other_id_types_take_5_to_20_letters_or_digits(id_type, number):
    assert id_number_problem(id_type, number) is None


@pytest.mark.parametrize("id_type, number", [
    ("passport", "E123"),
    ("passport", "E" * 21),
    ("hk_macau", "C1234-5678"),
    ("taiwan", "台12345678"),
])
def test_other_id_types_refuse_wrong_length_or_characters(id_type, number):
    assert id_number_problem(id_type, number) == f"{ID_TYPES[id_type]}号码应为5–20位字母或数字"


@pytest.mark.parametrize("id_type, number, message", [
    ("driving_licence", ID_CARD_EXAMPLE, "请选择证件类型"),
    (None, ID_CARD_EXAMPLE, "请选择证件类型"),
    ("id_card", "", "请填写证件号码"),
    ("passport", None, "请填写证件号码"),
])
def test_id_type_and_number_are_required(id_type, number, message):
    assert id_number_problem(id_type, number) == message


def test_id_types_are_offered_in_order():
    assert list(ID_TYPES) == ["id_card", "passport", "hk_macau", "taiwan"]
    assert ID_TYPES["id_card"] == "居民身份证"


def test_make_id_number_refuses_a_malformed_body():
    with pytest.raises(ValueError):
        make_id_number("3201021990010112X")


# ---------------------------------------------------------------- phones and bank codes

@pytest.mark.parametrize("phone", ["13812345678", "19912345678", "16600001111", " 15951234567 "])
def test_mainland_mobile_is_accepted(phone):
    assert mobile_problem(phone) is None
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "138123456789", "138-1234-5678",
                                   "+8613812345678", "025-83235635", "１３８１２３４５６７８"])
def test_malformed_mobile_is_refused(phone):
    assert mobile_problem(phone) == "手机号码应为11位，以13–19开头"


@pytest.mark.parametrize("phone", ["", None])
def test_missing_mobile_is_asked_for(phone):
    assert mobile_problem(phone) == "请填写手机号码"


@pytest.mark.parametrize("phone", ["025-83235635", "02583235635", "0516-8123456", "0516-81234567",
                                   "025-83235635-801", "400-123-4567", "4001234567"])
def test_landline_with_area_code_is_accepted_as_phone(phone):
    assert phone_problem(phone) is None


@pytest.mark.parametrize("phone", ["83235635", "25-83235635", "025-832356", "025—83235635", "phone"])
def test_phone_without_area_code_or_malformed_is_refused(phone):
    assert phone_problem(phone) == "请填写手机号码或带区号的固定电话（如025-83235635）"


def test_missing_phone_is_asked_for():
    assert phone_problem("  ") == "请填写联系电话"


@pytest.mark.parametrize("code, message", [
    ("102301000017", None),
    (" 313301099999 ", None),
    ("10230100001", "联行号应为12位数字"),
    ("1023010000171", "联行号应为12位数字"),
    ("10230100001A", "联行号应为12位数字"),
    ("", "请填写联行号"),
    (None, "请填写联行号"),
])
def test_bank_branch_code_is_twelve_digits(code, message):
    assert bank_branch_code_problem(code) == message


# ---------------------------------------------------------------- money typed by people

@pytest.mark.parametrize("typed, unit, fen", [
    ("408,000", "元", 40_800_000), ("¥1234.5", "元", 123_450), ("15000元", "元", 1_500_000),
    ("0.01", "元", 1), ("1234.5", "万元", 1_234_500_000), ("0.000001", "万元", 1), (" ", "元", None),
    ("", "万元", None),
])
def test_money_typed_in_yuan_or_wan_becomes_integer_fen(typed, unit, fen):
    assert validators.parse_money(typed, unit) == fen


@pytest.mark.parametrize("typed, unit, message", [
    ("abc", "元", "请填写数字金额"), ("1e5", "元", "请填写数字金额"), ("-5", "元", "金额不能为负数"),
    ("12.345", "元", "最多保留两位小数"), ("1.1234567", "万元", "最多保留6位小数"),
    ("1000000000001", "元", "金额过大"), ("NaN", "元", "请填写数字金额"),
])
def test_bad_money_is_refused_with_a_chinese_message(typed, unit, message):
    with pytest.raises(ValueError, match=message):
        validators.parse_money(typed, unit)


def test_negative_money_only_where_allowed():
    assert validators.parse_money("-12.3", "万元", allow_negative=True) == -12_300_000


@pytest.mark.parametrize("fen", [0, 1, 150_050, 40_800_000, 1_234_500_000])
def test_money_shown_in_an_input_reads_back_the_same(fen):
    for unit in validators.MONEY_UNITS_FEN:
        assert validators.parse_money(validators.format_money_input(fen, unit), unit) == fen


@pytest.mark.parametrize("raw, number", [("0", 0), ("42", 42), ("999999999", 999_999_999), ("1234567890", None),
                                         ("²", None), ("١٢", None), ("", None), (" 1", None), ("-1", None),
                                         ("1.0", None), (None, None), (7, None)])
def test_whole_number_reads_only_short_ascii_digits(raw, number):
    assert whole_number(raw) == number
