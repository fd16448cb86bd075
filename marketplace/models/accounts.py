"""People and the organisations they act for."""
from datetime import date, datetime
from typing import TYPE_CHECKING, Optional

from flask_login import UserMixin
from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamped, label, utcnow

if TYPE_CHECKING:
    from .catalog import Provider


class Role:
    ENTERPRISE = "enterprise"
    PROVIDER = "provider"
    INDIVIDUAL = "individual"
    REVIEWER = "reviewer"
    LABELS = {ENTERPRISE: "企业", PROVIDER: "服务单位", INDIVIDUAL: "个人买家", REVIEWER: "审核员"}
    SELF_SERVICE = (ENTERPRISE, PROVIDER, INDIVIDUAL)


class AccountStatus:
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"
    DISABLED = "disabled"
    LABELS = {PENDING: "待审核", ACTIVE: "已通过", REJECTED: "未通过", DISABLED: "已停用"}


class User(UserMixin, Timestamped, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), default=AccountStatus.PENDING, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped on password change / forced logout: sessions carry it and stale ones are refused.
    session_version: Mapped[int] = mapped_column(Integer, default=1)

    enterprise: Mapped[Optional["Enterprise"]] = relationship(back_populates="user", uselist=False)
    provider: Mapped[Optional["Provider"]] = relationship(back_populates="user", uselist=False)

    # "<unix seconds>.<random>" chosen at each sign-in (marketplace/accounts/sessions.py), not stored: it makes every
    # sign-in's session and remember-me cookie different and dates it. load_user checks the id, session_version and
    # the sign-in's age.
    sign_in_nonce = ""

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}:{self.sign_in_nonce}"

    @property
    def is_approved(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    @property
    def is_reviewer(self) -> bool:
        return self.role == Role.REVIEWER and self.is_approved

    role_label = label("role", Role.LABELS)

    status_label = label("status", AccountStatus.LABELS)


class Enterprise(Timestamped, Base):
    """The buying company; yearly voucher applications snapshot its details."""
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    city: Mapped[str] = mapped_column(String(20))
    district: Mapped[str | None] = mapped_column(String(50))
    founded_on: Mapped[date | None] = mapped_column(Date)
    legal_rep_name: Mapped[str | None] = mapped_column(String(50))
    legal_rep_id_type: Mapped[str | None] = mapped_column(String(20))
    legal_rep_id_number: Mapped[str | None] = mapped_column(String(30), index=True)
    kexiao_number: Mapped[str | None] = mapped_column(String(40))

    user: Mapped[User] = relationship(back_populates="enterprise")


class LoginAttempt(Base):
    """Failed sign-ins, kept in the database so throttling holds across workers."""
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_ip_at", "email", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SmsCode(Base):
    __tablename__ = "sms_codes"
    __table_args__ = (Index("ix_sms_codes_phone_purpose", "phone", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class StoredFile(Base):
    """An upload checked by content and kept under a random name outside static/."""
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditLog(Base):
    """Append-only record of every state change: who, when, what, from → to, why."""
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(60))
    from_state: Mapped[str | None] = mapped_column(String(40))
    to_state: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship()
