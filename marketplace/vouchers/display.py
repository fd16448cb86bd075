"""The application as the sheet, the reviewer and the enterprise read it: labelled rows in form order.

One description serves the printable PDF (`sheet.py`), the reviewer's detail page and 查看详情, so
the three can never disagree on what was applied for.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from .. import policy, validators
from ..extensions import db
from ..models import StoredFile, VoucherApplication

ID_TYPES = validators.ID_TYPES
IDENTITIES = policy.ENTERPRISE_IDENTITIES
# The application's files: form field -> (VoucherApplication column, label).
FILES = {
    "business_licence": ("business_licence_file_id", "营业执照"),
    "financial_statement": ("financial_statement_file_id", "上年度财务报表"),
    "identity_proof": ("identity_proof_file_id", "企业身份证明材料"),
    "relation_proof": ("relation_proof_file_id", "人才与企业关系证明"),
    "stamped_sheet": ("stamped_sheet_file_id", "加盖公章的申请信息表"),
}
IDENTITY_PROOF_LABELS = {"incubated": "孵化证明或入孵协议", "talent": "人才项目获得者证明",
                         "gaoqi": "高新技术企业证书（可选）", "kexiao": "科技型中小企业入库证明（可选）"}


@dataclass(frozen=True)
class Row:
    name: str      # the form field / column, so a reviewer's correction request can point at it
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[Row]


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _address(*parts: str | None) -> str:
    return "".join(part for part in parts if part) or "—"


def _city(city: str) -> str:
    return f"{city}市" if city and not city.endswith("市") else city


def identity_rows(a: VoucherApplication) -> list[Row]:
    rows = [Row("identity", "企业身份", IDENTITIES.get(a.identity, "—"))]
    if a.identity == "kexiao":
        rows.append(Row("kexiao_number", "科技型中小企业入库编号", _text(a.kexiao_number)))
    if a.identity == "gaoqi":
        rows += [Row("gaoqi_certificate_number", "高新技术企业证书编号", _text(a.gaoqi_certificate_number)),
                 Row("gaoqi_valid_until", "高新技术企业证书有效期至", _text(a.gaoqi_valid_until))]
    return rows


def sections(a: VoucherApplication) -> list[Section]:
    revenue = "—" if a.revenue_fen is None else f"{policy.format_wan(a.revenue_fen)} 万元"
    zone = (f"是（{a.hightech_zone_name}）" if a.hightech_zone_name else "是") if a.in_hightech_zone else "否"
    return [
        Section("企业基本信息", [
            Row("unit_name", "单位名称", _text(a.unit_name)),
            Row("credit_code", "统一社会信用代码", _text(a.credit_code)),
            Row("founded_on", "成立时间", _text(a.founded_on)),
            Row("email", "电子邮箱", _text(a.email)),
            *identity_rows(a),
            Row("employees", "职工人数", _text(a.employees)),
            Row("phone", "单位电话", _text(a.phone)),
        ]),
        Section("法定代表人", [
            Row("legal_rep_name", "姓名", _text(a.legal_rep_name)),
            Row("legal_rep_mobile", "手机号码", _text(a.legal_rep_mobile)),
            Row("legal_rep_id_type", "证件类型", ID_TYPES.get(a.legal_rep_id_type, "—")),
            Row("legal_rep_id_number", "证件号码", _text(a.legal_rep_id_number)),
        ]),
        Section("联系人", [
            Row("contact_name", "姓名", _text(a.contact_name)),
            Row("contact_phone", "手机号码",
                _text(a.contact_phone) + ("（已验证）" if a.contact_phone_verified_at else "")),
        ]),
        Section("地址与行业", [
            Row("registered_city", "注册地址", _address(a.registered_province, _city(a.registered_city),
                                                       a.registered_district)),
            Row("postal_detail", "通讯地址", _address(a.postal_province, _city(a.postal_city), a.postal_district,
                                                     a.postal_detail)),
            Row("in_hightech_zone", "是否在县级以上高新区", zone),
            Row("industry", "所属行业", _text(a.industry)),
            Row("product_field", "产品所属领域", _text(a.product_field)),
            Row("supervising_department", "主管科技部门", _text(a.supervising_department)),
        ]),
        Section("财务与收款信息", [
            Row("revenue_fen", "上年度营业收入", revenue),
            Row("bank_account_name", "开户名称", _text(a.bank_account_name)),
            Row("bank_name", "开户银行", _text(a.bank_name)),
            Row("bank_account_number", "银行账号", _text(a.bank_account_number)),
        ]),
    ]


@dataclass(frozen=True)
class Attachment:
    name: str
    label: str
    file: StoredFile


def file_label(a: VoucherApplication, name: str) -> str:
    if name == "identity_proof":
        return IDENTITY_PROOF_LABELS.get(a.identity, FILES[name][1])
    return FILES[name][1]


def attachment(a: VoucherApplication, name: str) -> Attachment | None:
    """One of the application's files (a FILES name), or None when it is not uploaded."""
    file_id = getattr(a, FILES[name][0])
    stored = db.session.get(StoredFile, file_id) if file_id else None
    return Attachment(name, file_label(a, name), stored) if stored else None


def attachments(a: VoucherApplication) -> list[Attachment]:
    """The application's uploaded files in form order, loaded in one query."""
    ids = {name: getattr(a, column) for name, (column, _label) in FILES.items()}
    wanted = [file_id for file_id in ids.values() if file_id]
    files = {f.id: f for f in db.session.scalars(select(StoredFile).where(StoredFile.id.in_(wanted)))} if wanted else {}
    return [Attachment(name, file_label(a, name), files[file_id]) for name, file_id in ids.items() if file_id in files]
