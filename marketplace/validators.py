"""Checks for Chinese identifiers and phone numbers; each returns a Chinese message or None.

Plain Python (no Flask, no database) so forms, the demo generator and tests can share them.
"""

import re
import unicodedata
from datetime import date
from decimal import Decimal

# GB 32100-2015: 31 characters, no I, O, S, V, Z.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# GB 11643-1999: ISO 7064 MOD 11-2.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"

ID_TYPES = {
    "id_card": "居民身份证",
    "passport": "护照",
    "hk_macau": "港澳通行证",
    "taiwan": "台胞证",
}

_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_LANDLINE = re.compile(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?|[48]00-?\d{3}-?\d{4}", re.ASCII)
_OTHER_ID = re.compile(r"[0-9A-Z]{5,20}")
_ID_CARD = re.compile(r"\d{17}[\dX]", re.ASCII)
_BANK_BRANCH_CODE = re.compile(r"\d{12}", re.ASCII)


def whole_number(raw: object, digits: int = 9) -> int | None:
    """`raw` as a whole number when it is 1 to `digits` ASCII digits (so any id or count a column holds), else
    None. str.isdigit() alone lets "²" and "١٢" through, which int() then refuses with a 500."""
    if isinstance(raw, str) and 0 < len(raw) <= digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def _normalize(text: str | None) -> str:
    """Full-width characters to ASCII (as typed with a Chinese IME), trimmed and upper-cased."""
    return unicodedata.normalize("NFKC", text or "").strip().upper()


# ---------------------------------------------------------------- 统一社会信用代码 / 工商注册号

def normalize_credit_code(code: str | None) -> str:
    return _normalize(code)


def _credit_check_char(body17: str) -> str:
    pairs = zip(body17, _CREDIT_CODE_WEIGHTS, strict=True)
    total = sum(CREDIT_CODE_CHARSET.index(char) * weight for char, weight in pairs)
    return CREDIT_CODE_CHARSET[-total % 31]


def make_credit_code(body17: str) -> str:
    """Append the GB 32100-2015 check character to the first 17 characters of a credit code."""
    body = normalize_credit_code(body17)
    if len(body) != 17 or any(char not in CREDIT_CODE_CHARSET for char in body):
        raise ValueError(f"「{body17}」不是17位合法的统一社会信用代码主体")
    return body + _credit_check_char(body)


def _registration_check_digit(body14: str) -> str:
    """ISO 7064 MOD 11,10, as used by the 15-digit 工商注册号 (GS 15-2006)."""
    product = 10
    for digit in body14:
        product = ((product + int(digit)) % 10 or 10) * 2 % 11
    return str((11 - product) % 10)


def make_registration_number(body14: str) -> str:
    """Append the check digit to the first 14 digits of a legacy 工商注册号."""
    body = normalize_credit_code(body14)
    if len(body) != 14 or not body.isascii() or not body.isdigit():
        raise ValueError(f"「{body14}」不是14位数字")
    return body + _registration_check_digit(body)


def credit_code_problem(code: str | None) -> str | None:
    code = normalize_credit_code(code)
    if not code:
        return "请填写统一社会信用代码"
    if len(code) == 15:
        return _registration_number_problem(code)
    if len(code) != 18:
        return "统一社会信用代码应为18位（旧版工商注册号为15位数字）"
    if any(char not in CREDIT_CODE_CHARSET for char in code):
        return "统一社会信用代码只能包含数字和大写字母（不含I、O、S、V、Z）"
    if _credit_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位不正确，请核对"
    return None


def _registration_number_problem(number: str) -> str | None:
    if not number.isascii() or not number.isdigit():
        return "15位工商注册号应全部为数字"
    if _registration_check_digit(number[:14]) != number[14]:
        return "工商注册号校验位不正确，请核对"
    return None


# ---------------------------------------------------------------- 证件号码

def normalize_id_number(number: str | None) -> str:
    return _normalize(number)


def _id_check_char(body17: str) -> str:
    return _ID_CHECK_CHARS[sum(int(digit) * weight for digit, weight in zip(body17, _ID_WEIGHTS, strict=True)) % 11]


def make_id_number(body17: str) -> str:
    """Append the GB 11643-1999 check character to the first 17 digits of an ID card number."""
    body = normalize_id_number(body17)
    if len(body) != 17 or not body.isascii() or not body.isdigit():
        raise ValueError(f"「{body17}」不是17位数字")
    return body + _id_check_char(body)


def id_number_problem(id_type: str | None, number: str | None, today: date | None = None) -> str | None:
    number = normalize_id_number(number)
    if id_type not in ID_TYPES:
        return "请选择证件类型"
    if not number:
        return "请填写证件号码"
    if id_type == "id_card":
        return _id_card_problem(number, today or date.today())
    if not _OTHER_ID.fullmatch(number):
        return f"{ID_TYPES[id_type]}号码应为5–20位字母或数字"
    return None


def _id_card_problem(number: str, today: date) -> str | None:
    if not _ID_CARD.fullmatch(number):
        return "居民身份证号码应为18位（最后一位可以是X）"
    if not _plausible_birth_date(number[6:14], today):
        return "居民身份证号码中的出生日期不正确"
    if _id_check_char(number[:17]) != number[17]:
        return "居民身份证号码校验位不正确，请核对"
    return None


def _plausible_birth_date(yyyymmdd: str, today: date) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= today


# ---------------------------------------------------------------- 电话 / 联行号

def mobile_problem(phone: str | None) -> str | None:
    phone = (phone or "").strip()
    if not phone:
        return "请填写手机号码"
    if not _MOBILE.fullmatch(phone):
        return "手机号码应为11位，以13–19开头"
    return None


def phone_problem(phone: str | None) -> str | None:
    phone = (phone or "").strip()
    if not phone:
        return "请填写联系电话"
    if not (_MOBILE.fullmatch(phone) or _LANDLINE.fullmatch(phone)):
        return "请填写手机号码或带区号的固定电话（如025-83235635）"
    return None


def bank_branch_code_problem(code: str | None) -> str | None:
    code = (code or "").strip()
    if not code:
        return "请填写联行号"
    if not _BANK_BRANCH_CODE.fullmatch(code):
        return "联行号应为12位数字"
    return None


# ---------------------------------------------------------------- money typed by people

MONEY_UNITS_FEN = {"元": 100, "万元": 1_000_000}
MAX_MONEY_FEN = 10 ** 14  # 1万亿元: beyond any real amount, well inside BIGINT
_AMOUNT = re.compile(r"-?\d+(\.\d+)?", re.ASCII)


def parse_money(text: str | None, unit: str = "元", allow_negative: bool = False) -> int | None:
    """An amount as people type it ("408,000", "¥1234.5", "15000元", "1234.5" 万元) -> integer fen;
    empty -> None. Raises ValueError with a Chinese message naming the problem."""
    per_unit = MONEY_UNITS_FEN[unit]
    cleaned = re.sub(r"[\s,，]", "", text or "").lstrip("¥￥").removesuffix(unit)
    if not cleaned:
        return None
    if not _AMOUNT.fullmatch(cleaned):
        raise ValueError(f"请填写数字金额（单位：{unit}），如 1500 或 1234.56")
    fen = Decimal(cleaned) * per_unit
    if fen < 0 and not allow_negative:
        raise ValueError("金额不能为负数")
    if fen != fen.to_integral_value():
        places = "两" if per_unit == 100 else str(len(str(per_unit)) - 1)
        raise ValueError(f"金额最多保留{places}位小数（精确到分）")
    if abs(fen) > MAX_MONEY_FEN:
        raise ValueError(f"金额过大，请核对单位（{unit}）")
    return int(fen)


def format_money_input(fen: int | None, unit: str = "元") -> str:
    """The inverse of parse_money for pre-filling an input: 150050 -> "1500.50" (元), 1234500000 -> "1234.5" (万元)."""
    if fen is None:
        return ""
    if unit == "元":
        sign, (yuan, cents) = "-" if fen < 0 else "", divmod(abs(fen), 100)
        return f"{sign}{yuan}.{cents:02d}"
    text = format(Decimal(fen) / MONEY_UNITS_FEN[unit], "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
