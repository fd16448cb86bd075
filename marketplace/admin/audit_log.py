"""The audit log (/admin/audit, SPEC 8): every state change — who, when, which object, from → to, why — newest
first, searchable by object, user, date range (China time) and action. Codes are shown and offered in words
(marketplace.audit_labels); the URL keeps the codes.

Append-only: rows are written only by marketplace.audit.record, in the transaction of the change they describe;
this module only reads them, and no route changes or deletes one (tests/test_audit_log.py walks the URL map to
keep it so).
"""
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask import current_app, request, url_for
from sqlalchemy import Select, or_, select

from .. import audit_labels
from ..htmx import render_either
from ..ids import as_id
from ..models import CHINA, AuditLog, User
from ..pagination import paginate
from . import bp

# The reviewer's page of an object, where one exists: (endpoint, its argument, whether the id is a number).
ADMIN_PAGES = {
    "provider": ("admin.provider_detail", "provider_id", True),
    "redemption": ("admin.redemption_detail", "claim_id", True),
    "voucher_application": ("admin.voucher_detail", "application_id", True),
    "city_setting": ("admin.city_settings", "city", False),
    "order": ("admin.order_detail", "order_no", False),
}
SYSTEM = "系统"  # searching the user "系统" finds the moves nobody made by hand (expiry, imports)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
BAD_DATE = "请按YYYY-MM-DD填写日期，例如2026-03-01"
# The log's dates lie well inside these years; a date outside is a typo (and 9999-12-31 + 1 day overflows).
YEARS = range(2000, 2101)
OUT_OF_RANGE = f"请填写{YEARS[0]}年至{YEARS[-1]}年之间的日期"


@dataclass
class Filters:
    """The search as typed (kept for the form) and as understood; `errors` name the fields that were not."""
    object_type: str = ""
    object_id: str = ""
    user: str = ""
    action: str = ""
    typed: dict = field(default_factory=dict)   # the date fields as typed: "from", "to"
    dates: dict = field(default_factory=dict)   # the valid ones as dates
    errors: dict = field(default_factory=dict)

    @classmethod
    def read(cls, args) -> "Filters":
        """`object` is a type or "type:id"; a separate `object_id` (the form's id box) wins over the id part."""
        object_type, _, object_id = args.get("object", "").strip().partition(":")
        found = cls(object_type.strip(), (args.get("object_id") or object_id).strip(), args.get("user", "").strip(),
                    args.get("action", "").strip())
        for name in ("from", "to"):
            found.typed[name] = args.get(name, "").strip()
            found.dates[name] = found._date(name)
        start, end = found.dates["from"], found.dates["to"]
        if start and end and end < start:
            found.errors["to"], found.dates["to"] = "结束日期不能早于开始日期", None
        return found

    def _date(self, name: str) -> date | None:
        text = self.typed[name]
        if not text:
            return None
        try:
            day = date.fromisoformat(text) if ISO_DATE.fullmatch(text) else None
        except ValueError:
            day = None
        if day is None or day.year not in YEARS:
            self.errors[name] = BAD_DATE if day is None else OUT_OF_RANGE
            return None
        return day

    def params(self) -> dict:
        """The understood search as URL parameters, for the pager."""
        obj = f"{self.object_type}:{self.object_id}" if self.object_id else self.object_type
        values = {"object": obj, "user": self.user, "action": self.action,
                  **{name: value.isoformat() for name, value in self.dates.items() if value}}
        return {key: value for key, value in values.items() if value}

    def apply(self, stmt: Select) -> Select:
        if self.object_type:
            stmt = stmt.where(AuditLog.object_type == self.object_type)
        if self.object_id:
            stmt = stmt.where(AuditLog.object_id == self.object_id)
        if self.action:
            stmt = stmt.where(AuditLog.action == self.action)
        if self.user:
            stmt = stmt.where(_by_user(self.user))
        if self.dates.get("from"):
            stmt = stmt.where(AuditLog.at >= china_midnight_utc(self.dates["from"]))
        if self.dates.get("to"):
            stmt = stmt.where(AuditLog.at < china_midnight_utc(self.dates["to"] + timedelta(days=1)))
        return stmt


def _by_user(text: str):
    if text == SYSTEM:
        return AuditLog.actor_id.is_(None)
    matches = [User.name.contains(text, autoescape=True), User.email.contains(text, autoescape=True)]
    user_id = as_id(text)
    if user_id is not None:
        matches.append(User.id == user_id)
    return or_(*matches)


def china_midnight_utc(day: date) -> datetime:
    """The start of `day` in China time as the naive UTC the log stores (16:00 the day before)."""
    return datetime.combine(day, time.min, tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)


@bp.get("/audit")
def audit():
    filters = Filters.read(request.args)
    stmt = filters.apply(select(AuditLog, User).outerjoin(User, AuditLog.actor_id == User.id)
                         .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    page = paginate(stmt, current_app.config["PER_PAGE"], scalars=False)
    return render_either("admin/audit.html", "admin/partials/audit_list.html", page=page, filters=filters,
                         args=filters.params(), labels=audit_labels, object_url=object_url), \
        422 if filters.errors else 200


def object_url(entry: AuditLog) -> str | None:
    """The reviewer's page of the entry's object, or None where there is none."""
    page = ADMIN_PAGES.get(entry.object_type)
    if page is None or entry.object_id is None:
        return None
    endpoint, argument, numeric = page
    if numeric and not entry.object_id.isdigit():
        return None
    return url_for(endpoint, **{argument: int(entry.object_id) if numeric else entry.object_id})
