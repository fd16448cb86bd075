"""Hostile input for property-based tests: what attackers and careless users type, and every form of the app
with how to reach it (who signs in, which objects must exist, which fields take typed text).

FORMS and QUERIES are the one table of the app's forms; tests/test_hostile_forms.py runs each through
hypothesis. The objects are built with the conftest Factory inside every example, because conftest empties
the tables after each test function, not between hypothesis examples: every example gets new rows (the
Factory's serial keeps names, e-mails and credit codes unique)."""
import io
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from marketplace.extensions import db
from marketplace.models import (
    AccountStatus,
    ApplicationStatus,
    Cart,
    CartLine,
    Category,
    Complaint,
    Field,
    Instrument,
    NonEligibleKind,
    Objection,
    RedemptionStatus,
    Role,
    ServiceStatus,
    ShopStatus,
    china_today,
)
from marketplace.orders import lifecycle as order_lifecycle
from marketplace.redemption import claims, readiness, settlement
from marketplace.validators import make_credit_code
from marketplace.vouchers.lifecycle import current_year

from .conftest import PASSWORD
from .samples import pdf_upload, png_upload

# The markers the escaping property looks for: none may reach an HTML page unescaped.
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE_BREAKER = '"><img src=x onerror=alert(1)>'
RAW_MARKERS = ("<script>alert(1)", "<img src=x onerror")

NASTY_TEXT = [
    SCRIPT, ATTRIBUTE_BREAKER, "'><svg/onload=alert(1)>", "javascript:alert(1)", "{{7*7}}{% raw %}",
    "' OR 1=1 --", "'; DROP TABLE users; --", "Robert'); DELETE FROM orders;--", "%s%s%n", "\\x00\\'",
    "\u202eevil\u202c", "\u200b\u200d\ufeff", "😀🚀👩‍👩‍👧", "Z\u0351\u0352\u0353a\u0300\u0301lgo",
    "　全角　空格　", "\r\n\r\n", "\t", "𠜎𠜱𠝹", "١٢٣", "٣", "&amp;&lt;&#39;", "</textarea><script>alert(1)</script>",
]
NASTY_AMOUNTS = ["-1", "-0.01", "0", "1e309", "1e5", "NaN", "nan", "Infinity", "-inf", "１２３", "1,000.005",
                 "0.001", "99999999999999999999999", "1_000", "0x10", "١٢٣", "12元", "¥", "", " ", "1.2.3",
                 "--1", "+5", "1e-7", "9" * 400]
NASTY_DATES = ["2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "0001-01-01", "2026/01/01", "昨天",
               "-2026-01-01", "2026-01-01T00:00", "", "20260101", "2026-1-1", "1e309", "99999-01-01"]


def hostile_text() -> st.SearchStrategy[str]:
    """Known-bad strings, random Unicode (control characters, RTL marks, emoji, combining marks: any code point
    but surrogates and NUL) and 10,000-character runs. NUL is left to one deterministic test per form
    (test_hostile_forms.py): PostgreSQL refuses it where SQLite stores it, and random draws must not decide
    which forms meet it on which database."""
    def any_text(size):
        return st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=size)

    return st.one_of(
        st.sampled_from(NASTY_TEXT),
        any_text(60),
        st.builds(lambda piece, n: (piece * n)[:10_000], st.sampled_from(["长", "a", SCRIPT, "😀"]),
                  st.integers(9_000, 10_000)),
        st.builds(lambda a, b: a + SCRIPT + b, any_text(8), any_text(8)),
    )


def hostile_amount() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_AMOUNTS), st.decimals(allow_nan=True).map(str),
                     st.floats().map(repr), st.integers().map(str), hostile_text())


def hostile_date() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NASTY_DATES), st.dates().map(str), hostile_text())


STRATEGIES = {"text": hostile_text, "amount": hostile_amount, "date": hostile_date}


@dataclass
class Setup:
    """What one example of a form needs: who signs in (None: anonymous), where to post, a valid form."""
    user: object
    url: str
    data: dict
    views: list = field(default_factory=list)  # more pages that show what the form stored
    before: list = field(default_factory=list)  # (url, data) posts the signed-in user makes first
    headers: dict = field(default_factory=dict)  # e.g. HX-Request, for a route whose page answer is a redirect
    # Turns the form (typed values in place) into what is posted, e.g. cells into a workbook; None: as it is.
    prepare: Callable[[dict], dict] | None = None


@dataclass
class FormCase:
    """A form of the app: `setup(make)` builds its objects; `fields` maps each typed field to its kind
    (text, amount, date) and `kept` names the text fields the page shows back when it refuses the input."""
    name: str
    setup: Callable
    fields: dict
    kept: tuple = ()
    allowed: tuple = (200, 303, 422)
    multipart: bool = False

    def __str__(self) -> str:
        return self.name


_serial = itertools.count(1)


def unique() -> int:
    """A number no other example used, for values the Factory does not make (e-mails, codes)."""
    return next(_serial)


def texts(*names) -> dict:
    return dict.fromkeys(names, "text")


# ------------------------------------------------------------------ setups, one per reachable state

def anonymous_register(make) -> Setup:
    n = unique()
    return Setup(None, "/auth/register", {
        "account_type": Role.ENTERPRISE, "email": f"hostile{n}@example.cn", "phone": f"137{n:08d}",
        "name": "王五", "password": "correct-horse-42", "confirm": "correct-horse-42",
        "org_name": f"敌意输入测试公司{n}", "credit_code": make_credit_code(f"91320100MH{n:07d}"), "city": "南京"})


def anonymous_login(make) -> Setup:
    user = make.enterprise()
    return Setup(None, "/auth/login", {"email": user.email, "password": "wrong-password"})


def login_next(make) -> Setup:
    """The right password: what happens next is the redirect to `next`, which must stay on the site. Typed text is
    put after a "/", so it reads as a path of ours and reaches the checks that come after that one."""
    return Setup(None, "/auth/login", {"email": make.enterprise().email, "password": PASSWORD, "next": "/me"},
                 prepare=lambda data: {**data, "next": "/" + data["next"]})


def password_change(make) -> Setup:
    return Setup(make.enterprise(), "/auth/password", {"current_password": PASSWORD, "password": "battery-staple-77",
                                                       "confirm": "battery-staple-77"}, views=["/auth/password"])


def voucher_application(make) -> Setup:
    user = make.enterprise()
    enterprise = user.enterprise
    return Setup(user, "/me/vouchers/apply", {
        "unit_name": enterprise.name, "credit_code": enterprise.credit_code, "founded_on": "2018-05-20",
        "email": "office@example.cn", "identity": "kexiao", "kexiao_number": "20263201000123", "employees": "56",
        "phone": "025-83792000", "legal_rep_name": "张三", "legal_rep_mobile": "13912345678",
        "legal_rep_id_type": "id_card", "legal_rep_id_number": enterprise.legal_rep_id_number,
        "contact_name": "李四", "contact_phone": "13812345678", "registered_province": "江苏省",
        "registered_city": enterprise.city, "registered_district": "玄武区", "postal_province": "江苏省",
        "postal_city": enterprise.city, "postal_district": "玄武区", "postal_detail": "珠江路88号",
        "in_hightech_zone": "1", "hightech_zone_name": "南京高新区", "industry": "制造业", "product_field": "新材料",
        "supervising_department": "南京市科学技术局", "revenue_fen": "2345.67", "bank_account_name": enterprise.name,
        "bank_name": "中国银行南京分行", "bank_account_number": "6217000012345678901", "action": "save"},
        views=["/me/vouchers/apply"])


def checkout(make) -> Setup:
    """An enterprise with one voucher-eligible service in its cart (form prefix p<provider id>v)."""
    user = make.enterprise()
    service = make.service(make.provider().provider)
    key = f"p{service.provider_id}v"
    declarations = ("declares_innovation", "declares_unrelated", "declares_direct", "declares_unfunded")
    return Setup(user, "/checkout", {f"{key}-contact_name": "李四", f"{key}-contact_phone": "13812345678",
                                     f"{key}-amount": "400", f"{key}-note": "样品3件",
                                     **{f"{key}-{name}": "y" for name in declarations}},
                 views=["/me/orders"], before=[("/cart/add", {"service_id": service.id, "quantity": "1"})])


def _order(make, finished: bool = False):
    user = make.enterprise()
    provider = make.provider()
    order = make.order(user, make.service(provider.provider))
    if finished:
        order_lifecycle.act(order, "accept", provider)
        order_lifecycle.act(order, "finish", provider, amount_fen=order.quote_fen)
        db.session.commit()
    return user, provider, order


def order_message(make) -> Setup:
    user, _, order = _order(make)
    return Setup(user, f"/orders/{order.order_no}/messages", {"message-body": "你好"},
                 views=[f"/me/orders/{order.order_no}"])


def order_rating(make) -> Setup:
    user, _, order = _order(make, finished=True)
    return Setup(user, f"/orders/{order.order_no}/rating", {"rating-score": "5", "rating-comment": "很好"},
                 views=[f"/me/orders/{order.order_no}"])


def order_complaint(make) -> Setup:
    user, _, order = _order(make, finished=True)
    return Setup(user, f"/orders/{order.order_no}/complaint", {"complaint-reason": "报告迟迟未出，多次催促无果"},
                 views=[f"/me/orders/{order.order_no}"])


def shop_application(make) -> Setup:
    user = make.provider(shop_status=ShopStatus.DRAFT)
    provider = user.provider
    return Setup(user, "/seller/shop", {
        "name": provider.name, "credit_code": provider.credit_code, "unit_type": "university", "is_new_rnd": "0",
        "intro": "高校分析测试中心", "registered_address": "徐州市大学路1号", "founded_on": "1952-09-01",
        "has_website": "1", "website": "https://atc.example.edu.cn", "contact_name": "王老师",
        "contact_phone": "0516-83590000", "city": "徐州", "district": "云龙区", "address_detail": "大学路1号",
        "legal_rep_name": "李四", "legal_rep_phone": "13912345678", "legal_rep_id_type": "id_card",
        "legal_rep_id_number": "", "bank_account_name": provider.name, "bank_name": "工商银行徐州分行",
        "bank_branch_code": "102303000011", "bank_account_number": "1106020109000012345",
        "last_year_revenue_fen": "1234.5", "last_year_tax_fen": "56.78", "last_year_net_profit_fen": "-12.3",
        "qualification_kind": "", "qualification_expires_on": "", "action": "save"}, views=["/seller/shop"])


def _reference():
    field_ = db.session.query(Field).filter_by(name="新材料").one_or_none() or Field(name="新材料", position=1)
    category = Category(name="微观形貌分析", parent=Category(name="微区分析", position=1), position=1)
    db.session.add_all([field_, category])
    db.session.commit()
    return field_, category


def service_form(make) -> Setup:
    user = make.provider()
    field_, category = _reference()
    return Setup(user, "/seller/services/new", {
        "nature": "instrument_sharing", "name": "场发射扫描电镜形貌分析", "instrument_id": "",
        "description": "利用场发射扫描电子显微镜对材料表面进行高分辨率微观形貌观察与分析并出具报告",
        "service_type": "普通服务", "cycle": "7-10个自然日", "has_qualification": "0",
        "category_id": str(category.id), "field_ids": [str(field_.id)], "price": "400", "price_unit": "元/样品",
        "tags": "电镜", "qualification_desc": "", "standards": "GB/T 16594-2008", "sample_requirements": "固体",
        "voucher_eligible": "y", "action": "save"}, views=["/seller/services"])


def instrument_form(make) -> Setup:
    user = make.provider()
    field_, _ = _reference()
    return Setup(user, "/seller/instruments/new", {
        "status": "available", "name": "扫描电镜", "manufacturer": "日立", "model": "SU8010", "location": "实验楼",
        "original_value": "1500000", "field_id": str(field_.id), "description": "介绍"},
        views=["/seller/instruments"])


def seller_settings(make) -> Setup:
    return Setup(make.provider(), "/seller/settings", {"auto_accept": "1"}, views=["/seller/settings"])


def _claim(make, status=RedemptionStatus.DRAFT):
    user = make.enterprise()
    make.voucher(user)
    return user, make.claim(user, status=status)


def claim_save(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/save", {"contract_amount": "10000", "eligible_fee": "4000"},
                 views=[f"/me/redemptions/{claim.id}"])


def claim_invoice(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/invoices",
                 {"number": f"2632{unique():016d}", "amount": "12000", "image": png_upload("发票.png")},
                 views=[f"/me/redemptions/{claim.id}"])


def claim_receipt(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/receipts", {"amount": "12000", "image": png_upload("回单.png")},
                 views=[f"/me/redemptions/{claim.id}"])


def _first_step() -> dict:
    """What the offline wizard's first step posts: a provider with no shop on the platform."""
    return {"provider_name": "南京某某大学", "provider_credit_code": make_credit_code(f"12320000MB{unique():07d}"),
            "provider_contact": "王林", "provider_phone": "025-83235635"}


def _offline_claim(make):
    """An offline draft as the wizard's first step leaves it."""
    user = make.enterprise()
    make.voucher(user)
    step = _first_step()
    claim = claims.start_offline(user, step["provider_credit_code"])
    claim.provider_name, claim.provider_contact = step["provider_name"], step["provider_contact"]
    claim.provider_phone = step["provider_phone"]
    db.session.commit()
    return user, claim


def offline_provider(make) -> Setup:
    user, claim = _offline_claim(make)
    return Setup(user, f"/me/offline-redemptions/{claim.id}/provider", _first_step(),
                 views=[f"/me/offline-redemptions/{claim.id}/provider"])


def offline_first_step(make) -> Setup:
    """第一步 of a new claim: its save makes the claim."""
    user = make.enterprise()
    make.voucher(user)
    return Setup(user, "/me/offline-redemptions/new/provider", _first_step(),
                 views=["/me/offline-redemptions", "/me/offline-redemptions/new/provider"])


def offline_service(make) -> Setup:
    user, claim = _offline_claim(make)
    return Setup(user, f"/me/offline-redemptions/{claim.id}/service", {
        "provider_unit_type": "university", "qualification_kind": "", "qualification_expires_on": "",
        "contract_amount_fen": "140000", "lines-0-service_name": "材料磨损试验", "lines-0-instrument_name": "",
        "action": "next"}, views=[f"/me/offline-redemptions/{claim.id}/service"])


def _reviewing(make, status=RedemptionStatus.SUBMITTED):
    _, claim = _claim(make, status)
    return make.reviewer(), claim


def admin_claim(action: str, data: dict) -> Callable:
    def setup(make) -> Setup:
        reviewer, claim = _reviewing(make)
        return Setup(reviewer, f"/admin/redemptions/{claim.id}/{action}", dict(data),
                     views=[f"/admin/redemptions/{claim.id}"])
    setup.__name__ = f"admin_claim_{action}"
    return setup


def admin_voucher(action: str, data: dict) -> Callable:
    def setup(make) -> Setup:
        application = make.voucher_application(make.enterprise(), status=ApplicationStatus.SUBMITTED)
        return Setup(make.reviewer(), f"/admin/vouchers/{application.id}/{action}", dict(data),
                     views=[f"/admin/vouchers/{application.id}"])
    setup.__name__ = f"admin_voucher_{action}"
    return setup


def admin_shop_reject(make) -> Setup:
    provider = make.provider(shop_status=ShopStatus.PENDING)
    return Setup(make.reviewer(), f"/admin/shops/{provider.provider.id}/reject", {"reason": "执照不清晰"},
                 views=["/admin/shops"])


def admin_listing_reject(make) -> Setup:
    from marketplace.models import ServiceStatus
    service = make.service(make.provider().provider, status=ServiceStatus.PENDING)
    return Setup(make.reviewer(), f"/admin/listings/{service.id}/reject", {"reason": "描述不清"},
                 views=["/admin/listings"])


def review_batch(make) -> Setup:
    return Setup(make.reviewer(), "/admin/review-batches", {"title": f"第{unique()}批", "experts": "赵教授"},
                 views=["/admin/review-batches"])


def _publicity_claim(make):
    _, claim = _claim(make, RedemptionStatus.PUBLICITY)
    return claim


def publicity_objection(make) -> Setup:
    claim = _publicity_claim(make)
    return Setup(make.enterprise(), f"/publicity/{claim.id}/objection", {"reason": "金额与合同不符"},
                 views=["/publicity", f"/admin/redemptions/{claim.id}"])


def objection_resolve(make) -> Setup:
    claim = _publicity_claim(make)
    settlement.lodge_objection(claim, make.enterprise(), "金额与合同不符")
    db.session.commit()
    objection = db.session.query(Objection).filter_by(redemption_id=claim.id).one()
    return Setup(make.reviewer(), f"/admin/objections/{objection.id}/resolve",
                 {"upheld": "0", "resolution": "经核实异议不成立"}, views=["/admin/objections"])


def publish(make) -> Setup:
    _, claim = _reviewing(make, RedemptionStatus.APPROVED)
    return Setup(make.reviewer(), "/admin/publicity", {"claim_id": [str(claim.id)], "days": "5"},
                 views=["/admin/publicity", "/publicity"])


def payment(make) -> Setup:
    _, claim = _reviewing(make, RedemptionStatus.AWAITING_PAYMENT)
    return Setup(make.reviewer(), "/admin/payments", {
        "claim_id": [str(claim.id)], "paid_on": china_today().isoformat(), "reference": f"GK-{unique()}"},
        views=["/admin/payments"])


def city_settings(make) -> Setup:
    return Setup(make.reviewer(), "/admin/cities/徐州", {
        "region_override": "", "identities": ["kexiao", "gaoqi"], "province_part": "1", "local_part": "1",
        "cap": "80,000", "contact": "徐州市科学技术局"}, views=["/admin/cities/徐州", "/admin/cities"])


def reference(path: str, data: dict, fixed: dict | None = None) -> Callable:
    def setup(make) -> Setup:
        values = {**{key: f"{value}{unique()}" for key, value in data.items()}, **(fixed or {})}
        return Setup(make.reviewer(), f"/admin/reference/{path}", values, views=[f"/admin/reference/{path}"])
    setup.__name__ = f"reference_{path}"
    return setup


def provider_removal(make) -> Setup:
    provider = make.provider()
    return Setup(make.reviewer(), f"/admin/providers/{provider.provider.id}/remove",
                 {"kind": "other", "reason": "多次违规"}, views=[f"/admin/providers/{provider.provider.id}",
                                                                "/admin/providers"])


def complaint_resolve(make) -> Setup:
    user, _, order = _order(make, finished=True)
    complaint = Complaint(order_id=order.id, provider_id=order.provider_id, user_id=user.id, reason="报告迟迟未出",
                          status="open")
    db.session.add(complaint)
    db.session.commit()
    return Setup(make.reviewer(), f"/admin/complaints/{complaint.id}/resolve", {"resolution": "已督促"},
                 views=["/admin/complaints"])


def claim_submit(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/submit",
                 {"contract_amount": "10000", "declarations": list(readiness.DECLARATIONS)},
                 views=[f"/me/redemptions/{claim.id}"])


def cart_add(make) -> Setup:
    service = make.service(make.provider().provider)
    return Setup(make.enterprise(), "/cart/add", {"service_id": str(service.id), "quantity": "1"}, views=["/cart"])


def provider_cart_add_own(make) -> Setup:
    """A provider adding a service of its own shop: refused (409) whatever the quantity says."""
    user = make.provider()
    service = make.service(user.provider)
    return Setup(user, "/cart/add", {"service_id": str(service.id), "quantity": "1"}, views=["/cart"])


def provider_checkout(make) -> Setup:
    """A provider buying from another shop, as an individual does: one 非创新券订单 (form prefix p<provider id>n)."""
    user = make.provider()
    service = make.service(make.provider().provider)
    key = f"p{service.provider_id}n"
    return Setup(user, "/checkout", {f"{key}-contact_name": "李四", f"{key}-contact_phone": "13812345678",
                                     f"{key}-amount": "400", f"{key}-note": "样品3件"},
                 views=["/me/orders"], before=[("/cart/add", {"service_id": service.id, "quantity": "1"})])


def seller_decline(make) -> Setup:
    user, provider, order = _order(make)
    return Setup(provider, f"/seller/orders/{order.order_no}/decline", {"reason": "仪器检修"},
                 views=["/seller/orders", f"/me/orders/{order.order_no}"])


def seller_finish(make) -> Setup:
    user, provider, order = _order(make)
    order_lifecycle.act(order, "accept", provider)
    db.session.commit()
    return Setup(provider, f"/seller/orders/{order.order_no}/finish",
                 {"final_amount": "300", "final_amount_note": "样品减少"},
                 views=[f"/seller/orders/{order.order_no}", f"/me/orders/{order.order_no}"])


def account_reject(make) -> Setup:
    from marketplace.models import AccountStatus
    pending = make.user(Role.INDIVIDUAL, status=AccountStatus.PENDING)
    return Setup(make.reviewer(), f"/admin/accounts/{pending.id}/reject", {"reason": "资料不实"},
                 views=["/admin/accounts"])


def account_disable(make) -> Setup:
    return Setup(make.reviewer(), f"/admin/accounts/{make.enterprise().id}/disable", {"reason": "冒用单位信息"},
                 views=["/admin/accounts?status=disabled"])


def voucher_live_check(make) -> Setup:
    return Setup(make.enterprise(), "/me/vouchers/apply/check/credit_code",
                 {"credit_code": make_credit_code(f"91320100MA{unique():07d}")})


# ---------------------------------------------------------------- buttons that carry a value, and edits of a row

HX = {"HX-Request": "true"}


def _pending_account(make):
    user = make.user(Role.INDIVIDUAL, status=AccountStatus.PENDING)
    db.session.commit()
    return user


def approve_account(make) -> Setup:
    """通过 posts no reason from the page, but the route stores one if sent (DecisionForm)."""
    pending = _pending_account(make)
    return Setup(make.reviewer(), f"/admin/accounts/{pending.id}/approve", {"reason": ""},
                 views=["/admin/accounts?status=active"])


def enable_account(make) -> Setup:
    """恢复 posts no reason from the page, but the route stores one if sent (DecisionForm)."""
    disabled = make.user(Role.INDIVIDUAL, status=AccountStatus.DISABLED)
    db.session.commit()
    return Setup(make.reviewer(), f"/admin/accounts/{disabled.id}/enable", {"reason": ""},
                 views=["/admin/accounts?status=active"])


def approve_accounts(make) -> Setup:
    ids = [str(_pending_account(make).id) for _ in range(2)]
    return Setup(make.reviewer(), "/admin/accounts/approve", {"user_id": ids, "reason": ""},
                 views=["/admin/accounts?status=active"])


def approve_listings(make) -> Setup:
    provider = make.provider().provider
    ids = [str(make.service(provider, status=ServiceStatus.PENDING).id) for _ in range(2)]
    return Setup(make.reviewer(), "/admin/listings/approve", {"service_id": ids, "reason": ""},
                 views=["/admin/listings"])


def _field_pair():
    n = unique()
    first, second = Field(name=f"领域甲{n}", position=1), Field(name=f"领域乙{n}", position=2)
    db.session.add_all([first, second])
    db.session.commit()
    return first


def _category_pair():
    n = unique()
    top = Category(name=f"顶级{n}", position=1)
    first = Category(name=f"类别甲{n}", parent=top, position=1)
    db.session.add_all([top, first, Category(name=f"类别乙{n}", parent=top, position=2)])
    db.session.commit()
    return first


def reference_rename(path: str, make_item: Callable) -> Callable:
    def setup(make) -> Setup:
        item = make_item()
        return Setup(make.reviewer(), f"/admin/reference/{path}/{item.id}/rename", {"name": f"新名称{unique()}"},
                     views=["/admin/reference"])
    setup.__name__ = f"rename_{path}"
    return setup


def reference_move(path: str, make_item: Callable) -> Callable:
    def setup(make) -> Setup:
        item = make_item()
        return Setup(make.reviewer(), f"/admin/reference/{path}/{item.id}/move", {"direction": "down"},
                     views=["/admin/reference"])
    setup.__name__ = f"move_{path}"
    return setup


def _kind(keywords: str = "验货") -> NonEligibleKind:
    kind = NonEligibleKind(name=f"商业检验{unique()}", keywords=keywords, position=1)
    db.session.add(kind)
    db.session.commit()
    return kind


def kind_edit(make) -> Setup:
    kind = _kind()
    return Setup(make.reviewer(), f"/admin/reference/kinds/{kind.id}/edit",
                 {"name": f"商业验货{unique()}", "keywords": "验货 验厂"},
                 views=[f"/admin/reference/kinds/{kind.id}", "/admin/reference/kinds"])


def kind_mark(make) -> Setup:
    """The kind's keyword 电镜 matches the Factory's service (场发射扫描电镜形貌分析), still marked 创新券."""
    service = make.service(make.provider().provider)
    kind = _kind("电镜")
    return Setup(make.reviewer(), f"/admin/reference/kinds/{kind.id}/mark", {"service_id": [str(service.id)]},
                 views=[f"/admin/reference/kinds/{kind.id}"])


def return_voucher(make) -> Setup:
    application = make.voucher_application(make.enterprise(), status=ApplicationStatus.SUBMITTED)
    return Setup(make.reviewer(), f"/admin/vouchers/{application.id}/return",
                 {"reason": "营业收入与财务报表不一致", "fields": ["revenue_fen", "financial_statement"]},
                 views=[f"/admin/vouchers/{application.id}"])


def reinstate_provider(make) -> Setup:
    provider = make.provider(shop_status=ShopStatus.REMOVED).provider
    return Setup(make.reviewer(), f"/admin/providers/{provider.id}/reinstate", {"reason": "整改完成"},
                 views=[f"/admin/providers/{provider.id}"])


def shop_pilot(make) -> Setup:
    provider = make.provider().provider
    return Setup(make.reviewer(), f"/admin/shops/{provider.id}/pilot", {"pilot": "1", "reason": ""},
                 views=[f"/admin/shops/{provider.id}", "/admin/reference/pilots"])


def _workbook(data: dict) -> dict:
    """The registry's one row as a real .xlsx (header and cells as Excel holds them): the typed number, name and
    credit code become cells. Excel cells cannot hold control characters, which openpyxl refuses to write."""
    book = Workbook()
    sheet = book.active
    sheet.append(["入库编号", "企业名称", "统一社会信用代码"])
    sheet.append([ILLEGAL_CHARACTERS_RE.sub("", data.pop(name)) for name in ("number", "name", "credit_code")])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    return {**data, "file": (out, "科小名单.xlsx")}


def kexiao_import(make) -> Setup:
    year, n = current_year(), unique()
    return Setup(make.reviewer(), "/admin/kexiao", {
        "year": str(year), "number": f"{year}320100{n:06d}", "name": f"南京敌意输入科技有限公司{n}",
        "credit_code": make_credit_code(f"91320100MK{n:07d}")}, views=[f"/admin/kexiao?year={year}"],
        prepare=_workbook)


def _cart_line(make):
    user = make.enterprise()
    service = make.service(make.provider().provider)
    cart = Cart(user_id=user.id)
    db.session.add(cart)
    db.session.flush()
    line = CartLine(cart_id=cart.id, service_id=service.id, quantity=1)
    db.session.add(line)
    db.session.commit()
    return user, line


def cart_quantity(make) -> Setup:
    """Through htmx, as the cart page posts it: the refused quantity comes back in its box (without JS: a redirect
    with the message)."""
    user, line = _cart_line(make)
    return Setup(user, f"/cart/lines/{line.id}/quantity", {"quantity": "2"}, views=["/cart"], headers=HX)


def checkout_estimate(make) -> Setup:
    setup = checkout(make)
    setup.url, setup.views = "/checkout/estimate", ["/checkout"]
    return setup


def withdraw(make) -> Setup:
    user, _, order = _order(make)
    return Setup(user, f"/me/orders/{order.order_no}/withdraw", {"reason": "需求有变"},
                 views=[f"/me/orders/{order.order_no}", "/me/orders"])


def _order_in_service(make):
    user, provider, order = _order(make)
    order_lifecycle.act(order, "accept", provider)
    db.session.commit()
    return user, provider, order


def cancel_request(make) -> Setup:
    user, _, order = _order_in_service(make)
    return Setup(user, f"/me/orders/{order.order_no}/request_cancel", {"reason": "项目暂停，不再需要该服务"},
                 views=[f"/me/orders/{order.order_no}", "/me/orders?tab=in_service"])


def seller_cancel_refusal(make) -> Setup:
    user, provider, order = _order_in_service(make)
    order_lifecycle.act(order, "request_cancel", user, "项目暂停")
    db.session.commit()
    return Setup(provider, f"/seller/orders/{order.order_no}/refuse_cancel", {"reason": "样品已在检测中"},
                 views=[f"/seller/orders/{order.order_no}", "/seller/orders"])


def order_close(make) -> Setup:
    _, _, order = _order_in_service(make)
    return Setup(make.reviewer(), f"/admin/orders/{order.order_no}/close", {"reason": "双方均联系不上，长期未服务"},
                 views=[f"/admin/orders/{order.order_no}", "/admin/orders?status=all"])


def add_materials(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/materials", {"kind": "other", "files": pdf_upload("补充材料.pdf")},
                 views=[f"/me/redemptions/{claim.id}"])


def edit_invoice(make) -> Setup:
    user, claim = _claim(make)
    return Setup(user, f"/me/redemptions/{claim.id}/invoices/{claim.invoices[0].id}",
                 {"number": f"2632{unique():016d}", "amount": "9000"}, views=[f"/me/redemptions/{claim.id}"])


def offline_abandon(make) -> Setup:
    user, claim = _offline_claim(make)
    return Setup(user, f"/me/offline-redemptions/{claim.id}/abandon", {"back": "orders"},
                 views=["/me/offline-redemptions"])


def offline_lines(make) -> Setup:
    setup = offline_service(make)
    setup.url = setup.url + "/lines"
    setup.data.update(add_line="1", remove_line="")
    return setup


def _instrument(make):
    user = make.provider()
    instrument = Instrument(provider=user.provider, name="场发射扫描电子显微镜", manufacturer="日立", model="SU8010",
                            original_value_fen=150_000_000)
    db.session.add(instrument)
    db.session.commit()
    return user, instrument


def instrument_edit(make) -> Setup:
    user, instrument = _instrument(make)
    setup = instrument_form(make)
    return Setup(user, f"/seller/instruments/{instrument.id}/edit", setup.data, views=setup.views)


def instrument_status(make) -> Setup:
    user, instrument = _instrument(make)
    return Setup(user, f"/seller/instruments/{instrument.id}/status", {"status": "maintenance"},
                 views=["/seller/instruments"])


def service_edit(make) -> Setup:
    setup = service_form(make)
    service = make.service(setup.user.provider)
    setup.url = f"/seller/services/{service.id}/edit"
    return setup


def send_code(make) -> Setup:
    return Setup(make.enterprise(), "/me/vouchers/apply/sms", {"contact_phone": f"138{unique():08d}"})


def voucher_submit(make) -> Setup:
    user = make.enterprise()
    make.voucher_application(user, stamped=False)
    return Setup(user, "/me/vouchers/apply/submit", {"promise": "y", "stamped_sheet": pdf_upload("盖章信息表.pdf")},
                 views=["/me/vouchers", f"/me/vouchers/{current_year()}"])


FORMS = [
    FormCase("register", anonymous_register, texts("email", "phone", "name", "org_name", "credit_code", "password"),
             kept=("email", "phone", "name", "org_name", "credit_code")),
    FormCase("login", anonymous_login, texts("email", "password"), kept=("email",), allowed=(200, 303, 422, 429)),
    FormCase("login_next", login_next, texts("next"), allowed=(303,)),
    FormCase("password_change", password_change, texts("current_password", "password", "confirm"),
             allowed=(303, 422)),
    FormCase("voucher_application", voucher_application,
             {**texts("unit_name", "email", "kexiao_number", "phone", "legal_rep_name", "contact_name",
                      "registered_district", "postal_detail", "hightech_zone_name", "industry", "product_field",
                      "supervising_department", "bank_name", "bank_account_name", "employees", "credit_code"),
              "revenue_fen": "amount", "founded_on": "date"},
             kept=("unit_name", "email", "legal_rep_name", "contact_name", "postal_detail", "bank_name",
                   "supervising_department", "industry"), multipart=True),
    FormCase("checkout", checkout, {"-contact_name": "text", "-contact_phone": "text", "-note": "text",
                                    "-amount": "amount"}, kept=("-contact_name", "-contact_phone", "-note")),
    FormCase("order_message", order_message, texts("message-body"), kept=("message-body",)),
    FormCase("order_rating", order_rating, texts("rating-score", "rating-comment"), kept=("rating-comment",)),
    FormCase("order_complaint", order_complaint, texts("complaint-reason"), kept=("complaint-reason",)),
    FormCase("shop_application", shop_application,
             {**texts("name", "intro", "registered_address", "website", "contact_name", "contact_phone", "district",
                      "address_detail", "legal_rep_name", "bank_name", "bank_account_name", "bank_branch_code",
                      "credit_code"),
              "last_year_revenue_fen": "amount", "last_year_net_profit_fen": "amount", "founded_on": "date",
              "qualification_expires_on": "date"},
             kept=("name", "intro", "registered_address", "contact_name", "address_detail", "bank_name"),
             multipart=True),
    FormCase("service", service_form, {**texts("name", "description", "cycle", "tags", "standards",
                                               "sample_requirements", "qualification_desc"), "price": "amount"},
             kept=("name", "description", "cycle", "standards"), multipart=True),
    FormCase("instrument", instrument_form, {**texts("name", "manufacturer", "model", "location", "description"),
                                             "original_value": "amount"},
             kept=("name", "manufacturer", "model", "location", "description"), multipart=True),
    FormCase("seller_settings", seller_settings, texts("auto_accept"), allowed=(303, 400, 422)),
    FormCase("claim_contract_amount", claim_save, {"contract_amount": "amount", "eligible_fee": "amount"},
             kept=("contract_amount", "eligible_fee")),
    FormCase("claim_invoice", claim_invoice, {"number": "text", "amount": "amount"}, kept=("number", "amount"),
             multipart=True),
    FormCase("claim_receipt", claim_receipt, {"amount": "amount"}, kept=("amount",), multipart=True),
    FormCase("offline_provider_step", offline_provider,
             texts("provider_name", "provider_credit_code", "provider_contact", "provider_phone"),
             kept=("provider_name", "provider_contact", "provider_phone")),
    FormCase("offline_first_step", offline_first_step,
             texts("provider_name", "provider_credit_code", "provider_contact", "provider_phone"),
             kept=("provider_name", "provider_contact", "provider_phone")),
    FormCase("offline_service_step", offline_service,
             {"lines-0-service_name": "text", "lines-0-instrument_name": "text", "contract_amount_fen": "amount",
              "qualification_expires_on": "date"}, kept=("lines-0-service_name", "lines-0-instrument_name"),
             multipart=True),
    FormCase("claim_submit", claim_submit, {"contract_amount": "amount"}, kept=("contract_amount",),
             allowed=(200, 303, 409, 422)),
    FormCase("cart_add", cart_add, texts("quantity", "service_id"), allowed=(200, 303, 400, 404, 422)),
    FormCase("provider_cart_add_own", provider_cart_add_own, texts("quantity"), allowed=(303, 409)),
    FormCase("provider_checkout", provider_checkout,
             {"-contact_name": "text", "-contact_phone": "text", "-note": "text", "-amount": "amount"},
             kept=("-contact_name", "-contact_phone", "-note")),
    FormCase("seller_order_decline", seller_decline, texts("reason"), allowed=(200, 303, 409, 422)),
    FormCase("seller_order_finish", seller_finish, {"final_amount": "amount", "final_amount_note": "text"},
             kept=("final_amount", "final_amount_note"), allowed=(303, 422)),
    FormCase("admin_account_reject", account_reject, texts("reason"), kept=("reason",)),
    FormCase("admin_account_disable", account_disable, texts("reason"), kept=("reason",)),
    FormCase("voucher_live_check", voucher_live_check, texts("credit_code"), allowed=(200, 422)),
    FormCase("admin_claim_approve", admin_claim("approve", {"amount": "2500"}), {"amount": "amount"},
             kept=("amount",), allowed=(200, 303, 409, 422)),
    FormCase("admin_claim_reject", admin_claim("reject", {"reason": "不符合"}), texts("reason"), kept=("reason",)),
    FormCase("admin_claim_corrections", admin_claim("corrections", {"reason": "请补充"}), texts("reason"),
             kept=("reason",)),
    FormCase("admin_voucher_reject", admin_voucher("reject", {"reason": "材料不全"}), texts("reason"),
             kept=("reason",)),
    FormCase("admin_voucher_approve", admin_voucher("approve", {"confirmed_city": "南京"}), texts("confirmed_city"),
             allowed=(303, 422)),
    FormCase("admin_shop_reject", admin_shop_reject, texts("reason"), kept=("reason",)),
    FormCase("admin_listing_reject", admin_listing_reject, texts("reason"), kept=("reason",)),
    FormCase("admin_review_batch", review_batch, texts("title", "experts"), kept=("title", "experts")),
    FormCase("publicity_objection", publicity_objection, texts("reason"), kept=("reason",)),
    FormCase("admin_objection_resolve", objection_resolve, texts("resolution", "upheld"), kept=("resolution",)),
    FormCase("admin_publish", publish, texts("days"), allowed=(200, 303, 409, 422)),
    FormCase("admin_payment", payment, {"reference": "text", "paid_on": "date"}, kept=("reference",)),
    FormCase("admin_city_settings", city_settings, {**texts("contact", "province_part", "local_part"),
                                                    "cap": "amount"}, kept=("contact",)),
    FormCase("admin_reference_field", reference("fields", {"name": "领域"}), texts("name"), kept=("name",),
             allowed=(200, 303, 409, 422)),
    FormCase("admin_reference_category", reference("categories", {"name": "类别"}, {"parent_id": ""}), texts("name"),
             kept=("name",), allowed=(200, 303, 409, 422)),
    FormCase("admin_reference_kind", reference("kinds", {"name": "类型", "keywords": "验货"}),
             texts("name", "keywords"), kept=("name",), allowed=(200, 303, 409, 422)),
    FormCase("admin_provider_removal", provider_removal, texts("reason", "kind"), kept=("reason",),
             allowed=(200, 303, 409, 422)),
    FormCase("admin_complaint_resolve", complaint_resolve, texts("resolution"), kept=("resolution",)),
    # Buttons whose request carries a value a user could change, and edits of an existing row.
    FormCase("admin_account_approve", approve_account, texts("reason"), allowed=(303, 400)),
    FormCase("admin_account_enable", enable_account, texts("reason"), allowed=(303, 400)),
    FormCase("admin_accounts_bulk_approve", approve_accounts, texts("user_id", "reason"), allowed=(303, 400, 422)),
    FormCase("admin_listings_bulk_approve", approve_listings, texts("service_id", "reason"), allowed=(303, 400, 422)),
    FormCase("admin_field_rename", reference_rename("fields", _field_pair), texts("name"), kept=("name",)),
    FormCase("admin_category_rename", reference_rename("categories", _category_pair), texts("name"), kept=("name",)),
    FormCase("admin_field_move", reference_move("fields", _field_pair), texts("direction"), allowed=(303, 400)),
    FormCase("admin_category_move", reference_move("categories", _category_pair), texts("direction"),
             allowed=(303, 400)),
    FormCase("admin_kind_edit", kind_edit, texts("name", "keywords"), kept=("name", "keywords"), allowed=(303, 422)),
    FormCase("admin_kind_mark", kind_mark, texts("service_id"), allowed=(303,)),
    FormCase("admin_voucher_return", return_voucher, texts("reason", "fields"), kept=("reason",),
             allowed=(303, 422)),
    FormCase("admin_provider_reinstate", reinstate_provider, texts("reason"), kept=("reason",), allowed=(303, 422)),
    FormCase("admin_shop_pilot", shop_pilot, texts("pilot", "reason"), allowed=(303, 400, 409)),
    FormCase("admin_kexiao_import", kexiao_import, texts("year", "number", "name", "credit_code"), kept=("year",),
             allowed=(303, 422), multipart=True),
    FormCase("cart_quantity", cart_quantity, texts("quantity"), kept=("quantity",), allowed=(200, 422)),
    FormCase("checkout_estimate", checkout_estimate, {"-contact_name": "text", "-contact_phone": "text",
                                                      "-note": "text", "-amount": "amount"}, allowed=(200,)),
    FormCase("order_withdraw", withdraw, texts("reason"), allowed=(303,)),
    FormCase("order_cancel_request", cancel_request, texts("reason"), kept=("reason",), allowed=(303, 422)),
    FormCase("seller_cancel_refusal", seller_cancel_refusal, texts("reason"), kept=("reason",), allowed=(303, 422)),
    FormCase("admin_order_close", order_close, texts("reason"), kept=("reason",), allowed=(303, 422)),
    FormCase("claim_materials", add_materials, texts("kind"), allowed=(303, 400, 422), multipart=True),
    FormCase("claim_invoice_edit", edit_invoice, {"number": "text", "amount": "amount"}, kept=("number", "amount"),
             allowed=(303, 422), multipart=True),
    FormCase("offline_abandon", offline_abandon, texts("back"), allowed=(303,)),
    FormCase("offline_service_lines", offline_lines,
             {"lines-0-service_name": "text", "lines-0-instrument_name": "text", "remove_line": "text",
              "contract_amount_fen": "amount", "qualification_expires_on": "date"},
             kept=("lines-0-service_name", "lines-0-instrument_name"), allowed=(200,), multipart=True),
    FormCase("instrument_edit", instrument_edit, {**texts("name", "manufacturer", "model", "location", "description",
                                                          "status", "field_id"), "original_value": "amount"},
             kept=("name", "manufacturer", "model", "location", "description"), allowed=(303, 422), multipart=True),
    FormCase("instrument_status", instrument_status, texts("status"), allowed=(303, 400)),
    FormCase("service_edit", service_edit, {**texts("name", "description", "cycle", "tags", "standards",
                                                    "sample_requirements", "qualification_desc", "category_id",
                                                    "instrument_id"), "price": "amount"},
             kept=("name", "description", "cycle", "standards"), allowed=(303, 422), multipart=True),
    FormCase("voucher_send_code", send_code, texts("contact_phone"), allowed=(200, 422, 429)),
    FormCase("voucher_submit", voucher_submit, texts("promise"), allowed=(303, 409, 422), multipart=True),
]

# POST routes that take no typed input: what they change is named by their URL alone (ids in the path are
# checked by the router and the route: a wrong one is a 404). tests/test_hostile_forms.py fails on a POST route
# that is neither here nor in FORMS.
BUTTON = "a button: no fields, the object is in the URL"
WITHOUT_TYPED_INPUT = {
    "accounts.logout": "a button: no fields, ends the session",
    "accounts.end_all_sessions": "a button: no fields, ends every session of the signed-in account",
    "admin.approve_listing": BUTTON + " (DecisionForm's optional reason is only length-checked, never used)",
    "admin.approve_shop": BUTTON + " (DecisionForm's optional reason is only length-checked, never used)",
    "admin.open_shop": BUTTON + " (DecisionForm's optional reason is only length-checked, never used)",
    "admin.field_delete": BUTTON,
    "admin.category_delete": BUTTON,
    "admin.kind_delete": BUTTON,
    "admin.kind_defaults": "a button: no fields, adds SPEC 1.5's kinds",
    "admin.city_reset": BUTTON + " (an unknown city is a 404)",
    "admin.close_publicity": "a button: no fields, closes every publicity period that is over",
    "orders.cart_remove": BUTTON,
    "redemption.start": BUTTON,
    "redemption.offline_new": "a button: no fields, leads the signed-in enterprise to a new claim's first step",
    "redemption.delete_material": BUTTON,
    "redemption.delete_item": BUTTON,
    "seller.service_action": BUTTON + " (the action too: any other is a 404)",
    "seller.service_delete": BUTTON,
    "seller.confirm_materials": BUTTON,
}


@dataclass
class QueryCase:
    """A GET page or API endpoint reading typed query arguments; it answers 200 (or 400 for the API)."""
    name: str
    who: str
    path: str
    args: dict
    allowed: tuple = (200,)

    def __str__(self) -> str:
        return self.name


SEARCH_ARGS = {**texts("q", "city", "district", "field", "category", "sort", "page", "voucher", "qualified"),
               "price_min": "amount", "price_max": "amount"}
QUERIES = [
    QueryCase("search", "anonymous", "/services", SEARCH_ARGS),
    QueryCase("api_services", "anonymous", "/api/v1/services", {**SEARCH_ARGS, "per_page": "text"}, (200, 400, 422)),
    QueryCase("api_publicity", "anonymous", "/api/v1/publicity", texts("page", "per_page", "city"), (200, 400, 422)),
    QueryCase("admin_audit", "reviewer", "/admin/audit",
              {**texts("object", "object_id", "user", "action", "page"), "from": "date", "to": "date"}, (200, 422)),
    QueryCase("admin_claims_queue", "reviewer", "/admin/redemptions", texts("q", "status", "city", "page", "tab")),
    QueryCase("admin_vouchers_queue", "reviewer", "/admin/vouchers", texts("q", "status", "year", "page")),
    QueryCase("local_services", "anonymous", "/local/南京", texts("page", "shops")),
]

