from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, ValidationError, widgets
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from .. import policy
from ..forms import Form, MoneyField, choices
from ..vouchers.forms import CITY_CHOICES
from ..vouchers.lifecycle import CONFIRM_CITY, current_year


class DecisionForm(Form):
    """Approve needs nothing; reject requires a reason the applicant will read."""
    reason = TextAreaField("原因", validators=[Length(max=500, message="原因不超过500字")])


class ApproveVoucherForm(Form):
    """Approving a voucher application: the registered city as the 营业执照 shows it, which sets the voucher's
    region. The route presets it only when the application and the account name the same city."""
    confirmed_city = SelectField("核对营业执照后确认注册地", choices=CITY_CHOICES,
                                 invalid_choice_message="请从江苏省13个设区市中选择注册地")

    def validate_confirmed_city(self, field):
        if not field.data:
            raise ValidationError(CONFIRM_CITY)


class RejectForm(Form):
    reason = TextAreaField("不通过原因", validators=[DataRequired(message="请填写不通过的原因"),
                                                Length(max=500, message="原因不超过500字")])


class DisableAccountForm(Form):
    """停用: the reason goes to the audit log and the account's status, where the user's staff can ask about it."""
    reason = TextAreaField("停用原因", validators=[DataRequired(message="请填写停用原因"),
                                               Length(max=500, message="原因不超过500字")])


class ReturnForm(Form):
    """Return for correction: the reason the enterprise reads, and the fields and files it must correct
    (choices set per application, from marketplace.vouchers.display)."""
    reason = TextAreaField("退回原因", validators=[DataRequired(message="请填写退回修改的原因"),
                                               Length(max=500, message="原因不超过500字")])
    # Rendered as checkboxes grouped by section (templates/admin/partials/voucher_decision.html).
    fields = SelectMultipleField("需要修改的内容", choices=[])


# The national 科技型中小企业评价 began in 2017: no registry exists for earlier years.
FIRST_KEXIAO_YEAR = 2017


class KexiaoImportForm(Form):
    year = IntegerField("年度", validators=[InputRequired(message="请填写名单所属年度")])
    file = FileField("名单文件（Excel或CSV）", validators=[FileRequired(message="请选择要导入的名单文件")])

    def validate_year(self, field):
        latest = current_year() + 1
        if field.data is None:  # typed but not a whole number: IntegerField's own message is already beside it
            return
        if not FIRST_KEXIAO_YEAR <= field.data <= latest:
            raise ValidationError(f"年度应在{FIRST_KEXIAO_YEAR}至{latest}之间")


class CitySettingForm(Form):
    """省地联动 for one city. The ratio is typed as the policy writes it, 省 : 市 (7 : 3)."""
    region_override = SelectField("所属地区", invalid_choice_message="请选择苏南、苏中或苏北")
    identities = SelectMultipleField(
        "享受地方配套的企业类型", choices=choices(policy.ENTERPRISE_IDENTITIES.items()),
        widget=widgets.ListWidget(prefix_label=False), option_widget=widgets.CheckboxInput(),
        invalid_choice_message="不是可选的企业类型：%(value)s")
    province_part = IntegerField("省", validators=[InputRequired(message="请填写比例中省的部分"),
                                                 NumberRange(min=1, max=100, message="省的部分应为1至100的整数")])
    local_part = IntegerField("市", validators=[InputRequired(message="请填写比例中市的部分"),
                                              NumberRange(min=0, max=100, message="市的部分应为0至100的整数")])
    cap = MoneyField("每家企业每年配套上限（元）")
    contact = StringField("咨询联系方式", validators=[Length(max=200, message="联系方式不超过200字")])

    def __init__(self, city: str, **kwargs):
        super().__init__(**kwargs)
        self.region_override.choices = choices(((region, region) for region in policy.REGIONS),
                                               blank=f"按注册地（{policy.region_of(city)}）")

    def validate_cap(self, field):
        if field.data is None and not field.errors:
            raise ValidationError("请填写每年配套上限（元）")
