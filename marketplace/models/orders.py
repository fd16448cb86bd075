"""Carts, orders with their timeline, messages, ratings, complaints, and enterprise needs."""
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Enterprise, User
from .base import Base, Timestamped, label, utcnow
from .catalog import Provider, Service


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    lines: Mapped[list["CartLine"]] = relationship(order_by="CartLine.id", cascade="all, delete-orphan")


class CartLine(Base):
    __tablename__ = "cart_lines"
    __table_args__ = (UniqueConstraint("cart_id", "service_id"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    service: Mapped[Service] = relationship()


class OrderStatus:
    PENDING = "pending"            # 待接单 (订单沟通中)
    IN_SERVICE = "in_service"      # 服务中
    REVIEWING = "reviewing"        # 审核中 (redemption submitted)
    CORRECTION = "correction"      # 待补正
    AWAITING_PAYMENT = "awaiting_payment"  # 待兑付 (approved, publicity passed)
    PAID = "paid"                  # 已兑付
    COMPLETED = "completed"        # 订单完成 (non-voucher orders, or finished without a claim)
    WITHDRAWN = "withdrawn"        # 买家撤回
    DECLINED = "declined"          # 卖家拒绝
    EXPIRED = "expired"            # 订单失效
    CANCELLED = "cancelled"        # 双方同意取消 (after acceptance)
    CLOSED = "closed"              # 平台关闭 (a reviewer ended a stuck order)
    LABELS = {PENDING: "已下单待接单", IN_SERVICE: "已接单服务中", REVIEWING: "审核中", CORRECTION: "待补正",
              AWAITING_PAYMENT: "待兑付", PAID: "已兑付", COMPLETED: "订单完成", WITHDRAWN: "已撤回",
              DECLINED: "已拒绝", EXPIRED: "订单失效", CANCELLED: "已取消", CLOSED: "平台已关闭"}
    INACTIVE = frozenset({WITHDRAWN, DECLINED, EXPIRED, CANCELLED, CLOSED})


# Who may ask to cancel an order in service (Order.cancel_requested_by), as the pages name them.
CANCEL_SIDES = {"buyer": "买家", "provider": "服务单位"}


class OrderNumberCounter(Base):
    """Daily sequence per prefix; incremented in the database so concurrent checkouts never collide."""
    __tablename__ = "order_number_counters"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Order(Timestamped, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("quote_fen IS NULL OR quote_fen >= 0", name="quote_not_negative"),
        CheckConstraint("estimated_voucher_fen >= 0", name="estimate_not_negative"),
        CheckConstraint("final_amount_fen IS NULL OR final_amount_fen > 0", name="final_amount_positive"),
        Index("ix_orders_buyer_status", "buyer_id", "status"),
        Index("ix_orders_provider_status", "provider_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(20), unique=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    is_voucher: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PENDING)
    contact_name: Mapped[str] = mapped_column(String(50))
    contact_phone: Mapped[str] = mapped_column(String(30))
    quote_fen: Mapped[int | None] = mapped_column(BigInteger)  # 线上报价; NULL while negotiating
    estimated_voucher_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # 拟兑创新券
    note: Mapped[str] = mapped_column(Text, default="")
    status_reason: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    auto_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    # 实际服务金额: what the provider confirms with 服务完成; a claim on the order can never be worth more.
    final_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    final_amount_note: Mapped[str | None] = mapped_column(Text)  # why it differs from quote_fen
    # 申请取消 after acceptance: who asked ("buyer" | "provider"), when and why; the other side agrees or refuses.
    cancel_requested_by: Mapped[str | None] = mapped_column(String(10))
    cancel_requested_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    buyer: Mapped[User] = relationship(foreign_keys=[buyer_id])
    enterprise: Mapped[Enterprise | None] = relationship()
    provider: Mapped[Provider] = relationship()
    items: Mapped[list["OrderItem"]] = relationship(order_by="OrderItem.id", cascade="all, delete-orphan")
    events: Mapped[list["OrderEvent"]] = relationship(order_by="OrderEvent.at", cascade="all, delete-orphan")

    status_label = label("status", OrderStatus.LABELS)
    cancel_requester_label = label("cancel_requested_by", CANCEL_SIDES)

    @hybrid_property
    def cancel_pending(self) -> bool:
        """A 申请取消 waits for the other side's answer (only an order in service can be cancelled)."""
        return self.status == OrderStatus.IN_SERVICE and self.cancel_requested_by is not None

    @cancel_pending.inplace.expression
    @classmethod
    def _cancel_pending_where(cls):
        return and_(cls.status == OrderStatus.IN_SERVICE, cls.cancel_requested_by.is_not(None))


class OrderItem(Base):
    """A line of an order with the listing's name and price frozen at checkout."""
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    service_name: Mapped[str] = mapped_column(String(200))
    instrument_name: Mapped[str] = mapped_column(String(200), default="")
    unit_price_fen: Mapped[int | None] = mapped_column(BigInteger)  # NULL = 面议
    price_unit: Mapped[str] = mapped_column(String(20), default="元/样品")
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    service: Mapped[Service | None] = relationship()


class OrderEvent(Base):
    """One step of the order timeline (买家下单 → 卖家接单并服务 → 买家申请兑付 → 平台审核完成 → 兑付完成)."""
    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(Text, default="")


class Message(Base):
    """和我联系: the thread between buyer and provider on one order."""
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_order_at", "order_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)


class Rating(Base):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Complaint(Base):
    """投诉 of a buyer about an order. An account keeps at most one open complaint on an order (and files at most
    policy.COMPLAINTS_PER_DAY a day, counted by created_at)."""
    __tablename__ = "complaints"
    __table_args__ = (
        Index("uq_complaints_open_order_user", "order_id", "user_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        Index("ix_complaints_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")
    resolution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)


COMPLAINT_LABELS = {"open": "待处理", "resolved": "已处理"}


class Demand(Timestamped, Base):
    """我的需求: an enterprise describes what it needs; providers answer with quotes."""
    __tablename__ = "demands"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="open")
    closes_on: Mapped[date | None] = mapped_column(Date)


class DemandQuote(Base):
    __tablename__ = "demand_quotes"
    __table_args__ = (UniqueConstraint("demand_id", "provider_id"),
                      CheckConstraint("amount_fen >= 0", name="amount_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(ForeignKey("demands.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("providers.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="offered")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
