"""Providers (shops), their instruments and services, and the field/category reference data."""
import re
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from .accounts import StoredFile, User
from .base import Base, Timestamped, label


class ShopStatus:
    DRAFT = "draft"
    PENDING = "pending"
    PUBLICITY = "publicity"
    OPEN = "open"
    REJECTED = "rejected"
    REMOVED = "removed"
    LABELS = {DRAFT: "未提交", PENDING: "审核中", PUBLICITY: "公示中", OPEN: "已开店",
              REJECTED: "审核不通过", REMOVED: "已退出"}


class UnitType:
    """服务单位类型; the first group may enter directly, third-party labs apply."""
    LABELS = {
        "university": "在苏部省属高等学校",
        "institute": "在苏部省属科研院所",
        "platform_member": "入驻国家/省级开放共享平台的高校院所",
        "regional_platform_member": "入驻长三角或市级开放共享平台的高校院所",
        "soe": "国有企业",
        "public_institution": "事业单位",
        "new_rnd": "市级以上新型研发机构",
        "public_platform": "科技公共服务平台",
        "third_party": "第三方检测机构及其他单位",
    }
    DIRECT = frozenset(LABELS) - {"third_party"}
    NO_QUALIFICATION_NEEDED = frozenset({"university", "institute", "platform_member",
                                         "regional_platform_member", "soe", "public_institution"})


class Provider(Timestamped, Base):
    """A 服务单位 and its shop (开店申请 fields of SPEC 3.1)."""
    __tablename__ = "providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    unit_type: Mapped[str] = mapped_column(String(40))
    is_new_rnd: Mapped[bool] = mapped_column(Boolean, default=False)
    intro: Mapped[str] = mapped_column(Text, default="")
    registered_address: Mapped[str] = mapped_column(String(300), default="")
    founded_on: Mapped[date | None] = mapped_column(Date)
    has_website: Mapped[bool] = mapped_column(Boolean, default=False)
    website: Mapped[str | None] = mapped_column(String(300))
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    postal_province: Mapped[str] = mapped_column(String(20), default="江苏省")
    city: Mapped[str] = mapped_column(String(20), index=True)
    district: Mapped[str] = mapped_column(String(50), default="")
    address_detail: Mapped[str] = mapped_column(String(300), default="")
    legal_rep_name: Mapped[str] = mapped_column(String(50), default="")
    legal_rep_phone: Mapped[str] = mapped_column(String(20), default="")
    legal_rep_id_type: Mapped[str] = mapped_column(String(20), default="id_card")
    legal_rep_id_number: Mapped[str] = mapped_column(String(30), default="", index=True)
    bank_account_name: Mapped[str] = mapped_column(String(200), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bank_branch_code: Mapped[str] = mapped_column(String(12), default="")
    bank_account_number: Mapped[str] = mapped_column(String(40), default="")
    last_year_revenue_fen: Mapped[int | None] = mapped_column(BigInteger)
    last_year_tax_fen: Mapped[int | None] = mapped_column(BigInteger)
    last_year_net_profit_fen: Mapped[int | None] = mapped_column(BigInteger)
    qualification_kind: Mapped[str | None] = mapped_column(String(20))
    qualification_expires_on: Mapped[date | None] = mapped_column(Date)
    licence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    tax_certificate_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    rnd_approval_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    qualification_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    logo_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ShopStatus.DRAFT, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime)
    publicity_batch_id: Mapped[int | None] = mapped_column(ForeignKey("publicity_batches.id"))
    is_pilot: Mapped[bool] = mapped_column(Boolean, default=False)
    auto_accept: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User | None] = relationship(back_populates="provider")
    services: WriteOnlyMapped["Service"] = relationship(back_populates="provider")
    instruments: WriteOnlyMapped["Instrument"] = relationship(back_populates="provider")

    @property
    def is_open(self) -> bool:
        return self.status == ShopStatus.OPEN

    @property
    def is_direct(self) -> bool:
        return self.unit_type in UnitType.DIRECT

    status_label = label("status", ShopStatus.LABELS)

    @property
    def address(self) -> str:
        return f"{self.postal_province}{self.city}市{self.district}{self.address_detail}"


class Field(Base):
    """服务领域 (reference data, editable by reviewers)."""
    __tablename__ = "fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Category(Base):
    """服务类别, two levels; `voucher_excluded` marks kinds the voucher never pays for (SPEC 1.5)."""
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    position: Mapped[int] = mapped_column(Integer, default=0)
    voucher_excluded: Mapped[bool] = mapped_column(Boolean, default=False)

    parent: Mapped[Optional["Category"]] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent", order_by="Category.position")


KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；]+")


class NonEligibleKind(Base):
    """不支持的服务类型 (SPEC 1.5 item 1), kept by reviewers: a service whose name or description contains the
    kind's name or one of its keywords cannot carry the 创新券 mark."""
    __tablename__ = "non_eligible_kinds"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    keywords: Mapped[str] = mapped_column(String(500), default="")  # separated by spaces, commas or 、
    position: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def terms(self) -> list[str]:
        """The name and the keywords, lower-cased (latin keywords such as CCC match in any case)."""
        words = [self.name, *KEYWORD_SEPARATORS.split(self.keywords or "")]
        return list(dict.fromkeys(word.strip().lower() for word in words if word.strip()))

    def matches(self, *texts: str) -> bool:
        haystack = "\n".join(texts).lower()
        return any(term in haystack for term in self.terms)


class InstrumentStatus:
    AVAILABLE = "available"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"
    LABELS = {AVAILABLE: "可预约", MAINTENANCE: "维护中", RETIRED: "已停用"}


class Instrument(Timestamped, Base):
    __tablename__ = "instruments"
    __table_args__ = (CheckConstraint("original_value_fen >= 0", name="value_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    manufacturer: Mapped[str] = mapped_column(String(200), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    original_value_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    status: Mapped[str] = mapped_column(String(20), default=InstrumentStatus.AVAILABLE)
    description: Mapped[str] = mapped_column(Text, default="")

    status_label = label("status", InstrumentStatus.LABELS)

    provider: Mapped[Provider] = relationship(back_populates="instruments")
    field: Mapped[Field | None] = relationship()
    images: Mapped[list["InstrumentImage"]] = relationship(order_by="InstrumentImage.position",
                                                           cascade="all, delete-orphan")


class InstrumentImage(Base):
    __tablename__ = "instrument_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    file: Mapped[StoredFile] = relationship()


class ServiceStatus:
    DRAFT = "draft"
    PENDING = "pending"
    LISTED = "listed"
    REJECTED = "rejected"
    DELISTED = "delisted"
    LABELS = {DRAFT: "草稿", PENDING: "上架审核中", LISTED: "上架审核通过", REJECTED: "审核不通过", DELISTED: "已下架"}


class ServiceNature:
    LABELS = {"instrument_sharing": "仪器共享服务", "testing": "检验检测服务", "rnd": "技术研发服务"}


PRICE_UNITS = ("元/样品", "元/小时", "元/次", "元/天", "元/项", "元/批", "元/机时")

service_fields = Table(
    "service_fields", Base.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
)


class Service(Timestamped, Base):
    """A listing (添加服务信息, SPEC 3.2). `price_fen` is NULL for 面议 (negotiable)."""
    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("price_fen IS NULL OR price_fen >= 0", name="price_not_negative"),
        Index("ix_services_status_published", "status", "published_at"),
        Index("ix_services_status_price", "status", "price_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    nature: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[int | None] = mapped_column(ForeignKey("instruments.id"), index=True)
    description: Mapped[str] = mapped_column(String(400))
    service_type: Mapped[str] = mapped_column(String(30), default="普通服务")
    cycle: Mapped[str] = mapped_column(String(50), default="")
    has_qualification: Mapped[bool] = mapped_column(Boolean, default=False)
    display_image_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    price_fen: Mapped[int | None] = mapped_column(BigInteger)
    price_unit: Mapped[str] = mapped_column(String(20), default="元/样品")
    tags: Mapped[str] = mapped_column(String(200), default="")
    qualification_desc: Mapped[str] = mapped_column(Text, default="")
    standards: Mapped[str] = mapped_column(Text, default="")
    sample_requirements: Mapped[str] = mapped_column(Text, default="")
    voucher_eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=ServiceStatus.DRAFT)
    status_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)
    # CJK bigram + latin word tokens, indexed by FTS5 (SQLite) or a tsvector GIN index (PostgreSQL).
    search_tokens: Mapped[str] = mapped_column(Text, default="")

    provider: Mapped[Provider] = relationship(back_populates="services")
    instrument: Mapped[Instrument | None] = relationship()
    category: Mapped[Category | None] = relationship()
    display_image: Mapped[StoredFile | None] = relationship()
    fields: Mapped[list[Field]] = relationship(secondary=service_fields, order_by=Field.position)
    images: Mapped[list["ServiceImage"]] = relationship(order_by="ServiceImage.position",
                                                        cascade="all, delete-orphan")

    @property
    def negotiable(self) -> bool:
        return self.price_fen is None

    @property
    def is_listed(self) -> bool:
        return self.status == ServiceStatus.LISTED

    @property
    def review_free(self) -> bool:
        """免审: a claim on it needs only the provider's confirmation, for a voucher service of a 服务承诺制 pilot."""
        return self.voucher_eligible and self.provider.is_pilot

    status_label = label("status", ServiceStatus.LABELS)

    nature_label = label("nature", ServiceNature.LABELS)


class ServiceImage(Base):
    """仪器图片 of a listing, at most five."""
    __tablename__ = "service_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_files.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    file: Mapped[StoredFile] = relationship()


class InstrumentBooking(Base):
    """A time slot on an instrument's calendar, booked for an hourly service order."""
    __tablename__ = "instrument_bookings"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),
                      Index("ix_instrument_bookings_slot", "instrument_id", "starts_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instruments.id"))
    order_item_id: Mapped[int | None] = mapped_column(ForeignKey("order_items.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="held")
