from sqlalchemy import func, select
from wtforms import BooleanField, HiddenField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, ValidationError

from .. import policy, validators
from ..extensions import db
from ..forms import Form, choices, problem_check
from ..models import Enterprise, Provider, Role, UnitType, User

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="邮箱格式不正确")
EMAIL_MAX = 254  # users.email and login_attempts.email


def email_key(text: str | None) -> str:
    """An email as accounts and the login throttle store and compare it: trimmed, in lower case."""
    return (text or "").strip().lower()


def email_fits(_form, field) -> None:
    """The stored (lower-cased) form must fit the column: lower() can lengthen text ("İ" becomes two characters),
    and PostgreSQL refuses, with a 500, what a varchar cannot hold."""
    if len(email_key(field.data)) > EMAIL_MAX:
        raise ValidationError(f"邮箱不超过{EMAIL_MAX}个字符")


PASSWORD_RULES = [Length(min=8, max=128, message="密码长度为8-128位")]
CONFIRM_RULES = [EqualTo("password", message="两次输入的密码不一致")]


class RegisterForm(Form):
    account_type = RadioField("账号类型", default=Role.ENTERPRISE,
                              choices=choices((r, Role.LABELS[r]) for r in Role.SELF_SERVICE),
                              validators=[DataRequired(message="请选择账号类型")])
    email = StringField("登录邮箱", validators=[DataRequired(message="请填写邮箱"), email_fits, EMAIL])
    phone = StringField("手机号码", validators=[DataRequired(message="请填写手机号码"),
                                            problem_check(validators.mobile_problem)])
    name = StringField("联系人姓名", validators=[DataRequired(message="请填写联系人姓名"),
                                                Length(max=50, message="联系人姓名不超过50字")])
    password = PasswordField("密码", validators=[DataRequired(message="请设置密码"), *PASSWORD_RULES])
    confirm = PasswordField("确认密码", validators=[DataRequired(message="请再次输入密码"), *CONFIRM_RULES])
    org_name = StringField("单位名称", validators=[Optional(), Length(max=200, message="单位名称不超过200字")])
    credit_code = StringField("统一社会信用代码", validators=[Optional(),
                                                        problem_check(validators.credit_code_problem)])
    city = SelectField("注册地（设区市）", choices=choices(((c, c + "市") for c in policy.CITIES), "请选择"),
                       validators=[Optional()])
    unit_type = SelectField("服务单位类型", choices=choices(UnitType.LABELS.items(), "请选择"),
                            validators=[Optional()])

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.account_type.data in (Role.ENTERPRISE, Role.PROVIDER):
            valid &= self._require(self.org_name, "请填写单位名称")
            valid &= self._require(self.credit_code, "请填写统一社会信用代码")
            valid &= self._require(self.city, "请选择注册地")
        if self.account_type.data == Role.PROVIDER:
            valid &= self._require(self.unit_type, "请选择服务单位类型")
        valid &= self._unique_email() & self._unique_credit_code()
        return bool(valid)

    @staticmethod
    def _require(field, message: str) -> bool:
        if (field.data or "").strip():
            return True
        field.errors = [*field.errors, message]
        return False

    def _unique_email(self) -> bool:
        email = email_key(self.email.data)
        if email and db.session.scalar(select(User.id).where(func.lower(User.email) == email)):
            self.email.errors = [*self.email.errors, "该邮箱已注册，请直接登录"]
            return False
        return True

    def _unique_credit_code(self) -> bool:
        if not self.credit_code.data or self.credit_code.errors:
            return True
        code = validators.normalize_credit_code(self.credit_code.data)
        model = Provider if self.account_type.data == Role.PROVIDER else Enterprise
        if db.session.scalar(select(model.id).where(model.credit_code == code)):
            self.credit_code.errors = [*self.credit_code.errors, "该统一社会信用代码已注册"]
            return False
        return True


class LoginForm(Form):
    email = StringField("邮箱", validators=[DataRequired(message="请填写邮箱"), email_fits])
    password = PasswordField("密码", validators=[DataRequired(message="请填写密码")])
    remember = BooleanField("记住我")
    next = HiddenField()


class PasswordChangeForm(Form):
    """修改密码: the current password (someone at an unlocked screen must not change it), and the new one twice,
    under the rules of registration."""
    current_password = PasswordField("当前密码", validators=[DataRequired(message="请填写当前密码")])
    password = PasswordField("新密码", validators=[DataRequired(message="请设置新密码"), *PASSWORD_RULES])
    confirm = PasswordField("确认新密码", validators=[DataRequired(message="请再次输入新密码"), *CONFIRM_RULES])
