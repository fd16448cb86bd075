"""The two forms of the 线下订单申请兑付 wizard (SPEC 7.3).

Step 1 names the provider; step 2 describes it and the service. "暂存" on step 2 checks values only (a bad
date or amount is still refused), "保存并下一步" also checks that everything the claim needs is there."""
from wtforms import DateField, FieldList, Form as SubForm, FormField, SelectField, StringField, ValidationError
from wtforms.validators import DataRequired, Length, Optional

from .. import policy, uploads, validators
from ..extensions import db
from ..forms import Form, MoneyField, choices, problem_check, tidy
from ..models import Redemption, RedemptionServiceLine, StoredFile, china_today
from ..uploads.fields import UploadField
from ..validators import whole_number
from . import checks, offline_checks

MAX_SERVICE_LINES = 20
ITSELF = "服务单位不能是本企业自身：该统一社会信用代码属于贵企业"


def _text(label: str, max_length: int, *checks, required: bool = False) -> StringField:
    presence = DataRequired(message=f"请填写{label}") if required else Optional()
    return StringField(label, filters=[tidy], validators=[
        presence, Length(max=max_length, message=f"{label}不超过{max_length}字"), *checks])


class ProviderForm(Form):
    """第一步 服务单位信息维护. `own_credit_codes`: the enterprise's own, which no provider may hold."""
    provider_name = _text("服务单位名称", 200, required=True)
    provider_credit_code = StringField("统一社会信用代码", filters=[validators.normalize_credit_code], validators=[
        DataRequired(message="请填写统一社会信用代码"), problem_check(validators.credit_code_problem)])
    provider_contact = _text("联系人", 50, required=True)
    provider_phone = _text("联系电话", 30, problem_check(validators.phone_problem), required=True)

    def __init__(self, *args, own_credit_codes: frozenset[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.own_credit_codes = own_credit_codes

    def validate_provider_credit_code(self, field):
        if field.data in self.own_credit_codes:
            raise ValidationError(ITSELF)

    def apply_to(self, claim: Redemption) -> None:
        claim.provider_name = self.provider_name.data
        claim.provider_credit_code = self.provider_credit_code.data
        claim.provider_contact = self.provider_contact.data
        claim.provider_phone = self.provider_phone.data


class ServiceLineForm(SubForm):
    """One row of 服务明细: the service bought, or the instrument that provided it."""
    service_name = _text("服务名称", 200)
    instrument_name = _text("仪器名称", 200)


class ServiceForm(Form):
    """第二步 服务信息维护."""
    provider_unit_type = SelectField("服务单位类型",
                                     choices=choices(offline_checks.OFFLINE_UNIT_TYPES.items(), "请选择服务单位性质"),
                                     validators=[Optional()])
    qualification_kind = SelectField("资质名称", choices=choices(offline_checks.QUALIFICATIONS.items(), "请选择"),
                                     validators=[Optional()])
    qualification_file = UploadField("资质文件", accept=(uploads.PDF,), max_bytes=policy.MAX_UPLOAD_BYTES)
    qualification_expires_on = DateField("资质有效期", validators=[Optional()])
    contract_amount_fen = MoneyField("合同金额（元）")
    lines = FieldList(FormField(ServiceLineForm), min_entries=1, max_entries=MAX_SERVICE_LINES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines_problem = None
        for always_asked in (self.provider_unit_type, self.contract_amount_fen):
            always_asked.flags.required = True  # marked * (暂存 may still leave them blank)

    @classmethod
    def of(cls, claim: Redemption) -> "ServiceForm":
        """The form showing what the claim holds, its qualification file kept."""
        form = cls(obj=claim, lines=[{"service_name": line.service_name, "instrument_name": line.instrument_name}
                                     for line in claim.service_lines])
        if claim.qualification_file_id is not None:
            form.qualification_file.data = db.session.get(StoredFile, claim.qualification_file_id)
        return form

    @property
    def asks_qualification(self) -> bool:
        return checks.needs_qualification(self.provider_unit_type.data or "")

    def validate_qualification_expires_on(self, field):
        if field.data and field.data < china_today() and self.asks_qualification:
            raise ValidationError(f"资质已于 {field.data:%Y-%m-%d} 过期，请上传有效期内的资质文件")

    def validate_contract_amount_fen(self, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError("合同金额须大于零")

    def validate_complete(self) -> bool:
        """保存并下一步: everything step 2 asks for is there (values were checked by validate())."""
        required = ["provider_unit_type", "contract_amount_fen"]
        if self.provider_unit_type.data and self.asks_qualification:
            required += ["qualification_kind", "qualification_file", "qualification_expires_on"]
        complete = self.require_filled(required)
        if not self.filled_lines():
            self.lines_problem = offline_checks.LINES_MISSING
            complete = False
        return complete

    def filled_lines(self) -> list[tuple[str, str]]:
        rows = ((entry.service_name.data or "", entry.instrument_name.data or "") for entry in self.lines)
        return [(service, instrument) for service, instrument in rows if service or instrument]

    def edit_lines(self, add: bool, remove: str | None) -> None:
        """新增 / − on 服务明细: add a blank row, or remove the row at position `remove` (one row always stays)."""
        position = whole_number(remove)
        if position is not None and position < len(self.lines.entries):
            self.lines.entries.pop(position)
        if len(self.lines.entries) >= MAX_SERVICE_LINES and add:
            self.lines_problem = f"服务明细最多{MAX_SERVICE_LINES}项"
        elif add or not self.lines.entries:
            self.lines.append_entry()

    def apply_to(self, claim: Redemption) -> None:
        claim.provider_unit_type = self.provider_unit_type.data or ""
        asked = self.asks_qualification
        claim.qualification_kind = (self.qualification_kind.data or "") if asked else ""
        claim.qualification_file_id = self.qualification_file.file_id if asked else None
        claim.qualification_expires_on = self.qualification_expires_on.data if asked else None
        claim.contract_amount_fen = self.contract_amount_fen.data
        claim.service_lines = [RedemptionServiceLine(position=position, service_name=service,
                                                     instrument_name=instrument)
                               for position, (service, instrument) in enumerate(self.filled_lines())]
