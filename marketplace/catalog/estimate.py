"""The voucher estimate shown wherever money appears (SPEC 11).

Every amount comes from `policy`; this module only adds who is asking (the enterprise's region and
this year's voucher balance) and the city's own settings (region override, local matching)."""
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import select

from .. import policy, related_parties
from ..extensions import db
from ..models import Enterprise, Role, Voucher, VoucherApplication, china_today
from ..validators import whole_number
from ..vouchers.local import region_for

NOT_ELIGIBLE = "该服务不带创新券标识，不能兑付"
NEGOTIABLE = "面议服务以实际合同金额计算"
MAX_QUANTITY = 999


@dataclass(frozen=True)
class Estimate:
    """What the voucher would pay towards `amount_fen` (None: 面议) in `region`.

    `region` may name several regions ("苏南、苏中") when they share the same terms. `year` is set
    for a signed-in enterprise's own estimate; `remaining_fen` only once it holds that year's voucher.
    `voucher_fen` is None when nothing can be said (面议), or when the voucher cannot pay (not `eligible`: a service
    without the 创新券 mark, a related-party provider), and `message` says why."""
    region: str
    rate: Fraction
    cap_fen: int
    amount_fen: int | None
    voucher_fen: int | None
    message: str = ""
    eligible: bool = True
    year: int | None = None
    remaining_fen: int | None = None

    @property
    def rate_percent(self) -> int:
        return int(self.rate * 100)

    @property
    def has_voucher(self) -> bool:
        return self.remaining_fen is not None


@dataclass(frozen=True)
class Buyer:
    """A signed-in enterprise as its estimate sees it, from one query (buyer_of): this year's voucher (None until it
    holds one) and what it holds for the related-party check (related_parties.of_buyer)."""
    voucher: Voucher | None
    identities: related_parties.Identities

    def related_to(self, provider) -> bool:
        return bool(related_parties.shared(self.identities, related_parties.of_provider(provider)))


def buyer_of(user) -> Buyer:
    """The signed-in enterprise's voucher of this year and its latest settled application, in one query."""
    enterprise = user.enterprise
    row = db.session.execute(
        select(Enterprise.id, Voucher, VoucherApplication).select_from(Enterprise)
        .outerjoin(Voucher, (Voucher.enterprise_id == Enterprise.id) & (Voucher.year == china_today().year))
        .outerjoin(VoucherApplication, VoucherApplication.id == related_parties.latest_settled_id(enterprise.id))
        .where(Enterprise.id == enterprise.id)).one()
    return Buyer(row[1], related_parties.of_enterprise(enterprise, row[2]))


def is_enterprise(user) -> bool:
    return bool(user and user.is_authenticated and user.role == Role.ENTERPRISE and user.enterprise)


def quote_fen(price_fen: int | None, quantity: int) -> int | None:
    """Reference price × quantity; None stays None (面议)."""
    return None if price_fen is None else price_fen * quantity


def parse_quantity(raw: str | None) -> int:
    """A quantity from the URL, kept within 1..MAX_QUANTITY; anything else counts as 1."""
    number = whole_number((raw or "").strip())
    return 1 if number is None else min(max(number, 1), MAX_QUANTITY)


def refusal_of(service) -> str:
    """Why no voucher can pay for `service` whoever buys it; empty when one can."""
    return "" if service.voucher_eligible else NOT_ELIGIBLE


def estimate_for(user, amount_fen: int | None, refusal: str = "", buyer: Buyer | None = None) -> Estimate:
    """The signed-in enterprise's own estimate: its region, this year's remaining balance and the cap; with a
    `refusal` (why the voucher cannot pay) no amount. Without a voucher for this year yet, the full cap is assumed
    (and the template invites it to apply). `buyer`: the voucher already loaded (buyer_of), else one query."""
    enterprise = user.enterprise
    year = china_today().year
    voucher = buyer.voucher if buyer else db.session.scalar(
        select(Voucher).where(Voucher.enterprise_id == enterprise.id, Voucher.year == year))
    region = voucher.region if voucher else region_for(enterprise.city)
    cap = policy.annual_cap(region)
    remaining = (policy.remaining_fen(voucher.total_fen, voucher.reserved_fen, voucher.approved_fen,
                                      voucher.disbursed_fen) if voucher else None)
    used = 0 if remaining is None else max(cap - remaining, 0)
    voucher_fen, message = _amount(amount_fen, region, used, refusal, year)
    return Estimate(region=region, rate=policy.rate_of(region), cap_fen=cap, amount_fen=amount_fen,
                    voucher_fen=voucher_fen, message=message, eligible=not refusal, year=year,
                    remaining_fen=remaining)


def by_region(amount_fen: int | None, refusal: str = "") -> list[Estimate]:
    """One estimate per set of regions with the same terms (苏南、苏中 / 苏北), for visitors."""
    groups: dict[tuple[Fraction, int], list[str]] = {}
    for region in policy.REGIONS:
        groups.setdefault((policy.rate_of(region), policy.annual_cap(region)), []).append(region)
    estimates = []
    for (rate, cap), regions in groups.items():
        voucher_fen, message = _amount(amount_fen, regions[0], 0, refusal, None)
        estimates.append(Estimate(region="、".join(regions), rate=rate, cap_fen=cap, amount_fen=amount_fen,
                                  voucher_fen=voucher_fen, message=message, eligible=not refusal))
    return estimates


def _amount(amount_fen: int | None, region: str, used_fen: int, refusal: str, year: int | None):
    if refusal:
        return None, refusal
    if amount_fen is None:
        return None, NEGOTIABLE
    voucher_fen = policy.voucher_amount(amount_fen, region, used_fen)
    return voucher_fen, limit_note(amount_fen, region, used_fen, voucher_fen, year)


def limit_note(spend_fen: int, region: str, used_fen: int, voucher_fen: int, year: int | None = None) -> str:
    """Why the voucher pays less than the rate gives: the balance is spent, or the cap was reached."""
    this_year = f"{year}年度" if year else "本年度"
    if spend_fen and policy.annual_cap(region) <= used_fen:
        return f"{this_year}省创新券额度已用完，本次不能再兑付"
    if voucher_fen < policy.voucher_amount(spend_fen, region):
        return f"超出{this_year}剩余额度，按剩余额度 ¥{policy.format_yuan(voucher_fen)} 计"
    if voucher_fen == policy.annual_cap(region):
        return f"已达年度上限 ¥{policy.format_yuan(voucher_fen)}，按上限计"
    return ""
