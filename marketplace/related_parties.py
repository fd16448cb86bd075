"""关联方 (SPEC 1.5): a buying enterprise and a providing unit are related parties when they share any identity the
platform holds — the same 统一社会信用代码, 法定代表人证件号码, 银行账号 or 手机号码. This is the one place that
compares them; the cart, checkout, the service page's estimate, the claim flags and the reviewer's queues ask here.

What each side holds:
- the enterprise: its account (credit code, legal representative's ID number, the account's phone) and one voucher
  application: credit code, ID number, bank account, 单位电话, 法定代表人手机 and 联系人手机. The reviewer's side
  reads the latest application (or the one of a claim's voucher); the buyer's side only the latest one the enterprise
  can no longer edit, so that a draft cannot be used to probe what a provider holds;
- the provider: its shop application (credit code, ID number, bank account, 联系电话, 法定代表人手机) and its
  account's phone; an offline claim's unit: the credit code and phone the claim names.

Values are normalised before comparing: credit codes and ID numbers as the validators normalise them (spaces dropped),
bank accounts as digits only, phones as an 11-digit mobile number without the international prefix (00)86. Ignored,
because they identify no one: blanks, values too short, landlines and 400/800 numbers (a building's switchboard or a
call centre serves many units), and placeholders (one repeated character or a run such as 12345678).

The buyer is told only that the provider is a related party (REFUSAL), never which identity matched; the reviewer's
flags and queues name it.

The reviewer's reverse lookups (which enterprises share an identity with a shop application, which providers with an
account) first find candidates in SQL by the values as the forms store them (phones and bank accounts without spaces
and hyphens), then compare the candidates here; a value stored in another spelling can escape the lookup, never the
comparison.
"""
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from .extensions import db
from .models import Enterprise, Provider, User, VoucherApplication
from .validators import mobile_problem, normalize_credit_code, normalize_id_number
from .vouchers.lifecycle import EDITABLE

CREDIT_CODE, ID_NUMBER, BANK_ACCOUNT, PHONE = "统一社会信用代码", "法定代表人证件号码", "银行账号", "手机号码"
KINDS = (CREDIT_CODE, ID_NUMBER, BANK_ACCOUNT, PHONE)  # the order a match names them in
REFUSAL = "关联方：贵企业与该服务单位存在相同的登记信息，不能使用创新券，可按非创新券订单下单"

Identity = tuple[str, str]  # (kind, normalised value)
Identities = frozenset[Identity]


def _no_spaces(value: str) -> str:
    return "".join(value.split())


def _digits(value: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKC", value) if char.isascii() and char.isdigit())


def _mobile(value: str) -> str:
    """A mobile number's 11 digits, without the international prefix (+86 139…, 0086 139… and 139… are one number);
    "" for anything else, landlines and 400/800 numbers included."""
    digits = _digits(value).removeprefix("00")
    digits = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return "" if mobile_problem(digits) else digits


# kind → (normaliser, the fewest characters that still identify someone)
_NORMAL = {
    CREDIT_CODE: (lambda value: _no_spaces(normalize_credit_code(value)), 15),
    ID_NUMBER: (lambda value: _no_spaces(normalize_id_number(value)), 8),  # passports and permits have 8–9
    BANK_ACCOUNT: (_digits, 8),
    PHONE: (_mobile, 11),
}
_PLACEHOLDER_MOBILES = frozenset({"13800138000"})  # China Mobile's service number, the usual sample in forms


def _placeholder(kind: str, value: str) -> bool:
    """One character repeated or a run up or down (00000000, 12345678, 98765432, 0 following 9): what people type
    when a form insists. For a mobile number, its eight digits after the network prefix (13800000000)."""
    if value in _PLACEHOLDER_MOBILES:
        return True
    body = value[3:] if kind == PHONE else value
    steps = {(ord(after) - ord(before)) % 10 for before, after in zip(body, body[1:], strict=False)}
    return len(steps) == 1 and steps <= {0, 1, 9}


def _held(pairs: Iterable[tuple[str, str | None]]) -> Identities:
    held = set()
    for kind, raw in pairs:
        normalise, shortest = _NORMAL[kind]
        value = normalise(raw or "")
        if len(value) >= shortest and not _placeholder(kind, value):
            held.add((kind, value))
    return frozenset(held)


# ---------------------------------------------------------------- what each side holds

def of_enterprise(enterprise: Enterprise, application: VoucherApplication | None) -> Identities:
    """The enterprise's identities: its account and (when it has one) the voucher application given."""
    pairs = [(CREDIT_CODE, enterprise.credit_code), (ID_NUMBER, enterprise.legal_rep_id_number),
             (PHONE, enterprise.user.phone)]
    if application is not None:
        pairs += [(CREDIT_CODE, application.credit_code), (ID_NUMBER, application.legal_rep_id_number),
                  (BANK_ACCOUNT, application.bank_account_number), (PHONE, application.phone),
                  (PHONE, application.legal_rep_mobile), (PHONE, application.contact_phone)]
    return _held(pairs)


def of_buyer(enterprise: Enterprise) -> Identities:
    """The enterprise's identities with its latest voucher application it can no longer edit (one query)."""
    return of_enterprise(enterprise, latest_applications([enterprise.id], settled=True).get(enterprise.id))


def of_provider(provider: Provider) -> Identities:
    """The provider's identities; load `provider.user` with it when asking about many providers."""
    return _held([(CREDIT_CODE, provider.credit_code), (ID_NUMBER, provider.legal_rep_id_number),
                  (BANK_ACCOUNT, provider.bank_account_number), (PHONE, provider.contact_phone),
                  (PHONE, provider.legal_rep_phone), (PHONE, provider.user.phone if provider.user else None)])


def of_unit(credit_code: str | None, phone: str | None) -> Identities:
    """A unit known only by a credit code and a phone (an offline claim's provider)."""
    return _held([(CREDIT_CODE, credit_code), (PHONE, phone)])


def latest_applications(enterprise_ids: Iterable[int], settled: bool = False) -> dict[int, VoucherApplication]:
    """Each enterprise's latest voucher application (by year), in one query; `settled`: the latest it can no longer
    edit (submitted, approved or rejected)."""
    ids = set(enterprise_ids)
    if not ids:
        return {}
    stmt = select(VoucherApplication).where(VoucherApplication.enterprise_id.in_(ids))
    if settled:
        stmt = stmt.where(VoucherApplication.status.not_in(EDITABLE))
    found = db.session.scalars(stmt.order_by(VoucherApplication.year, VoucherApplication.id))
    return {application.enterprise_id: application for application in found}


def latest_settled_id(enterprise_id: int):
    """of_buyer's application as a scalar subquery of its id: the enterprise's latest it can no longer edit (for a
    query that loads it beside other rows)."""
    return (select(VoucherApplication.id)
            .where(VoucherApplication.enterprise_id == enterprise_id, VoucherApplication.status.not_in(EDITABLE))
            .order_by(VoucherApplication.year.desc(), VoucherApplication.id.desc()).limit(1).scalar_subquery())


# ---------------------------------------------------------------- comparing

def shared(first: Identities, second: Identities) -> tuple[str, ...]:
    """The kinds of identity both sides hold, in KINDS order; empty when they are not related."""
    common = {kind for kind, _ in first & second}
    return tuple(kind for kind in KINDS if kind in common)


def buyer_related(enterprise: Enterprise, provider: Provider) -> bool:
    """Whether a buying enterprise may not pay this provider with its voucher (see of_buyer)."""
    return bool(shared(of_buyer(enterprise), of_provider(provider)))


def refusal(related: bool) -> str:
    """What the buyer is told where a voucher estimate would be: empty when the two are not related."""
    return REFUSAL if related else ""


# ---------------------------------------------------------------- the reviewer's lookups

@dataclass(frozen=True)
class Relation:
    """Another party on the platform sharing `kinds` of identity with the one asked about."""
    party: Enterprise | Provider
    kinds: tuple[str, ...]

    @property
    def described(self) -> str:
        """For the reviewer: 关联方：与企业「…」（login）的统一社会信用代码相同."""
        kind = "企业" if isinstance(self.party, Enterprise) else "服务单位"
        login = f"（{self.party.user.email}）" if self.party.user else ""
        return f"关联方：与{kind}「{self.party.name}」{login}的{'、'.join(self.kinds)}相同"


def enterprises_related_to(providers: Iterable[Provider]) -> dict[int, list[Relation]]:
    """For each provider (by id), the enterprises sharing an identity with it: two queries for any number."""
    held = {provider.id: of_provider(provider) for provider in providers}
    found = _enterprise_candidates(frozenset().union(*held.values()))
    applications = latest_applications(enterprise.id for enterprise in found)
    candidates = [(enterprise, of_enterprise(enterprise, applications.get(enterprise.id))) for enterprise in found]
    return {provider_id: _relations(identities, candidates) for provider_id, identities in held.items()}


def providers_related_to(enterprises: Iterable[Enterprise]) -> dict[int, list[Relation]]:
    """For each enterprise (by id), the providers sharing an identity with it: two queries for any number."""
    enterprises = list(enterprises)
    applications = latest_applications(enterprise.id for enterprise in enterprises)
    held = {enterprise.id: of_enterprise(enterprise, applications.get(enterprise.id)) for enterprise in enterprises}
    found = _provider_candidates(frozenset().union(*held.values()))
    candidates = [(provider, of_provider(provider)) for provider in found]
    return {enterprise_id: _relations(identities, candidates) for enterprise_id, identities in held.items()}


def of_accounts(users) -> dict[int, list[Relation]]:
    """By user id: the providers each enterprise account shares an identity with, and the enterprises each provider
    account does; at most four queries for a page of accounts (load them with their enterprise and provider)."""
    enterprises = [user.enterprise for user in users if user.enterprise is not None]
    providers = [user.provider for user in users if user.provider is not None]
    by_enterprise = providers_related_to(enterprises)
    by_provider = enterprises_related_to(providers)
    return {**{enterprise.user_id: by_enterprise[enterprise.id] for enterprise in enterprises},
            **{provider.user_id: by_provider[provider.id] for provider in providers}}


def _relations(identities: Identities, candidates) -> list[Relation]:
    relations = [Relation(party, shared(identities, theirs)) for party, theirs in candidates]
    return [relation for relation in relations if relation.kinds]


def _enterprise_candidates(identities: Identities) -> list[Enterprise]:
    if not identities:
        return []
    accounts = select(User.id).where(_stored(PHONE, User.phone, identities))
    phones = (VoucherApplication.phone, VoucherApplication.legal_rep_mobile, VoucherApplication.contact_phone)
    applications = select(VoucherApplication.enterprise_id).where(or_(
        _stored(CREDIT_CODE, VoucherApplication.credit_code, identities),
        _stored(ID_NUMBER, VoucherApplication.legal_rep_id_number, identities),
        _stored(BANK_ACCOUNT, VoucherApplication.bank_account_number, identities),
        *(_stored(PHONE, column, identities) for column in phones)))
    return list(db.session.scalars(
        select(Enterprise).where(or_(_stored(CREDIT_CODE, Enterprise.credit_code, identities),
                                     _stored(ID_NUMBER, Enterprise.legal_rep_id_number, identities),
                                     Enterprise.user_id.in_(accounts), Enterprise.id.in_(applications)))
        .options(joinedload(Enterprise.user)).order_by(Enterprise.id)))


def _provider_candidates(identities: Identities) -> list[Provider]:
    if not identities:
        return []
    accounts = select(User.id).where(_stored(PHONE, User.phone, identities))
    return list(db.session.scalars(
        select(Provider).where(or_(_stored(CREDIT_CODE, Provider.credit_code, identities),
                                   _stored(ID_NUMBER, Provider.legal_rep_id_number, identities),
                                   _stored(BANK_ACCOUNT, Provider.bank_account_number, identities),
                                   _stored(PHONE, Provider.contact_phone, identities),
                                   _stored(PHONE, Provider.legal_rep_phone, identities),
                                   Provider.user_id.in_(accounts)))
        .options(joinedload(Provider.user)).order_by(Provider.id)))


_PHONE_PREFIXES = ("", "86", "+86", "0086")


def _stored(kind: str, column, identities: Identities):
    """`column` holds one of these identities of `kind`, as the forms store it (a candidate, compared afterwards)."""
    values = {value for held_kind, value in identities if held_kind == kind}
    if kind == CREDIT_CODE:
        return column.in_(values)  # every form stores it normalised; its unique index answers
    if kind == ID_NUMBER:
        return column.in_(values)  # the forms store it upper-cased; its index answers
    if kind == PHONE:
        values = {prefix + value for value in values for prefix in _PHONE_PREFIXES}
    return func.replace(func.replace(column, " ", ""), "-", "").in_(values)

