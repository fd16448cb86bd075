"""Jiangsu science & technology innovation voucher rules (《江苏省科技创新券管理办法（试行）》).

Plain Python on purpose: no Flask, no database, so the rules can be read and tested alone.
All money is integer fen (1 元 = 100 fen); fractions of a fen are always dropped, never rounded up.
Rules that judge a submission return a list of `Problem`s instead of raising on the first one.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

FEN_PER_YUAN = 100
FEN_PER_WAN = 10_000 * FEN_PER_YUAN

REGION_SUNAN = "苏南"
REGION_SUZHONG = "苏中"
REGION_SUBEI = "苏北"

REGIONS = {
    REGION_SUNAN: ("南京", "无锡", "常州", "苏州", "镇江"),
    REGION_SUZHONG: ("扬州", "泰州", "南通"),
    REGION_SUBEI: ("徐州", "连云港", "淮安", "盐城", "宿迁"),
}
CITIES = tuple(city for cities in REGIONS.values() for city in cities)
_REGION_BY_CITY = {city: region for region, cities in REGIONS.items() for city in cities}
# Each city's administrative division code (GB/T 2260); its counties' codes share the first four digits.
CITY_DIVISION_CODES = {
    "南京": "320100", "无锡": "320200", "徐州": "320300", "常州": "320400", "苏州": "320500", "南通": "320600",
    "连云港": "320700", "淮安": "320800", "盐城": "320900", "扬州": "321000", "镇江": "321100", "泰州": "321200",
    "宿迁": "321300",
}
_CITY_BY_DIVISION = {code[:4]: city for city, code in CITY_DIVISION_CODES.items()}

RATE = {REGION_SUNAN: Fraction(25, 100), REGION_SUZHONG: Fraction(25, 100), REGION_SUBEI: Fraction(35, 100)}
ANNUAL_CAP_FEN = {
    REGION_SUNAN: 100_000 * FEN_PER_YUAN,
    REGION_SUZHONG: 100_000 * FEN_PER_YUAN,
    REGION_SUBEI: 140_000 * FEN_PER_YUAN,
}
LOCAL_RATIO = {REGION_SUNAN: Fraction(1), REGION_SUZHONG: Fraction(1), REGION_SUBEI: Fraction(3, 7)}
LOCAL_CAP_FEN = {
    REGION_SUNAN: 100_000 * FEN_PER_YUAN,
    REGION_SUZHONG: 100_000 * FEN_PER_YUAN,
    REGION_SUBEI: 60_000 * FEN_PER_YUAN,
}

REVENUE_LIMIT_FEN = 400_000_000 * FEN_PER_YUAN
LARGE_INSTRUMENT_MIN_FEN = 300_000 * FEN_PER_YUAN
PROVIDER_MIN_YEARS = 2
PUBLICITY_DAYS_DEFAULT = 5
# One order may not be worth more than this (a typo or a hostile amount, not a real instrument service), and a
# buyer confirms an amount this many times above or below the listed price × quantity before ordering.
ORDER_MAX_FEN_DEFAULT = 1_000 * FEN_PER_WAN
ORDER_CONFIRM_FACTOR_DEFAULT = 3
# An order accepted this many days ago and still not finished is shown to the reviewer as stuck (平台关闭).
ORDER_STUCK_DAYS = 30
# An objection pauses someone else's money and a complaint counts in a provider's exit review: one account may
# lodge this many a day (China day), besides one open objection per claim and one open complaint per order.
OBJECTIONS_PER_DAY = 5
COMPLAINTS_PER_DAY = 5
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_INVOICE_BYTES = 5 * 1024 * 1024
SERVICE_DESCRIPTION_MIN = 30
SERVICE_DESCRIPTION_MAX = 100

# SPEC 1.5 (1): kinds of activity the voucher does not pay for, with starter keywords (reviewers edit the list).
NON_ELIGIBLE_KINDS = (
    ("法定认证", "强制性产品认证 CCC认证 3C认证"),
    ("执法检验", "执法抽检 监督抽查"),
    ("强制检测", "强制性检测"),
    ("商业检验", "商业验货"),
    ("商业拍摄", "广告拍摄 商业摄影"),
    ("医疗服务", "诊疗"),
    ("通信计费", "话费"),
    ("批量商品检验", "商品批量检验 批量验货"),
)

ENTERPRISE_IDENTITIES = {
    "kexiao": "科技型中小企业",
    "gaoqi": "高新技术企业",
    "incubated": "入孵化器企业",
    "talent": "人才企业",
}


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


# ---------------------------------------------------------------- regions

def normalize_city(name: str | None) -> str:
    """Short city name ("徐州") for "徐州" / "徐州市" / " 徐州市 "; ValueError outside Jiangsu."""
    text = (name or "").strip()
    if not text:
        raise ValueError("请填写企业注册地所在的设区市")
    short = text[:-1] if text.endswith("市") else text
    if short not in _REGION_BY_CITY:
        raise ValueError(f"「{text}」不是江苏省的设区市，企业不符合省创新券申领条件")
    return short


def region_of(city: str | None) -> str:
    return _REGION_BY_CITY[normalize_city(city)]


def city_of_credit_code(code: str | None) -> str | None:
    """The Jiangsu city whose authority registered this 统一社会信用代码 (GB 32100-2015: characters 3–8 are the
    registering authority's division code), or None when the code tells nothing: registered by the province
    (320000), outside Jiangsu, a legacy 15-digit number or not a credit code at all."""
    text = (code or "").strip().upper()
    return _CITY_BY_DIVISION.get(text[2:6]) if len(text) == 18 else None


def _check_region(region: str) -> str:
    if region not in REGIONS:
        raise ValueError(f"未知地区「{region}」，应为苏南、苏中或苏北")
    return region


def rate_of(region: str) -> Fraction:
    return RATE[_check_region(region)]


def annual_cap(region: str) -> int:
    return ANNUAL_CAP_FEN[_check_region(region)]


# ---------------------------------------------------------------- amounts

def _fen(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what}须为整数（分），收到 {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what}不能为负数")
    return value


def _floor(fen: int, ratio: Fraction) -> int:
    return fen * ratio.numerator // ratio.denominator


def voucher_amount(spend_fen: int, region: str, used_fen: int = 0) -> int:
    """Voucher for one redemption: floor(spend × rate), limited to what is left of the year's cap."""
    _fen(spend_fen, "服务金额")
    _fen(used_fen, "已使用金额")
    left = max(annual_cap(region) - used_fen, 0)
    return min(_floor(spend_fen, rate_of(region)), left)


def local_match(provincial_fen: int, region: str, ratio: int | Fraction | None = None,
                cap_fen: int | None = None) -> int:
    """City money matching a provincial amount; `ratio` (local/provincial) and `cap_fen` are city overrides."""
    _fen(provincial_fen, "省创新券金额")
    _check_region(region)
    ratio = LOCAL_RATIO[region] if ratio is None else _ratio(ratio)
    cap_fen = LOCAL_CAP_FEN[region] if cap_fen is None else _fen(cap_fen, "地方配套上限")
    return min(_floor(provincial_fen, ratio), cap_fen)


def _ratio(value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise TypeError("配套比例须为整数或 Fraction，不能用浮点数")
    if value < 0:
        raise ValueError("配套比例不能为负数")
    return Fraction(value)


def eligible_spend(contract_fen: int | None, *limits: int | None) -> int:
    """可兑付金额 of a claim: the contract amount, never more than any limit given (invoice and receipt totals, the
    amount the provider confirmed, the eligible part of a mixed contract); a limit of None does not apply.
    Nothing without a contract amount."""
    if contract_fen is None:
        return 0
    return min([_fen(contract_fen, "合同金额"), *(_fen(limit, "金额") for limit in limits if limit is not None)])


def remaining_fen(total: int, reserved: int, approved: int, disbursed: int) -> int:
    """剩余可用金额 = total − reserved − approved − disbursed, never below zero."""
    return max(total - reserved - approved - disbursed, 0)


# ---------------------------------------------------------------- order amounts

def order_amount_problem(amount_fen: int | None, ceiling_fen: int = ORDER_MAX_FEN_DEFAULT,
                         what: str = "订单金额") -> str | None:
    """Why an order's amount (`what`: its 线上报价 or 实际服务金额) cannot be taken; None when it can."""
    if amount_fen is None:
        return None
    if amount_fen <= 0:
        return f"{what}应大于0"
    if amount_fen > ceiling_fen:
        return f"{what}不能超过单笔订单上限 {format_wan(ceiling_fen)} 万元，请核对金额和单位"
    return None


def far_from_price(amount_fen: int | None, priced_fen: int | None, factor: int = ORDER_CONFIRM_FACTOR_DEFAULT) -> bool:
    """True when an amount is more than `factor` times above or below the listed price × quantity (nothing to
    compare with when either is missing or zero)."""
    if not amount_fen or not priced_fen:
        return False
    return amount_fen > priced_fen * factor or amount_fen * factor < priced_fen


def final_amount_problems(final_fen: int | None, agreed_fen: int | None, note: str | None,
                          ceiling_fen: int = ORDER_MAX_FEN_DEFAULT) -> list[Problem]:
    """The provider's 实际服务金额 at 服务完成: required, positive, within the ceiling; a difference from the agreed
    order amount needs a reason that both sides and the reviewer will read."""
    if final_fen is None:
        return [Problem("final_amount", "请填写实际服务金额")]
    problem = order_amount_problem(final_fen, ceiling_fen, "实际服务金额")
    if problem:
        return [Problem("final_amount", problem)]
    if agreed_fen is not None and final_fen != agreed_fen and not (note or "").strip():
        return [Problem("final_amount_note",
                        f"实际服务金额与订单金额 ¥{format_yuan(agreed_fen)} 不一致，请说明原因")]
    return []


# ---------------------------------------------------------------- display

def format_yuan(fen: int) -> str:
    """14000000 -> "140,000.00"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{yuan:,}.{cents:02d}"


def format_wan(fen: int) -> str:
    """Amount in 万元 without trailing zeros: 14000000 -> "14", 1234500000 -> "12.345"."""
    sign = "-" if fen < 0 else ""
    wan, rest = divmod(abs(fen), FEN_PER_WAN)
    decimals = f"{rest:06d}".rstrip("0")
    return f"{sign}{wan}.{decimals}" if decimals else f"{sign}{wan}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ("仟", "佰", "拾", "")
_SECTIONS = ("", "万", "亿", "万亿")


def uppercase_rmb(fen: int) -> str:
    """Amount in 人民币大写 as written on invoices and contracts: 14000000 -> "壹拾肆万元整"."""
    _fen(fen, "金额")
    yuan, cents = divmod(fen, FEN_PER_YUAN)
    jiao, fen_digit = divmod(cents, 10)
    if yuan >= 10 ** (4 * len(_SECTIONS)):
        raise ValueError("金额过大，无法转换为大写")
    if not yuan and not cents:
        return "零元整"
    words = _yuan_words(yuan) + "元" if yuan else ""
    if not cents:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_digit:
        words += _DIGITS[fen_digit] + "分"
    return words


def _yuan_words(yuan: int) -> str:
    """Whole yuan in groups of four digits (个, 万, 亿, 万亿) with one 零 for every run of zeros."""
    groups: list[int] = []
    while yuan:
        yuan, group = divmod(yuan, 10_000)
        groups.append(group)
    words, zero_pending = "", False
    for section in reversed(range(len(groups))):
        group = groups[section]
        if not group:
            zero_pending = bool(words)
            continue
        if zero_pending or (words and group < 1000):
            words += "零"
        words += _group_words(group) + _SECTIONS[section]
        zero_pending = False
    return words


def _group_words(group: int) -> str:
    words, zero_pending = "", False
    for digit, place in zip(f"{group:04d}", _PLACES, strict=True):
        if digit == "0":
            zero_pending = bool(words)
            continue
        words += ("零" if zero_pending else "") + _DIGITS[int(digit)] + place
        zero_pending = False
    return words


# ---------------------------------------------------------------- eligibility

def enterprise_problems(city: str | None, revenue_fen: int | None, identity: str | None) -> list[Problem]:
    """Why an enterprise may not apply for the provincial voucher (empty list: it may)."""
    problems = []
    try:
        normalize_city(city)
    except ValueError as error:
        problems.append(Problem("city", str(error)))
    if revenue_fen is None:
        problems.append(Problem("revenue", "请填写上年度营业收入"))
    elif revenue_fen < 0:
        problems.append(Problem("revenue", "上年度营业收入不能为负数"))
    elif revenue_fen >= REVENUE_LIMIT_FEN:
        problems.append(Problem("revenue", "上年度营业收入须低于4亿元（40,000万元），企业不符合省创新券申领条件"))
    if identity not in ENTERPRISE_IDENTITIES:
        names = "、".join(ENTERPRISE_IDENTITIES.values())
        problems.append(Problem("identity", f"请选择企业身份（{names}之一）"))
    return problems


def provider_entry_problems(direct: bool, founded_on: date | None, qualification_expires_on: date | None,
                            today: date) -> list[Problem]:
    """Entry checks for third-party providers; directly eligible units (高校、院所、国企…) skip them."""
    if direct:
        return []
    problems = []
    latest_founding = _years_before(today, PROVIDER_MIN_YEARS)
    if founded_on is None:
        problems.append(Problem("founded_on", "请填写注册成立日期"))
    elif founded_on > latest_founding:
        problems.append(Problem(
            "founded_on",
            f"第三方服务单位须注册成立满{PROVIDER_MIN_YEARS}年（成立日期不晚于{latest_founding.isoformat()}）",
        ))
    if qualification_expires_on is None:
        problems.append(Problem("qualification_expires_on", "请填写资质（CMA、CNAS等）有效期"))
    elif qualification_expires_on < today:
        problems.append(Problem(
            "qualification_expires_on",
            f"资质已于{qualification_expires_on.isoformat()}过期，请提供有效期内的资质",
        ))
    return problems


def publicity_period(start: date, days: int) -> tuple[date, date]:
    """公示 (SPEC 3.1, 7.4): `days` days counting the first and the last, so it ends on start + days − 1 and is over
    the day after. The same for a shop's entry and for claims."""
    return start, start + timedelta(days=days - 1)


def _years_before(day: date, years: int) -> date:
    """Same calendar day `years` earlier; 29 February falls back to the 28th."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)
