"""关联方 (SPEC 1.5, issue 14): an enterprise and a provider sharing any identity the platform holds — 统一社会信用代码,
法定代表人证件号码, 银行账号 or 手机号码 — are related parties. The cart, checkout and the service page tell the buyer
that the provider is related, never which identity matched, and keep the voucher off those services; the reviewer
sees the match, named, on online and offline claims, on shop applications and in the account queue. Landlines and
placeholder values identify no one."""
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace import related_parties
from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    BankReceipt,
    Enterprise,
    Invoice,
    Material,
    Order,
    Provider,
    Redemption,
    RedemptionServiceLine,
    RedemptionStatus,
    ServiceStatus,
    ShopStatus,
    User,
    VoucherApplication,
    china_today,
)
from marketplace.redemption import claims, readiness
from marketplace.redemption.flags import EAGER, flags_for
from marketplace.related_parties import BANK_ACCOUNT, CREDIT_CODE, ID_NUMBER, PHONE, REFUSAL
from marketplace.validators import make_credit_code
from marketplace.vouchers import lifecycle as voucher_lifecycle

from .conftest import queries_sent
from .test_cart import add, fresh
from .test_catalog_pages import section
from .test_checkout import DECLARATIONS, filled
from .test_shop_application import application, send

KINDS = [CREDIT_CODE, ID_NUMBER, BANK_ACCOUNT, PHONE]
# The enterprise's voucher application: phones and a bank account no other fixture uses.
APPLICATION = {"phone": "025-66668888", "legal_rep_mobile": "13700001111", "contact_phone": "13700002222",
               "bank_account_number": "6222020200112233445"}


def told_only_that_it_is_related(page: str, kind: str) -> bool:
    """The buyer reads that the provider is a related party, and nothing of which identity matched."""
    return REFUSAL in page and f"{kind}相同" not in page


def give_voucher(make, user: User) -> None:
    """This year's voucher, issued on an application holding APPLICATION's phones and bank account."""
    submitted = make.voucher_application(user, status=ApplicationStatus.SUBMITTED, **APPLICATION)
    voucher_lifecycle.approve(submitted, make.reviewer().id)
    db.session.commit()


def relate(kind: str, enterprise_user: User, provider: Provider) -> None:
    """Give `provider` one identity of the enterprise, spelled the way someone else would type it."""
    enterprise = enterprise_user.enterprise
    if kind == CREDIT_CODE:
        provider.credit_code = enterprise.credit_code
    elif kind == ID_NUMBER:
        provider.legal_rep_id_number = enterprise.legal_rep_id_number.lower()
    elif kind == BANK_ACCOUNT:
        number = APPLICATION["bank_account_number"]
        provider.bank_account_number = " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    else:
        provider.legal_rep_phone = "+86 " + enterprise_user.phone
    db.session.commit()


def orders() -> list[Order]:
    fresh()
    return db.session.scalars(select(Order).order_by(Order.id)).all()


@pytest.fixture
def buyer(auth, make, enterprise) -> User:
    """A signed-in enterprise with this year's voucher."""
    give_voucher(make, enterprise)
    auth.login(enterprise)
    return enterprise


# ---------------------------------------------------------------- comparing identities

def enterprise_holding(phone="", credit_code="", id_number="", **application) -> tuple[Enterprise, VoucherApplication]:
    return (Enterprise(credit_code=credit_code, legal_rep_id_number=id_number, user=User(phone=phone)),
            VoucherApplication(**application))


@pytest.mark.parametrize("theirs, ours, kind", [
    ({"legal_rep_phone": "+86 139-0000-1111"}, {"phone": "13900001111"}, PHONE),
    ({"contact_phone": "0086 13900001111"}, {"contact_phone": "13900001111"}, PHONE),
    ({"contact_phone": "139 0000 1111"}, {"legal_rep_mobile": "8613900001111"}, PHONE),
    ({"bank_account_number": "6222 0202 0011 2233 445"}, {"bank_account_number": "6222020200112233445"}, BANK_ACCOUNT),
    ({"legal_rep_id_number": "32010219800101001x"}, {"id_number": "32010219800101001X"}, ID_NUMBER),
    ({"credit_code": "91320100ma1xxxxxx0"}, {"credit_code": "91320100MA1XXXXXX0"}, CREDIT_CODE),
])
def test_identities_match_however_they_were_typed(theirs, ours, kind):
    provider = Provider(**theirs)
    assert related_parties.shared(related_parties.of_enterprise(*enterprise_holding(**ours)),
                                  related_parties.of_provider(provider)) == (kind,)


@pytest.mark.parametrize("value", ["", "  ", "0", "110", "1234567", "-"])
def test_blanks_and_fragments_never_make_two_parties_related(value):
    provider = Provider(credit_code=value, legal_rep_id_number=value, bank_account_number=value, contact_phone=value,
                        legal_rep_phone=value)
    ours = enterprise_holding(phone=value, credit_code=value, id_number=value, bank_account_number=value,
                              legal_rep_mobile=value)
    assert related_parties.shared(related_parties.of_enterprise(*ours), related_parties.of_provider(provider)) == ()


def test_every_identity_in_common_is_named_in_order():
    provider = Provider(credit_code="91320100MA1XXXXXX0", contact_phone="13900001111")
    ours = enterprise_holding(phone="13900001111", credit_code="91320100MA1XXXXXX0")
    kinds = related_parties.shared(related_parties.of_enterprise(*ours), related_parties.of_provider(provider))
    assert kinds == (CREDIT_CODE, PHONE)


@pytest.mark.parametrize("landline", ["025-66668888", "02566668888", "0512-6288 1234-801", "400-820-8820",
                                      "8008208820", "+86 25 6666 8888"])
def test_a_shared_landline_does_not_make_two_parties_related(landline):
    """Two tenants of one incubator share its switchboard; a 400/800 number serves a call centre's customers."""
    provider = Provider(contact_phone=landline, legal_rep_phone=landline)
    ours = enterprise_holding(phone=landline, contact_phone=landline)
    assert related_parties.shared(related_parties.of_enterprise(*ours), related_parties.of_provider(provider)) == ()


@pytest.mark.parametrize("field, ours, value", [
    ("bank_account_number", "bank_account_number", "00000000"),
    ("bank_account_number", "bank_account_number", "12345678"),
    ("bank_account_number", "bank_account_number", "9876543210"),
    ("bank_account_number", "bank_account_number", "6666 6666 6666 6666"),
    ("legal_rep_phone", "phone", "13800000000"),
    ("legal_rep_phone", "phone", "13800138000"),
    ("contact_phone", "contact_phone", "139 1234 5678"),
    ("contact_phone", "legal_rep_mobile", "+86 15999999999"),
    ("legal_rep_id_number", "id_number", "11111111"),
    ("legal_rep_id_number", "id_number", "111111111111111111"),
    ("credit_code", "credit_code", "000000000000000000"),
])
def test_a_placeholder_value_does_not_make_two_parties_related(field, ours, value):
    provider = Provider(**{field: value})
    assert related_parties.shared(related_parties.of_enterprise(*enterprise_holding(**{ours: value})),
                                  related_parties.of_provider(provider)) == ()


def test_a_shared_mobile_still_makes_two_parties_related():
    provider = Provider(contact_phone="025-66668888", legal_rep_phone="13951801234")
    ours = enterprise_holding(phone="025-66668888", legal_rep_mobile="+86 139 5180 1234")
    kinds = related_parties.shared(related_parties.of_enterprise(*ours), related_parties.of_provider(provider))
    assert kinds == (PHONE,)


# ---------------------------------------------------------------- cart and checkout

@pytest.mark.parametrize("kind", KINDS)
def test_the_cart_says_the_provider_is_related_without_naming_the_identity_and_estimates_no_voucher(
        client, buyer, provider, listed_service, kind):
    relate(kind, buyer, provider.provider)
    add(client, listed_service, "1")
    group = section(client.get("/cart").get_data(as_text=True), f"cart-provider-{provider.provider.id}")
    assert told_only_that_it_is_related(group, kind)
    assert "本组服务不能兑付创新券" in group and "拟兑创新券" not in group


def test_the_cart_estimates_a_voucher_from_an_unrelated_provider(client, buyer, provider, listed_service):
    add(client, listed_service, "1")
    group = section(client.get("/cart").get_data(as_text=True), f"cart-provider-{provider.provider.id}")
    assert "关联方" not in group and "拟兑创新券" in group


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", ["/checkout", "/checkout?service_id={id}&quantity=1"])
def test_checkout_places_a_related_providers_services_in_a_non_voucher_order_without_naming_the_identity(
        client, buyer, provider, listed_service, kind, path):
    relate(kind, buyer, provider.provider)
    add(client, listed_service, "1")
    path = path.format(id=listed_service.id)
    page = client.get(path).get_data(as_text=True)
    assert told_only_that_it_is_related(page, kind)
    assert 'class="mark voucher">创新券订单' not in page and "declares_" not in page
    assert client.post(path, data=filled(page)).status_code == 303
    [order] = orders()
    assert order.order_no.startswith("ORD") and not order.is_voucher and order.estimated_voucher_fen == 0


def test_a_voucher_order_posted_for_a_related_provider_is_never_created(client, buyer, provider, listed_service):
    relate(CREDIT_CODE, buyer, provider.provider)
    add(client, listed_service, "1")
    page = client.get("/checkout").get_data(as_text=True)
    forged = f"p{provider.provider.id}v"
    data = filled(page, **{f"{forged}-contact_name": "李四", f"{forged}-contact_phone": "13812345678",
                           f"{forged}-amount": "400", f"{forged}-note": "",
                           **{f"{forged}-{name}": "y" for name in DECLARATIONS}})
    client.post("/checkout", data=data)
    assert [order.is_voucher for order in orders()] == [False]


def test_only_the_related_providers_lines_leave_the_voucher_order(client, make, buyer, provider, listed_service):
    other = make.service(make.provider().provider, name="X射线光电子能谱分析")
    relate(CREDIT_CODE, buyer, provider.provider)
    add(client, listed_service, "1")
    add(client, other, "1")
    page = client.get("/checkout").get_data(as_text=True)
    assert client.post("/checkout", data=filled(page)).status_code == 303
    by_provider = {order.provider_id: order for order in orders()}
    assert by_provider[provider.provider.id].order_no.startswith("ORD")
    assert by_provider[other.provider_id].order_no.startswith("CXQ") and by_provider[other.provider_id].is_voucher


# ---------------------------------------------------------------- the service page

@pytest.mark.parametrize("kind", KINDS)
def test_the_service_page_shows_no_voucher_estimate_for_a_related_provider_and_says_why(client, buyer, provider,
                                                                                        listed_service, kind):
    relate(kind, buyer, provider.provider)
    estimate = section(client.get(f"/services/{listed_service.id}").get_data(as_text=True), "voucher-estimate")
    assert told_only_that_it_is_related(estimate, kind) and "预计可兑创新券" not in estimate
    live = client.get(f"/services/{listed_service.id}/estimate?quantity=3", headers={"HX-Request": "true"})
    assert told_only_that_it_is_related(live.text, kind) and "预计可兑创新券" not in live.text


def test_the_refusal_is_for_the_related_enterprise_alone(client, auth, make, buyer, provider, listed_service):
    relate(CREDIT_CODE, buyer, provider.provider)
    assert REFUSAL in client.get(f"/services/{listed_service.id}").get_data(as_text=True)
    auth.logout()
    anonymous = section(client.get(f"/services/{listed_service.id}").get_data(as_text=True), "voucher-estimate")
    assert "关联方" not in anonymous and "苏北" in anonymous
    stranger = make.enterprise()
    auth.login(stranger)
    estimate = section(client.get(f"/services/{listed_service.id}").get_data(as_text=True), "voucher-estimate")
    assert "关联方" not in estimate and "预计可兑创新券" in estimate


@pytest.mark.parametrize("status, refused", [(ApplicationStatus.DRAFT, False), (ApplicationStatus.RETURNED, False),
                                             (ApplicationStatus.SUBMITTED, True), (ApplicationStatus.REJECTED, True)])
def test_only_an_application_the_enterprise_can_no_longer_edit_counts_against_a_provider(
        client, make, buyer, provider, listed_service, status, refused):
    """A draft (or an application returned for correction) is the enterprise's to change at will: typing a provider's
    bank account into next year's draft must not tell it whether the provider holds that account."""
    provider.provider.bank_account_number = "6228480402564890018"
    make.voucher_application(buyer, status=status, year=china_today().year + 1,
                             bank_account_number=provider.provider.bank_account_number)
    estimate = section(client.get(f"/services/{listed_service.id}").text, "voucher-estimate")
    assert (REFUSAL in estimate) is refused
    add(client, listed_service, "1")
    assert (REFUSAL in client.get("/cart").text) is refused


def test_the_service_page_checks_related_parties_without_loading_the_providers_account_again(
        client, buyer, provider, listed_service):
    with queries_sent() as seen:
        client.get(f"/services/{listed_service.id}")
    account_loads = [values for statement, values in seen
                     if re.search(r"FROM users\s+WHERE users\.id = ", statement) and provider.id in values]
    assert account_loads == []


# ---------------------------------------------------------------- the reviewer: claims

@pytest.fixture
def claimant(make, enterprise) -> User:
    give_voucher(make, enterprise)
    return enterprise


def related_flag(client, claim_id: int) -> str:
    page = client.get(f"/admin/redemptions/{claim_id}").get_data(as_text=True)
    found = re.search(r'data-flag="related_party">([^<]*)<', page)
    return found.group(1) if found else ""


@pytest.mark.parametrize("kind", KINDS)
def test_a_claim_on_a_provider_that_became_related_after_the_order_is_flagged_naming_the_identity(
        client, auth, make, claimant, reviewer, kind):
    claim = make.claim(claimant)
    relate(kind, claimant, claim.order.provider)
    auth.login(reviewer)
    flag = related_flag(client, claim.id)
    assert f"{kind}相同" in flag and claim.order.provider.name in flag


def test_a_claim_on_an_unrelated_providers_order_has_no_related_party_flag(client, auth, make, claimant, reviewer):
    claim = make.claim(claimant)
    auth.login(reviewer)
    assert related_flag(client, claim.id) == ""


OUTSIDE_CODE = make_credit_code("12320000466000000")  # a unit with no row on the platform


def offline_claim(make, user: User, credit_code: str = OUTSIDE_CODE, phone: str = "025-83235635",
                  submit: bool = True) -> Redemption:
    """An offline claim of `user` on 南京某某大学, named by `credit_code` and `phone`; complete and submitted."""
    claim = claims.start_offline(user, credit_code)
    claim.provider_name, claim.provider_contact = "南京某某大学", "王林"
    claim.provider_phone, claim.provider_unit_type = phone, "university"
    claim.service_lines.append(RedemptionServiceLine(position=0, service_name="材料磨损试验"))
    claim.contract_amount_fen = 1_000_000
    if submit:
        for kind in ("contract", "report", "rnd_proof"):
            claim.materials.append(Material(kind=kind, file_id=make.stored_pdf(user, f"{kind}.pdf").id))
        claim.invoices.append(Invoice(number=f"2632{claim.id:016d}", amount_fen=1_000_000,
                                      file_id=make.stored_png(user, "发票.png").id))
        claim.receipts.append(BankReceipt(amount_fen=1_000_000, file_id=make.stored_png(user).id))
        readiness.refresh_amounts(claim)
    db.session.commit()
    if submit:
        make.advance(claim, RedemptionStatus.SUBMITTED, user)
    return claim


def test_an_offline_claim_naming_the_enterprises_own_mobile_is_flagged_naming_the_identity(client, auth, make,
                                                                                           claimant, reviewer):
    claim = offline_claim(make, claimant, phone=APPLICATION["legal_rep_mobile"])
    auth.login(reviewer)
    flag = related_flag(client, claim.id)
    assert f"{PHONE}相同" in flag and "南京某某大学" in flag


@pytest.mark.parametrize("shop_status", [ShopStatus.REMOVED, ShopStatus.DRAFT, ShopStatus.REJECTED])
@pytest.mark.parametrize("kind", [ID_NUMBER, BANK_ACCOUNT, PHONE])
def test_an_offline_claim_on_a_provider_without_an_open_shop_is_flagged_for_what_that_provider_shares(
        client, auth, make, claimant, reviewer, shop_status, kind):
    """The wizard refuses only a provider with an open shop; one that left, never opened or was refused still holds
    its identities on the platform."""
    unit = make.provider(shop_status=shop_status).provider
    relate(kind, claimant, unit)
    claim = offline_claim(make, claimant, credit_code=unit.credit_code)
    auth.login(reviewer)
    flag = related_flag(client, claim.id)
    assert f"{kind}相同" in flag and "南京某某大学" in flag


def test_an_offline_claim_on_an_unrelated_unit_has_no_related_party_flag(client, auth, make, claimant, reviewer):
    unit = make.provider(shop_status=ShopStatus.REMOVED).provider
    claim = offline_claim(make, claimant, credit_code=unit.credit_code, phone="13600001234")
    auth.login(reviewer)
    assert related_flag(client, claim.id) == ""


def test_flagging_offline_claims_costs_one_query_for_the_providers_they_name_however_many(make, claimant):
    for _ in range(6):
        unit = make.provider(shop_status=ShopStatus.REMOVED).provider
        relate(BANK_ACCOUNT, claimant, unit)
        offline_claim(make, claimant, credit_code=unit.credit_code, submit=False)

    def flag_page(size):
        db.session.expire_all()
        page = db.session.scalars(select(Redemption).options(*EAGER).order_by(Redemption.id).limit(size)).all()
        found = {}
        with queries_sent() as sent:
            found.update(flags_for(page))
        assert all("related_party" in [flag.code for flag in found[claim.id]] for claim in page)
        return len(sent)

    assert flag_page(2) == flag_page(6)


def test_the_offline_wizard_refuses_the_enterprises_own_credit_code_next_to_the_field(client, auth, claimant):
    auth.login(claimant)
    first_step = client.post("/me/offline-redemptions/new")
    assert first_step.status_code == 303
    response = client.post(first_step.location, data={
        "provider_name": "本企业", "provider_credit_code": claimant.enterprise.credit_code.lower(),
        "provider_contact": "王林", "provider_phone": "025-83235635"})
    assert response.status_code == 422
    assert '<p class="error" id="provider_credit_code-error">服务单位不能是本企业自身' in response.text
    assert 'value="王林"' in response.text
    db.session.expire_all()
    assert db.session.scalar(select(Redemption.id).where(Redemption.kind == "offline")) is None


# ---------------------------------------------------------------- the reviewer: shop applications and accounts

@pytest.fixture
def applicant(make) -> User:
    user = make.provider(shop_status=ShopStatus.DRAFT)
    make.service(user.provider, status=ServiceStatus.DRAFT)
    return user


def shop_review(client, auth, applicant: User, reviewer: User, **fields) -> str:
    """The reviewer's page of `applicant`'s shop application, submitted with `fields`."""
    auth.login(applicant)
    assert send(client, application(applicant.provider, **fields)).status_code == 303
    auth.logout()
    auth.login(reviewer)
    return client.get(f"/admin/shops/{applicant.provider.id}").get_data(as_text=True)


@pytest.mark.parametrize("field, value, kind", [
    ("credit_code", lambda user: user.enterprise.credit_code, CREDIT_CODE),
    ("legal_rep_id_number", lambda user: user.enterprise.legal_rep_id_number, ID_NUMBER),
    ("bank_account_number", lambda user: APPLICATION["bank_account_number"], BANK_ACCOUNT),
    ("contact_phone", lambda user: APPLICATION["legal_rep_mobile"], PHONE),
])
def test_a_shop_application_with_an_enterprises_identity_is_flagged_to_the_reviewer(
        client, auth, make, applicant, reviewer, claimant, field, value, kind):
    page = shop_review(client, auth, applicant, reviewer, **{field: value(claimant)})
    flag = re.search(r'data-flag="related_party">([^<]*)<', page)
    assert flag and f"与企业「{claimant.enterprise.name}」（{claimant.email}）的{kind}相同" in flag.group(1)


def test_a_shop_application_sharing_nothing_with_an_enterprise_is_not_flagged(client, auth, applicant, reviewer,
                                                                              claimant):
    assert 'data-flag="related_party"' not in shop_review(client, auth, applicant, reviewer)


NEW_CREDIT_CODE = make_credit_code("91320100MA7654321")


def register(client, account_type: str, credit_code: str, phone: str = "13600009999", **fields):
    data = {"account_type": account_type, "email": "new@corp.cn", "phone": phone, "name": "王林",
            "password": "s3cret-pass", "confirm": "s3cret-pass", "org_name": "南京新材料科技有限公司",
            "credit_code": credit_code, "city": "南京", "unit_type": "", **fields}
    assert client.post("/auth/register", data=data).status_code == 303
    client.post("/auth/logout")
    fresh()
    return db.session.scalar(select(User).where(User.email == "new@corp.cn"))


def account_row(client, user: User) -> str:
    return section(client.get("/admin/accounts").get_data(as_text=True), f"account-{user.id}")


@pytest.mark.parametrize("shared", ["credit_code", "phone"])
def test_an_enterprise_account_with_a_providers_identity_is_flagged_in_the_account_queue(
        client, auth, make, provider, reviewer, shared):
    theirs = provider.provider
    new = register(client, "enterprise", theirs.credit_code if shared == "credit_code" else NEW_CREDIT_CODE,
                   phone=provider.phone if shared == "phone" else "13600009999")
    other = make.enterprise(status=AccountStatus.PENDING)
    auth.login(reviewer)
    kind = CREDIT_CODE if shared == "credit_code" else PHONE
    assert f"关联方：与服务单位「{theirs.name}」（{provider.email}）的{kind}相同" in account_row(client, new)
    assert "关联方" not in account_row(client, other)


def test_a_provider_account_with_an_enterprises_credit_code_is_flagged_in_the_account_queue(
        client, auth, make, enterprise, reviewer):
    new = register(client, "provider", enterprise.enterprise.credit_code, unit_type="university")
    auth.login(reviewer)
    assert f"关联方：与企业「{enterprise.enterprise.name}」" in account_row(client, new)


def test_checking_a_page_of_accounts_costs_the_same_queries_for_two_or_six(make):
    users = []
    for _ in range(3):
        enterprise, provider = make.enterprise(status=AccountStatus.PENDING), make.provider()
        provider.provider.credit_code = enterprise.enterprise.credit_code
        users += [enterprise, provider]
    db.session.commit()

    def check(size):
        db.session.expire_all()
        page = db.session.scalars(select(User).where(User.id.in_([u.id for u in users[:size]])).order_by(User.id)
                                  .options(joinedload(User.enterprise), joinedload(User.provider))).all()
        relations = {}
        with queries_sent() as sent:
            relations.update(related_parties.of_accounts(page))
        assert all(relations[user.id] for user in page)
        return len(sent)

    assert check(2) == check(6) <= 4
