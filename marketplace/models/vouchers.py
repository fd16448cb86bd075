"""The enterprise's yearly application (申请信息表) and the voucher it yields."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Enterprise, StoredFile
from .base import Base, Timestamped, label


class ApplicationStatus:
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    APPROVED = "approved"
    REJECTED = "rejected"
    LABELS = {DRAFT: "填写中", SUBMITTED: "审核中", RETURNED: "退回修改", APPROVED: "审核通过", REJECTED: "审核不通过"}


class VoucherApplication(Timestamped, Base):
    __tablename__ = "voucher_applications"
    __table_args__ = (UniqueConstraint("enterprise_id", "year"),
                      CheckConstraint("revenue_fen IS NULL OR revenue_fen >= 0", name="revenue_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default=ApplicationStatus.DRAFT, index=True)
    unit_name: Mapped[str] = mapped_column(String(200), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    founded_on: Mapped[date | None] = mapped_column(Date)
    email: Mapped[str] = mapped_column(String(254), default="")
    identity: Mapped[str] = mapped_column(String(20), default="")
    kexiao_number: Mapped[str] = mapped_column(String(40), default="")
    gaoqi_certificate_number: Mapped[str] = mapped_column(String(40), default="")
    gaoqi_valid_until: Mapped[date | None] = mapped_column(Date)
    employees: Mapped[int | None] = mapped_column(Integer)
    phone: Mapped[str] = mapped_column(String(30), default="")
    legal_rep_name: Mapped[str] = mapped_column(String(50), default="")
    legal_rep_mobile: Mapped[str] = mapped_column(String(20), default="")
    legal_rep_id_type: Mapped[str] = mapped_column(String(20), default="id_card")
    legal_rep_id_number: Mapped[str] = mapped_column(String(30), default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Asked so that an out-of-province company is told it is not eligible, rather than never asked.
    registered_province: Mapped[str] = mapped_column(String(20), default="江苏省", server_default="江苏省")
    registered_city: Mapped[str] = mapped_column(String(20), default="")
    registered_district: Mapped[str] = mapped_column(String(50), default="")
    postal_province: Mapped[str] = mapped_column(String(20), default="江苏省")
    postal_city: Mapped[str] = mapped_column(String(20), default="")
    postal_district: Mapped[str] = mapped_column(String(50), default="")
    postal_detail: Mapped[str] = mapped_column(String(300), default="")
    in_hightech_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    hightech_zone_name: Mapped[str] = mapped_column(String(100), default="")
    industry: Mapped[str] = mapped_column(String(100), default="")
    product_field: Mapped[str] = mapped_column(String(100), default="")
    supervising_department: Mapped[str] = mapped_column(String(100), default="")
    revenue_fen: Mapped[int | None] = mapped_column(BigInteger)
    bank_account_name: Mapped[str] = mapped_column(String(200), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_account_number: Mapped[str] = mapped_column(String(40), default="")
    financial_statement_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    identity_proof_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    relation_proof_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    stamped_sheet_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    business_licence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    # The registered city the reviewer confirmed from the licence at approval; it sets the voucher's region.
    confirmed_city: Mapped[str] = mapped_column(String(20), default="", server_default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # Form fields the reviewer asked to correct (comma-separated names), highlighted when the form comes back.
    correction_fields: Mapped[str] = mapped_column(Text, default="", server_default="")

    enterprise: Mapped[Enterprise] = relationship()
    stamped_sheet: Mapped[StoredFile | None] = relationship(foreign_keys=[stamped_sheet_file_id])
    voucher: Mapped[Optional["Voucher"]] = relationship(back_populates="application", uselist=False)

    status_label = label("status", ApplicationStatus.LABELS)


class Voucher(Base):
    """The year's electronic voucher. Its ledger columns can never add up past the total (DB check)."""
    __tablename__ = "vouchers"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "year"),
        CheckConstraint("reserved_fen >= 0 AND approved_fen >= 0 AND disbursed_fen >= 0", name="ledger_not_negative"),
        CheckConstraint("reserved_fen + approved_fen + disbursed_fen <= total_fen", name="within_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("voucher_applications.id"), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    region: Mapped[str] = mapped_column(String(10))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    approved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    disbursed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    valid_until: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(DateTime)

    enterprise: Mapped[Enterprise] = relationship()
    application: Mapped[VoucherApplication] = relationship(back_populates="voucher")

    @property
    def remaining_fen(self) -> int:
        return self.total_fen - self.reserved_fen - self.approved_fen - self.disbursed_fen


class KexiaoEntry(Base):
    """科技型中小企业 registry rows imported by the reviewer; matched to applications by number."""
    __tablename__ = "kexiao_registry"
    __table_args__ = (UniqueConstraint("year", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), index=True)
