"""Claims (兑付) with their materials, review batches, publicity, objections and payments."""
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Enterprise, StoredFile
from .base import Base, Timestamped, label, utcnow
from .orders import Order
from .vouchers import Voucher


class RedemptionStatus:
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CORRECTION = "correction"
    APPROVED = "approved"        # passed review, waiting for publicity
    PUBLICITY = "publicity"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    REJECTED = "rejected"
    LABELS = {DRAFT: "暂存", SUBMITTED: "审核中", CORRECTION: "待补正", APPROVED: "审核通过",
              PUBLICITY: "公示中", AWAITING_PAYMENT: "待兑付", PAID: "已兑付", REJECTED: "审核不通过"}


class ReviewBatch(Base):
    """专家集中审核: the experts recorded as reviewers of a set of claims."""
    __tablename__ = "review_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    experts: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PublicityBatch(Base):
    """公示: approved claims (or third-party shop applications) shown publicly for a period."""
    __tablename__ = "publicity_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "redemption" | "shop"
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def days(self) -> int:
        """How long the period is, counting its first and last days (what the public page says)."""
        return (self.ends_on - self.starts_on).days + 1


class PaymentBatch(Base):
    __tablename__ = "payment_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    paid_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Redemption(Timestamped, Base):
    """One claim: online (from an order) or offline (provider not on the platform)."""
    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("requested_fen >= 0 AND approved_fen >= 0 AND local_match_fen >= 0",
                        name="amounts_not_negative"),
        CheckConstraint("approved_fen <= requested_fen", name="approved_within_requested"),
        CheckConstraint("eligible_fee_fen IS NULL OR eligible_fee_fen > 0", name="eligible_fee_positive"),
        Index("ix_redemptions_enterprise_status", "enterprise_id", "status"),
        # An order has at most one live claim: twenty 上传服务信息 at once must not open twenty (issue 15). Only a
        # rejected claim is over; a later one may follow it (abandoned drafts are deleted, not kept).
        Index("uq_redemptions_live_order", "order_id", unique=True,
              postgresql_where=text("status <> 'rejected'"), sqlite_where=text("status <> 'rejected'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "online" | "offline"
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    voucher_id: Mapped[int | None] = mapped_column(ForeignKey("vouchers.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=RedemptionStatus.DRAFT, index=True)
    contract_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    # 可兑付服务费: the part of a mixed contract the voucher may pay for (e.g. the testing in a development
    # contract, agreed in a 补充协议); NULL: the whole contract.
    eligible_fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    eligible_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    requested_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    local_match_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Offline claims name a provider that is not on the platform.
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    provider_credit_code: Mapped[str] = mapped_column(String(18), default="")
    provider_contact: Mapped[str] = mapped_column(String(50), default="")
    provider_phone: Mapped[str] = mapped_column(String(30), default="")
    provider_unit_type: Mapped[str] = mapped_column(String(40), default="")
    qualification_kind: Mapped[str] = mapped_column(String(20), default="")
    qualification_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    qualification_expires_on: Mapped[date | None] = mapped_column(Date)
    # SPEC 1.5 declarations the enterprise ticks; stored with the time they were made.
    declared_at: Mapped[datetime | None] = mapped_column(DateTime)
    declarations: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    provider_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # A pilot provider's 确认材料 on a flagged claim sends it to the reviewer instead; this says why.
    referral_reason: Mapped[str | None] = mapped_column(Text)
    review_batch_id: Mapped[int | None] = mapped_column(ForeignKey("review_batches.id"))
    publicity_batch_id: Mapped[int | None] = mapped_column(ForeignKey("publicity_batches.id"), index=True)
    payment_batch_id: Mapped[int | None] = mapped_column(ForeignKey("payment_batches.id"), index=True)

    order: Mapped[Order | None] = relationship()
    enterprise: Mapped[Enterprise] = relationship()
    voucher: Mapped[Voucher | None] = relationship()
    materials: Mapped[list["Material"]] = relationship(order_by="Material.id", cascade="all, delete-orphan")
    invoices: Mapped[list["Invoice"]] = relationship(order_by="Invoice.id", cascade="all, delete-orphan")
    receipts: Mapped[list["BankReceipt"]] = relationship(order_by="BankReceipt.id", cascade="all, delete-orphan")
    service_lines: Mapped[list["RedemptionServiceLine"]] = relationship(order_by="RedemptionServiceLine.position",
                                                                        cascade="all, delete-orphan")

    status_label = label("status", RedemptionStatus.LABELS)


class MaterialKind:
    LABELS = {"contract": "合同", "supplement": "补充协议", "report": "服务完成证明/检验检测报告",
              "rnd_proof": "研发活动证明", "other": "其他材料"}


class Material(Base):
    __tablename__ = "materials"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"))
    correction_note: Mapped[str | None] = mapped_column(Text)

    file: Mapped[StoredFile] = relationship()


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(40), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    correction_note: Mapped[str | None] = mapped_column(Text)

    file: Mapped[StoredFile | None] = relationship()


class BankReceipt(Base):
    __tablename__ = "bank_receipts"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="CASCADE"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    correction_note: Mapped[str | None] = mapped_column(Text)

    file: Mapped[StoredFile | None] = relationship()


class RedemptionServiceLine(Base):
    """服务明细 of an offline claim: a service name or the instrument that provided it."""
    __tablename__ = "redemption_service_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    service_name: Mapped[str] = mapped_column(String(200), default="")
    instrument_name: Mapped[str] = mapped_column(String(200), default="")


class Objection(Base):
    """异议 lodged during publicity; an open one pauses its claim (or shop application). An account keeps at most one
    open objection on a claim (and lodges at most policy.OBJECTIONS_PER_DAY a day, counted by created_at)."""
    __tablename__ = "objections"
    __table_args__ = (
        Index("uq_objections_open_claim_user", "redemption_id", "user_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_objections_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    redemption_id: Mapped[int | None] = mapped_column(ForeignKey("redemptions.id"), index=True)
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("providers.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


OBJECTION_LABELS = {"open": "待处理", "dismissed": "异议不成立", "upheld": "异议成立"}
