"""开店申请 / 单位信息修改: the fields of SPEC 3.1 and the seed's 店铺信息 screen.

Saving a draft checks formats only; submitting (and editing an open shop) also checks that every
required field is filled, the files are uploaded and the entry rules for third-party units hold.
"""

from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.validators import Length, Optional, Regexp

from .. import policy, uploads, validators
from ..extensions import db
from ..forms import Form, MoneyField, YesNoField, blank, choices, problem_check
from ..models import Provider, StoredFile, UnitType, china_today
from ..uploads.fields import UploadField

QUALIFICATION_KINDS = {"CMA": "CMA（检验检测机构资质认定）", "CNAS": "CNAS（实验室认可）", "other": "其他资质"}
THIRD_PARTY = "third_party"
DOCUMENTS = (uploads.PDF, uploads.IMAGE)
# The application's files: form field -> (Provider column, label).
ATTACHMENTS = {
    "licence": ("licence_file_id", "营业执照/法人(登记)证书"),
    "rnd_approval": ("rnd_approval_file_id", "市级新型研发机构立项批件"),
    "tax_certificate": ("tax_certificate_file_id", "上年度纳税证明"),
    "qualification": ("qualification_file_id", "资质证书（CMA/CNAS等）"),
}


def _document(name: str) -> UploadField:
    return UploadField(ATTACHMENTS[name][1], accept=DOCUMENTS, max_bytes=policy.MAX_UPLOAD_BYTES, required=False)


def _digits(low, high, what):
    return Regexp(rf"^\s*\d{{{low},{high}}}\s*$", message=f"{what}应为{low}–{high}位数字")


class ShopProfileForm(Form):
    """What an open shop may change without a new review (单位信息修改)."""
    intro = TextAreaField("服务单位简介", validators=[Optional(), Length(max=2000, message="简介不超过2000字")])
    contact_name = StringField("联系人姓名", validators=[Optional(), Length(max=50)])
    contact_phone = StringField("联系方式", validators=[Optional(), problem_check(validators.phone_problem)])
    city = SelectField("市", choices=choices(((c, c + "市") for c in policy.CITIES), "请选择"),
                       validators=[Optional()])
    district = StringField("区（县）", validators=[Optional(), Length(max=50)])
    address_detail = StringField("详细地址", validators=[Optional(), Length(max=300)])
    bank_account_name = StringField("账户名称", validators=[Optional(), Length(max=200)])
    bank_name = StringField("开户行名称", validators=[Optional(), Length(max=200)])
    bank_branch_code = StringField("开户行联行号", validators=[
        Optional(), problem_check(validators.bank_branch_code_problem)])
    bank_account_number = StringField("银行账号", validators=[Optional(), _digits(8, 30, "银行账号")])

    # Columns copied as typed; a blank one in `kept_when_blank` leaves the stored value alone.
    columns = ("intro", "contact_name", "contact_phone", "city", "district", "address_detail",
               "bank_account_name", "bank_name", "bank_branch_code", "bank_account_number")
    kept_when_blank = ("city",)
    null_when_blank: tuple[str, ...] = ()
    upload_columns: dict[str, str] = {}

    def __init__(self, *args, provider: Provider, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        for name in self.marked_required:
            self[name].flags.required = True

    @property
    def marked_required(self) -> tuple[str, ...]:
        """Fields shown with * (required to submit); the conditional ones say so in their hints."""
        return ShopProfileForm.columns

    def hold_current_files(self, files: dict[str, StoredFile]) -> None:
        """On GET: the files on record, so the form shows them and sends them back as kept."""
        for name, stored in files.items():
            self[name].data = stored

    # ------------------------------------------------------------ completeness (submit)

    def required_names(self) -> list[str]:
        return list(ShopProfileForm.columns)

    def validate_complete(self) -> bool:
        """Formats plus everything a reviewer needs; `validate()` alone is the draft check."""
        valid = self.validate()
        return self.require_filled(self.required_names()) and valid

    # ------------------------------------------------------------ saving

    def apply_to(self, provider: Provider) -> None:
        for name in self.columns:
            value = getattr(self, name).data
            value = value.strip() if isinstance(value, str) else value
            if blank(value) and name in self.kept_when_blank:
                continue
            setattr(provider, name, None if blank(value) and name in self.null_when_blank else value)
        # An upload field holds the file on record unless the user removed or replaced it.
        for name, column in self.upload_columns.items():
            setattr(provider, column, self[name].file_id)


class ShopApplicationForm(ShopProfileForm):
    """The whole 开店申请, editable while the application is a draft or was rejected."""
    name = StringField("服务单位名称", validators=[Optional(), Length(max=200)])
    credit_code = StringField("统一社会信用代码",
                              validators=[Optional(), problem_check(validators.credit_code_problem)])
    licence = _document("licence")
    unit_type = SelectField("服务单位类型", choices=choices(UnitType.LABELS.items(), "请选择"), validators=[Optional()])
    is_new_rnd = YesNoField("是否为新型研发机构")
    rnd_approval = _document("rnd_approval")
    registered_address = StringField("注册地(住所)", validators=[Optional(), Length(max=300)])
    founded_on = DateField("注册成立时间", validators=[Optional()])
    has_website = YesNoField("是否有自建网站")
    website = StringField("自建网站方式/网址", validators=[Optional(), Length(max=300)])
    legal_rep_name = StringField("法定代表人姓名", validators=[Optional(), Length(max=50)])
    legal_rep_phone = StringField("法定代表人手机号码",
                                  validators=[Optional(), problem_check(validators.mobile_problem)])
    legal_rep_id_type = SelectField("证件类型", choices=choices(validators.ID_TYPES.items(), "请选择"),
                                    validators=[Optional()])
    legal_rep_id_number = StringField("证件号码", validators=[Optional(), Length(max=30)])
    last_year_revenue_fen = MoneyField("上年度主营业务收入(万元)", unit="万元")
    last_year_tax_fen = MoneyField("上年度税收总额(万元)", unit="万元")
    last_year_net_profit_fen = MoneyField("上年度净利润(万元)", unit="万元", allow_negative=True)
    tax_certificate = _document("tax_certificate")
    qualification_kind = SelectField("资质类型", choices=choices(QUALIFICATION_KINDS.items(), "请选择"),
                                     validators=[Optional()])
    qualification = _document("qualification")
    qualification_expires_on = DateField("资质有效期至", validators=[Optional()])

    columns = ShopProfileForm.columns + (
        "name", "credit_code", "unit_type", "is_new_rnd", "registered_address", "founded_on", "has_website",
        "website", "legal_rep_name", "legal_rep_phone", "legal_rep_id_type", "legal_rep_id_number",
        "last_year_revenue_fen", "last_year_tax_fen", "last_year_net_profit_fen",
        "qualification_kind", "qualification_expires_on")
    kept_when_blank = ("city", "name", "credit_code", "unit_type")
    null_when_blank = ("website", "qualification_kind")
    upload_columns = {name: column for name, (column, _label) in ATTACHMENTS.items()}
    always_required = ("name", "credit_code", "licence", "unit_type", "is_new_rnd", "registered_address", "founded_on",
                       "has_website", "legal_rep_name", "legal_rep_phone", "legal_rep_id_type", "legal_rep_id_number",
                       "last_year_revenue_fen", "last_year_tax_fen", "last_year_net_profit_fen", "tax_certificate")

    @property
    def marked_required(self) -> tuple[str, ...]:
        return ShopProfileForm.columns + self.always_required

    @property
    def is_third_party(self) -> bool:
        return self.unit_type.data == THIRD_PARTY

    def validate_credit_code(self, field) -> None:
        code = validators.normalize_credit_code(field.data)
        if db.session.scalar(select(Provider.id).where(Provider.credit_code == code, Provider.id != self.provider.id)):
            raise ValidationError("该统一社会信用代码已被其他服务单位使用")

    def validate_legal_rep_id_number(self, field) -> None:
        if field.data and self.legal_rep_id_type.data:
            message = validators.id_number_problem(self.legal_rep_id_type.data, field.data, today=china_today())
            if message:
                raise ValidationError(message)

    def validate_website(self, field) -> None:
        if self.has_website.data is False and not blank(field.data):
            raise ValidationError("选择“无自建网站”时请不要填写网站")

    def required_names(self) -> list[str]:
        names = [*super().required_names(), *self.always_required]
        if self.is_new_rnd.data or self.unit_type.data == "new_rnd":
            names.append("rnd_approval")
        if self.has_website.data:
            names.append("website")
        if self.is_third_party:
            names += ["qualification_kind", "qualification", "qualification_expires_on"]
        return names

    def validate_complete(self) -> bool:
        valid = super().validate_complete()
        if self.unit_type.data == "new_rnd" and self.is_new_rnd.data is False:
            self.fail(self.is_new_rnd, "服务单位类型为新型研发机构时，请选择“是”并上传立项批件")
            valid = False
        return self._entry_rules_hold() and valid

    def _entry_rules_hold(self) -> bool:
        if not self.unit_type.data:
            return True
        problems = policy.provider_entry_problems(
            direct=self.unit_type.data in UnitType.DIRECT, founded_on=self.founded_on.data,
            qualification_expires_on=self.qualification_expires_on.data, today=china_today())
        for problem in problems:
            field = getattr(self, problem.field)
            if not field.errors:
                self.fail(field, problem.message)
        return not problems

    def apply_to(self, provider: Provider) -> None:
        super().apply_to(provider)
        provider.credit_code = validators.normalize_credit_code(provider.credit_code)
        provider.legal_rep_id_number = validators.normalize_id_number(provider.legal_rep_id_number)
        provider.is_new_rnd = bool(self.is_new_rnd.data)
        provider.has_website = bool(self.has_website.data)
