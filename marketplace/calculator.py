"""The policy page's voucher calculator: city + spend (+ what was already used this year) → provincial
voucher and local matching, with the city's own settings (CitySetting) when the reviewer set them."""
from dataclasses import dataclass
from fractions import Fraction

from wtforms import SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Optional

from . import policy
from .catalog.estimate import limit_note
from .extensions import db
from .forms import Form, choices
from .models import CitySetting
from .validators import parse_money
from .vouchers.local import region_for


def _yuan_amount(_form, field):
    try:
        parse_money(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def _jiangsu_city(_form, field):
    try:
        field.data = policy.normalize_city(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class CalculatorForm(Form):
    """Read from the query string (a GET form: nothing changes, so no CSRF token)."""

    class Meta:
        csrf = False

    city = SelectField("企业注册地", choices=choices(((c, c + "市") for c in policy.CITIES), "请选择设区市"),
                       validate_choice=False, validators=[DataRequired(message="请选择企业注册地所在的设区市"),
                                                          _jiangsu_city])
    spend = StringField("服务金额（元）", validators=[DataRequired(message="请填写服务金额"), _yuan_amount])
    used = StringField("本年度已兑付省创新券（元，可不填）", validators=[Optional(), _yuan_amount])

    @property
    def spend_fen(self) -> int:
        return parse_money(self.spend.data)

    @property
    def used_fen(self) -> int:
        return parse_money(self.used.data) or 0


@dataclass(frozen=True)
class Calculation:
    city: str
    region: str
    rate: Fraction
    cap_fen: int
    spend_fen: int
    used_fen: int
    provincial_fen: int
    note: str  # why the provincial amount is less than the rate gives, if it is
    local_ratio: Fraction  # local money per yuan of provincial money
    local_cap_fen: int
    local_fen: int
    local_identities: list[str]

    @property
    def rate_percent(self) -> int:
        return int(self.rate * 100)

    @property
    def total_fen(self) -> int:
        return self.provincial_fen + self.local_fen


def calculate(city: str, spend_fen: int, used_fen: int = 0) -> Calculation:
    city = policy.normalize_city(city)
    region = region_for(city)
    setting = db.session.get(CitySetting, city)
    ratio = Fraction(setting.local_ratio_num, setting.local_ratio_den) if setting else policy.LOCAL_RATIO[region]
    local_cap = setting.local_cap_fen if setting else policy.LOCAL_CAP_FEN[region]
    codes = setting.local_identities.split(",") if setting else list(policy.ENTERPRISE_IDENTITIES)
    provincial = policy.voucher_amount(spend_fen, region, used_fen)
    return Calculation(city=city, region=region, rate=policy.rate_of(region), cap_fen=policy.annual_cap(region),
                       spend_fen=spend_fen, used_fen=used_fen, provincial_fen=provincial,
                       note=limit_note(spend_fen, region, used_fen, provincial),
                       local_ratio=ratio, local_cap_fen=local_cap,
                       local_fen=policy.local_match(provincial, region, ratio, local_cap),
                       local_identities=[policy.ENTERPRISE_IDENTITIES[c] for c in codes
                                         if c in policy.ENTERPRISE_IDENTITIES])


def from_query(args) -> tuple[CalculatorForm, Calculation | None]:
    """The form filled from the query string and, once it is valid, its calculation."""
    form = CalculatorForm(formdata=args)
    if not args or not form.validate():
        return form, None
    return form, calculate(form.city.data, form.spend_fen, form.used_fen)
