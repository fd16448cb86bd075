"""Every state change goes through `record()` so the audit log is complete."""

from flask import has_request_context, request
from flask_login import current_user

from .db import db
from .models import AuditLog


def record(obj_type: str, obj_id, action: str, from_state: str | None = None, to_state: str | None = None,
           reason: str | None = None, actor_id: int | None = None) -> AuditLog:
    """Add an audit row to the current session; it commits with the change it describes."""
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    entry = AuditLog(actor_id=actor_id, object_type=obj_type, object_id=None if obj_id is None else str(obj_id),
                     action=action, from_state=_state(from_state), to_state=_state(to_state), reason=reason,
                     ip=request.remote_addr if has_request_context() else None)
    db.session.add(entry)
    return entry


STATE_MAX = 40  # AuditLog.from_state / to_state


def _state(value: str | None) -> str | None:
    """States are short codes; a caller that records a name there gets it cut to fit (the reason keeps text)."""
    return value if value is None or len(value) <= STATE_MAX else value[:STATE_MAX - 1] + "…"
