"""Balance safety end to end (SPEC 7.4): twenty enterprises' claims — here twenty claims of one enterprise —
submitted at the same moment against one voucher whose balance fits only some of them. Each thread is a writing
request of its own (its own session and connection: SQLite takes the write lock at BEGIN as POSTs do;
PostgreSQL runs them on separate pooled connections); the cap holds and every refusal says why."""
import queue

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Redemption, RedemptionStatus as R, Voucher
from marketplace.redemption import claims, ledger

from .conftest import run_at_once

YUAN = 100
THREADS = 20


def test_simultaneous_submissions_never_reserve_past_the_cap_and_each_refusal_says_why(app, make, enterprise):
    voucher = make.voucher(enterprise)                      # 南京: 100,000 元
    drafts = [make.claim(enterprise, status=R.DRAFT, amount_fen=24_000 * YUAN).id for _ in range(THREADS)]
    waiting, refusals = queue.SimpleQueue(), []
    for claim_id in drafts:
        waiting.put(claim_id)
    me = enterprise.id

    def submit():
        with app.test_request_context(method="POST"):
            claim, user = db.session.get(Redemption, waiting.get()), db.session.get(type(enterprise), me)
            try:
                claims.submit(claim, user, claims.DECLARATIONS)   # 25% of 24,000 = 6,000 元, or what is left
                db.session.commit()
            except (claims.Refused, ledger.BalanceRefused) as refused:
                db.session.rollback()
                refusals.append(str(refused))

    assert run_at_once(app, submit, THREADS) == []
    db.session.commit()
    db.session.expire_all()
    reserved = db.session.scalar(select(Voucher.reserved_fen).where(Voucher.id == voucher.id))
    submitted = db.session.scalar(select(func.coalesce(func.sum(Redemption.requested_fen), 0))
                                  .where(Redemption.status == R.SUBMITTED))
    count = db.session.scalar(select(func.count()).select_from(Redemption).where(Redemption.status == R.SUBMITTED))
    assert reserved == submitted <= 100_000 * YUAN
    assert 16 <= count < THREADS                       # 16 × 6,000 + the last 4,000 fit; the rest cannot
    assert len(refusals) == THREADS - count
    assert all("剩余可用金额" in message or "可兑付金额为零" in message for message in refusals), refusals
