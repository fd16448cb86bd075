"""江苏省科技创新券企业申请信息表 (SPEC 6): every field of the seed's form.

"保存" checks formats only, so the form can be filled over several visits; "完成填写" also checks that
everything is there and that the enterprise is eligible (SPEC 1.4), naming the rule that refuses it.
"""
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, Regexp, ValidationError

from .. import policy, uploads, validators
from ..forms import Form, MoneyField, YesNoField, blank, choices, problem_check
from ..models import VoucherApplication, china_today
from ..uploads.fields import UploadField
from .display import FILES, attachments
from .eligibility import JIANGSU, application_problems

PROVINCES = (JIANGSU, "上海市", "浙江省", "安徽省", "山东省", "北京市", "天津市", "河北省", "山西省", "内蒙古自治区",
             "辽宁省", "吉林省", "黑龙江省", "福建省", "江西省", "河南省", "湖北省", "湖南省", "广东省",
             "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省",
             "青海省", "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区", "台湾省")
# 国民经济行业分类 (GB/T 4754-2017) sections, offered as suggestions.
INDUSTRIES = ("制造业", "信息传输、软件和信息技术服务业", "科学研究和技术服务业", "农、林、牧、渔业", "采矿业",
              "电力、热力、燃气及水生产和供应业", "建筑业", "批发和零售业", "交通运输、仓储和邮政业",
              "水利、环境和公共设施管理业", "卫生和社会工作", "文化、体育和娱乐业", "其他")
PRODUCT_FIELDS = ("电子信息", "生物与新医药", "航空航天", "新材料", "高技术服务", "新能源与节能", "资源与环境",
                  "先进制造与自动化")
DOCUMENTS = (uploads.PDF, uploads.IMAGE)
CITY_CHOICES = choices(((city, city + "市") for city in policy.CITIES), "请选择")
SMS_PURPOSE = "voucher_contact"


def _document(name: str) -> UploadField:
    return UploadField(FILES[name][1], accept=DOCUMENTS, max_bytes=policy.MAX_UPLOAD_BYTES, required=False)


def _text(label: str, max_length: int, *checks):
    return StringField(label, validators=[Optional(), Length(max=max_length, message=f"{label}不超过{max_length}字"),
                                          *checks])


class ApplicationForm(Form):
    unit_name = _text("单位名称", 200)
    credit_code = _text("统一社会信用代码", 18, problem_check(validators.credit_code_problem))
    business_licence = _document("business_licence")
    founded_on = DateField("成立时间", validators=[Optional()])
    email = _text("电子邮箱", 254,
                  Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="电子邮箱格式不正确，例如 name@example.com"))
    identity = SelectField("企业身份", choices=choices(policy.ENTERPRISE_IDENTITIES.items(), "请选择"),
                           validators=[Optional()])
    kexiao_number = _text("科技型中小企业入库编号", 40)
    gaoqi_certificate_number = _text("高新技术企业证书编号", 40)
    gaoqi_valid_until = DateField("高新技术企业证书有效期至", validators=[Optional()])
    identity_proof = _document("identity_proof")
    relation_proof = _document("relation_proof")
    employees = IntegerField("职工人数", validators=[Optional(), NumberRange(min=1, max=1_000_000,
                                                                         message="职工人数应为正整数")])
    phone = _text("单位电话", 30, problem_check(validators.phone_problem))
    legal_rep_name = _text("法定代表人姓名", 50)
    legal_rep_mobile = _text("法定代表人手机号码", 20, problem_check(validators.mobile_problem))
    legal_rep_id_type = SelectField("证件类型", choices=choices(validators.ID_TYPES.items(), "请选择"),
                                    validators=[Optional()])
    legal_rep_id_number = _text("证件号码", 30)
    contact_name = _text("联系人姓名", 50)
    contact_phone = _text("联系人手机号码", 20, problem_check(validators.mobile_problem))
    sms_code = StringField("短信验证码", validators=[Optional(), Regexp(r"^\s*\d{6}\s*$", message="验证码为6位数字")])
    registered_province = SelectField("注册地（省）", choices=choices((p, p) for p in PROVINCES),
                                      validators=[Optional()])
    registered_city = SelectField("注册地（市）", choices=CITY_CHOICES, validators=[Optional()])
    registered_district = _text("注册地（区/县）", 50)
    postal_province = _text("通讯地址（省）", 20)
    postal_city = _text("通讯地址（市）", 20)
    postal_district = _text("通讯地址（区/县）", 50)
    postal_detail = _text("通讯地址（详细地址）", 300)
    in_hightech_zone = YesNoField("是否在县级以上高新区")
    hightech_zone_name = _text("高新区名称", 100)
    industry = _text("所属行业", 100)
    product_field = _text("产品所属领域", 100)
    supervising_department = _text("主管科技部门", 100)
    revenue_fen = MoneyField("上年度营业收入（万元）", unit="万元")
    financial_statement = _document("financial_statement")
    bank_account_name = _text("开户名称", 200)
    bank_name = _text("开户银行", 200)
    bank_account_number = _text("银行账号", 40, Regexp(r"^\s*\d{8,30}\s*$", message="银行账号应为8–30位数字"))

    columns = ("unit_name", "credit_code", "founded_on", "email", "identity", "kexiao_number",
               "gaoqi_certificate_number", "gaoqi_valid_until", "employees", "phone", "legal_rep_name",
               "legal_rep_mobile", "legal_rep_id_type", "legal_rep_id_number", "contact_name", "contact_phone",
               "registered_province", "registered_city", "registered_district", "postal_province", "postal_city",
               "postal_district", "postal_detail", "in_hightech_zone", "hightech_zone_name", "industry",
               "product_field", "supervising_department", "revenue_fen", "bank_account_name", "bank_name",
               "bank_account_number")
    upload_columns = {name: FILES[name][0] for name in ("business_licence", "identity_proof", "relation_proof",
                                                        "financial_statement")}
    # Required to complete the form whatever the identity; identity proofs follow from eligibility rules. 单位电话
    # (the seed's 固定电话) is optional, checked only when given.
    always_required = ("unit_name", "credit_code", "business_licence", "founded_on", "email", "identity", "employees",
                       "legal_rep_name", "legal_rep_mobile", "legal_rep_id_type", "legal_rep_id_number",
                       "contact_name", "contact_phone", "registered_province", "registered_district",
                       "postal_detail", "in_hightech_zone", "industry", "product_field", "supervising_department",
                       "revenue_fen", "financial_statement", "bank_account_name", "bank_name",
                       "bank_account_number")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.always_required:
            self[name].flags.required = True
        self.registered_city.flags.required = True

    def validate_legal_rep_id_number(self, field) -> None:
        if field.data and self.legal_rep_id_type.data:
            message = validators.id_number_problem(self.legal_rep_id_type.data, field.data, today=china_today())
            if message:
                raise ValidationError(message)

    def validate_founded_on(self, field) -> None:
        if field.data and field.data > china_today():
            raise ValidationError("成立时间不能晚于今天")

    def hold_current_files(self, application: VoucherApplication) -> None:
        """On GET: the files on record, so the form shows them and sends them back as kept."""
        for attachment in attachments(application):
            if attachment.name in self.upload_columns:
                self[attachment.name].data = attachment.file

    # ------------------------------------------------------------ completing

    def validate_complete(self, application: VoucherApplication) -> bool:
        """Formats, completeness and eligibility; `application` receives the input first (not committed
        by this method) so the policy is checked on exactly what will be saved."""
        valid = self.validate()
        names = list(self.always_required)
        if self.registered_province.data == JIANGSU:
            names.append("registered_city")
        if self.in_hightech_zone.data:
            names.append("hightech_zone_name")
        complete = self.require_filled(names)
        self.apply_to(application)
        for problem in application_problems(application, china_today()):
            field = self[problem.field]
            if not field.errors:
                self.fail(field, problem.message)
                valid = False
        return complete and valid

    # ------------------------------------------------------------ saving

    def apply_to(self, application: VoucherApplication) -> None:
        for name in self.columns:
            value = self[name].data
            value = value.strip() if isinstance(value, str) else value
            if name in ("in_hightech_zone",):
                value = bool(value)
            setattr(application, name, "" if value is None and _is_text(application, name) else value)
        application.credit_code = validators.normalize_credit_code(application.credit_code)
        application.legal_rep_id_number = validators.normalize_id_number(application.legal_rep_id_number)
        if not application.in_hightech_zone:
            application.hightech_zone_name = ""
        for name, column in self.upload_columns.items():
            setattr(application, column, self[name].file_id)


def _is_text(application: VoucherApplication, name: str) -> bool:
    column = VoucherApplication.__table__.columns[name]
    return column.type.python_type is str


def incomplete(application: VoucherApplication) -> bool:
    """True while a saved application still lacks something the sheet and the reviewer need."""
    values = {name: getattr(application, FILES[name][0] if name in FILES else name)
              for name in ApplicationForm.always_required}
    return any(blank(value) for value in values.values()) or bool(application_problems(application, china_today()))


class SubmitForm(Form):
    """Step 3: the stamped scan of the printed sheet, and the applicant's promise."""
    stamped_sheet = UploadField(FILES["stamped_sheet"][1], accept=DOCUMENTS, max_bytes=policy.MAX_UPLOAD_BYTES,
                                required=False)
    promise = BooleanField("本单位承诺：所填信息及提交材料真实、准确、完整，如有虚假，愿承担相应责任。")

    def validate_promise(self, field) -> None:
        if not field.data:
            raise ValidationError("请阅读并勾选承诺")

    def validate_stamped_sheet(self, field) -> None:
        if field.data is None:
            raise ValidationError("请上传加盖公章的申请信息表扫描件（PDF、JPG或PNG）")
