"""省地联动 (SPEC 1.3): each city's rule, from the reviewer's settings or the policy defaults."""
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import func

from .. import policy
from ..extensions import db
from ..models import CitySetting, Voucher, VoucherApplication

ALL_IDENTITIES = tuple(policy.ENTERPRISE_IDENTITIES)


@dataclass(frozen=True)
class CityRule:
    city: str                    # short form: 徐州
    region: str
    identities: tuple[str, ...]  # enterprise types the city matches
    ratio: Fraction              # local money per provincial yuan
    cap_fen: int
    contact: str = ""
    configured: bool = False     # False: the policy defaults, nobody has saved a setting yet

    def matches(self, identity: str) -> bool:
        return identity in self.identities

    def amount(self, provincial_fen: int) -> int:
        return policy.local_match(provincial_fen, self.region, ratio=self.ratio, cap_fen=self.cap_fen)

    @property
    def ratio_label(self) -> str:
        """省:市 as the policy writes it: 1:1, 7:3."""
        return f"{self.ratio.denominator}:{self.ratio.numerator}"

    @property
    def identity_labels(self) -> list[str]:
        return [policy.ENTERPRISE_IDENTITIES[code] for code in self.identities]


def default_rule(city: str) -> CityRule:
    region = policy.region_of(city)
    return CityRule(city, region, ALL_IDENTITIES, policy.LOCAL_RATIO[region], policy.LOCAL_CAP_FEN[region])


def city_rule(city: str) -> CityRule:
    """The city's rule; ValueError for a city outside Jiangsu (never a silent default)."""
    short = policy.normalize_city(city)
    setting = db.session.get(CitySetting, short)
    if setting is None:
        return default_rule(short)
    identities = tuple(code for code in setting.local_identities.split(",") if code in policy.ENTERPRISE_IDENTITIES)
    region = setting.region_override if setting.region_override in policy.REGIONS else policy.region_of(short)
    return CityRule(short, region, identities,
                    Fraction(setting.local_ratio_num, setting.local_ratio_den), setting.local_cap_fen,
                    setting.contact, configured=True)


def region_for(city: str) -> str:
    """The region that sets rate and cap: the reviewer's override for the city, else SPEC 1.1."""
    return city_rule(city).region


def voucher_city(application: VoucherApplication) -> str:
    """The city whose rules apply to the application's voucher: the registered city the reviewer confirmed at
    approval, else (approved before reviewers confirmed it) the registered city as filed."""
    return application.confirmed_city or application.registered_city


# voucher_city() in SQL, for the queries that group or filter vouchers by city (payments, statistics).
VOUCHER_CITY = func.coalesce(func.nullif(VoucherApplication.confirmed_city, ""), VoucherApplication.registered_city)


@dataclass(frozen=True)
class LocalOffer:
    rule: CityRule
    identity: str
    max_fen: int        # local money if the whole provincial voucher is used

    def for_provincial(self, provincial_fen: int) -> int:
        return self.rule.amount(provincial_fen)


def local_offer(voucher: Voucher) -> LocalOffer | None:
    """What the enterprise's city may add to this voucher, or None when its type gets no local money."""
    application = voucher.application
    rule = city_rule(voucher_city(application))
    if not rule.matches(application.identity):
        return None
    return LocalOffer(rule, application.identity, rule.amount(voucher.total_fen))
