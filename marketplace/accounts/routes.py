import unicodedata
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit, locks, policy, validators
from ..extensions import db
from ..models import AccountStatus, Enterprise, Provider, Role, ShopStatus, User, utcnow
from ..workbench.desks import desk_of
from . import bp, sessions, throttle
from .access import roles_required
from .forms import LoginForm, PasswordChangeForm, RegisterForm, email_key

# Control characters, invisible formatting (e.g. right-to-left overrides) and line/paragraph separators.
UNSAFE_IN_NEXT = {"Cc", "Cf", "Zl", "Zp"}


def safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect a user off the platform (//host, and /\\host, which browsers read as
    //host), nor put a control character (CR/LF would split the Location header) into the answer."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(unicodedata.category(char) in UNSAFE_IN_NEXT for char in target):
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for(desk_of(current_user).endpoint))
    form = RegisterForm()
    if not form.is_submitted() and request.args.get("type") in Role.SELF_SERVICE:
        form.account_type.data = request.args["type"]
    if form.is_submitted():
        _hold_identities(form)
    if not form.validate_on_submit():
        return render_template("accounts/register.html", form=form), 422 if form.is_submitted() else 200
    user = _create_account(form)
    db.session.commit()
    sessions.sign_in(user, remember=False)
    flash("注册成功！账号正在等待省统筹中心审核（通常1-2个工作日），审核前可以浏览，不能下单或申领。", "success")
    return redirect(url_for("workbench.home"), 303)


def _hold_identities(form: RegisterForm) -> None:
    """The form checks that the email and credit code are new: twenty sign-ups at once with the same ones queue
    here, so the second one sees the first's account and is told so next to the field, instead of a 500."""
    email = email_key(form.email.data)
    code = validators.normalize_credit_code(form.credit_code.data or "")
    locks.hold(f"register-email:{email}", *([f"register-code:{code}"] if code else []))


def _create_account(form: RegisterForm) -> User:
    role = form.account_type.data
    user = User(email=email_key(form.email.data), phone=form.phone.data.strip(), name=form.name.data.strip(),
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
    email, ip = email_key(form.email.data), request.remote_addr or "-"
    throttle.take_turn(email, ip)
    if throttle.is_locked(email, ip):
        form.email.errors.append(f"登录失败次数过多，{throttle.wait_message()}")
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
    sessions.sign_in(user, remember=form.remember.data)
    return redirect(safe_next(form.next.data) or url_for(desk_of(user).endpoint), 303)


@bp.post("/logout")
def logout():
    """Ends every session and remember-me cookie of the account, not only this browser's: a cookie copied
    before logout must not outlive it."""
    if current_user.is_authenticated:
        _end_every_session(current_user, "logout")
    _forget_this_browser()
    flash("您已退出登录，所有设备上的登录均已失效", "info")
    return redirect(url_for("catalog.home"), 303)


@bp.post("/sessions/end")
@roles_required(approved=False)
def end_all_sessions():
    """退出所有设备: for a lost phone or a shared computer, including this browser."""
    _end_every_session(current_user, "end_all_sessions")
    _forget_this_browser()
    flash("已退出所有设备上的登录，请重新登录", "success")
    return redirect(url_for("accounts.login"), 303)


def _end_every_session(user: User, action: str) -> None:
    sessions.end_everywhere(user)
    audit.record("user", user.id, action, actor_id=user.id)
    db.session.commit()


def _forget_this_browser() -> None:
    """A fresh session, and the remember-me cookie deleted (logout_user asks for that in the emptied session)."""
    session.clear()
    logout_user()


@bp.route("/password", methods=["GET", "POST"])
@roles_required(approved=False)
def password():
    """账号安全: change the password (ends every other session; this one stays signed in under the new
    version) and 退出所有设备."""
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _security_page(form, 422 if form.is_submitted() else 200)
    user, ip = current_user._get_current_object(), request.remote_addr or "-"
    email = email_key(user.email)
    throttle.take_turn(email, ip)
    if not _still_signed_in(user):
        return _signed_out_meanwhile()
    if throttle.is_locked(email, ip):
        form.fail(form.current_password, f"密码错误次数过多，{throttle.wait_message()}")
        return _security_page(form, 429)
    if not check_password_hash(user.password_hash, form.current_password.data):
        throttle.record_failure(email, ip)
        form.fail(form.current_password, "当前密码不正确")
        return _security_page(form, 422)
    user.password_hash = generate_password_hash(form.password.data)
    _end_every_session(user, "change_password")
    sessions.sign_in(user, remember=sessions.remembered())
    flash("密码已修改，其他设备上的登录已全部退出", "success")
    return redirect(url_for("accounts.password"), 303)


def _still_signed_in(user: User) -> bool:
    """The account as the database has it now, row-locked until this change commits: a change, logout or
    suspension that committed while this request waited its turn has ended this session, and its password check
    must not run against the hash read before."""
    version = user.session_version
    db.session.scalar(select(User).where(User.id == user.id).with_for_update()
                      .execution_options(populate_existing=True))
    return user.session_version == version and user.status != AccountStatus.DISABLED


def _signed_out_meanwhile():
    db.session.rollback()
    _forget_this_browser()
    flash("您的登录已在其他地方失效（密码已修改或已退出），请重新登录", "info")
    return redirect(url_for("accounts.login"), 303)


def _security_page(form: PasswordChangeForm, status: int):
    return render_template("accounts/security.html", form=form), status
