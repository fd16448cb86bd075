from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, policy, validators
from ..extensions import db
from ..models import AccountStatus, Enterprise, Provider, Role, ShopStatus, User, utcnow
from . import bp, throttle
from . import access  # noqa: F401  (registers the user loader)
from .forms import LoginForm, RegisterForm


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: never redirect a user off the platform."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("workbench.home"))
    form = RegisterForm()
    if not form.is_submitted() and request.args.get("type") in Role.SELF_SERVICE:
        form.account_type.data = request.args["type"]
    if not form.validate_on_submit():
        return render_template("accounts/register.html", form=form), 422 if form.is_submitted() else 200
    user = _create_account(form)
    db.session.commit()
    _start_session(user, remember=False)
    flash("注册成功！账号正在等待省统筹中心审核（通常1-2个工作日），审核前可以浏览，不能下单或申领。", "success")
    return redirect(url_for("workbench.home"), 303)


def _create_account(form: RegisterForm) -> User:
    role = form.account_type.data
    user = User(email=form.email.data.strip().lower(), phone=form.phone.data.strip(), name=form.name.data.strip(),
                password_hash=generate_password_hash(form.password.data), role=role,
                status=AccountStatus.PENDING)
    db.session.add(user)
    code = validators.normalize_credit_code(form.credit_code.data or "")
    if role == Role.ENTERPRISE:
        db.session.add(Enterprise(user=user, name=form.org_name.data.strip(), credit_code=code,
                                  city=policy.normalize_city(form.city.data)))
    elif role == Role.PROVIDER:
        db.session.add(Provider(user=user, name=form.org_name.data.strip(), credit_code=code,
                                unit_type=form.unit_type.data, city=policy.normalize_city(form.city.data),
                                contact_name=user.name, contact_phone=user.phone, status=ShopStatus.DRAFT))
    db.session.flush()
    audit.record("user", user.id, "register", None, AccountStatus.PENDING, actor_id=user.id)
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form), 422 if form.is_submitted() else 200
    email, ip = form.email.data.strip().lower(), request.remote_addr or "-"
    if throttle.is_locked(email, ip):
        form.email.errors.append("登录失败次数过多，请15分钟后再试")
        return render_template("accounts/login.html", form=form), 429
    user = db.session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None or not check_password_hash(user.password_hash, form.password.data):
        throttle.record_failure(email, ip)
        form.password.errors.append("邮箱或密码不正确")
        return render_template("accounts/login.html", form=form), 422
    if user.status == AccountStatus.DISABLED:
        form.email.errors.append("该账号已停用，请联系省统筹中心")
        return render_template("accounts/login.html", form=form), 422
    throttle.clear(email, ip)
    user.last_login_at = utcnow()
    db.session.commit()
    _start_session(user, remember=form.remember.data)
    return redirect(safe_next(form.next.data) or url_for("workbench.home"), 303)


def _start_session(user: User, remember: bool) -> None:
    session.clear()  # a fresh session on sign-in: nothing from before survives (fixation)
    login_user(user, remember=remember)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("您已退出登录", "info")
    return redirect(url_for("catalog.home"), 303)
