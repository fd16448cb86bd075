"""All tables, split by product area; importing this module registers every one on Base.metadata."""
from .accounts import AccountStatus, AuditLog, Enterprise, LoginAttempt, Role, SmsCode, StoredFile, User
from .base import CHINA, Base, china_today, utcnow
from .catalog import (
                      PRICE_UNITS,
                      Category,
                      Field,
                      Instrument,
                      InstrumentBooking,
                      InstrumentImage,
                      InstrumentStatus,
                      NonEligibleKind,
                      Provider,
                      Service,
                      ServiceImage,
                      ServiceNature,
                      ServiceStatus,
                      ShopStatus,
                      UnitType,
                      service_fields,
)
from .orders import (
                      Cart,
                      CartLine,
                      Complaint,
                      Demand,
                      DemandQuote,
                      Message,
                      Order,
                      OrderEvent,
                      OrderItem,
                      OrderNumberCounter,
                      OrderStatus,
                      Rating,
)
from .redemption import (
                      BankReceipt,
                      Invoice,
                      Material,
                      MaterialKind,
                      Objection,
                      PaymentBatch,
                      PublicityBatch,
                      Redemption,
                      RedemptionServiceLine,
                      RedemptionStatus,
                      ReviewBatch,
)
from .settings import CacheGeneration, CitySetting
from .vouchers import ApplicationStatus, KexiaoEntry, Voucher, VoucherApplication
