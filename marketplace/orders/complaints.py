"""A buyer's 投诉 (SPEC 5) after it is filed (orders.feedback files it): the reviewer resolves it once, with a
resolution the buyer reads on the order, written to the audit log.

    open ──resolve (a reviewer, with a resolution)──▶ resolved

The caller locks the complaint's row and commits (or rolls back on Refused). Plain Python: no Flask here.
"""
from .. import audit, refusal
from ..models import Complaint, utcnow

OPEN, RESOLVED = "open", "resolved"
RESOLUTION_MAX = 1000


class Refused(refusal.Refused):
    """A move the complaint's state does not allow; the message says why in Chinese."""


def require_open(complaint: Complaint) -> None:
    if complaint.status != OPEN:
        raise Refused("该投诉已经处理过了。")


def resolve(complaint: Complaint, reviewer_id: int, resolution: str) -> None:
    require_open(complaint)
    resolution = (resolution or "").strip()
    if not resolution:
        raise Refused("请填写处理结果。")
    audit.record("complaint", complaint.id, "resolve", OPEN, RESOLVED, resolution, actor_id=reviewer_id)
    complaint.status, complaint.resolution, complaint.resolved_at = RESOLVED, resolution, utcnow()
