"""What is in 公示 (SPEC 7.4): the claims and the third-party units in their publicity period, and the batch
(its period) of one. Queries only; the moves into and out of publicity are settlement.py's (claims) and the
shop lifecycle's (units)."""
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Objection, Order, Provider, PublicityBatch, Redemption, RedemptionStatus, ShopStatus, china_today


def claims_in_publicity() -> Select:
    """(claim, batch) rows of the claims in publicity, newest batch first (/publicity and /api/v1/publicity)."""
    return (select(Redemption, PublicityBatch)
            .join(PublicityBatch, Redemption.publicity_batch_id == PublicityBatch.id)
            .where(Redemption.status == RedemptionStatus.PUBLICITY)
            .options(joinedload(Redemption.enterprise), joinedload(Redemption.order).joinedload(Order.provider))
            .order_by(PublicityBatch.starts_on.desc(), Redemption.decided_at.desc(), Redemption.id.desc()))


def paused(claim_ids: list[int]) -> set[int]:
    """Claims among `claim_ids` with an objection still open (异议处理中)."""
    if not claim_ids:
        return set()
    return set(db.session.scalars(select(Objection.redemption_id).where(Objection.redemption_id.in_(claim_ids),
                                                                        Objection.status == "open")))


def shops_in_publicity():
    """服务单位入库公示: third-party units approved by the reviewer, during their publicity period."""
    return db.session.execute(
        select(Provider, PublicityBatch).join(PublicityBatch, Provider.publicity_batch_id == PublicityBatch.id)
        .where(Provider.status == ShopStatus.PUBLICITY).order_by(PublicityBatch.starts_on.desc(), Provider.id)).all()


def publicity_batch(provider: Provider) -> PublicityBatch | None:
    return db.session.get(PublicityBatch, provider.publicity_batch_id) if provider.publicity_batch_id else None


def publicity_over(batch: PublicityBatch) -> bool:
    """The period counts its first and last days (PublicityBatch.days): it is over the day after `ends_on`, as a
    claim's (settlement.close_publicity)."""
    return china_today() > batch.ends_on
