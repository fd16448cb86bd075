"""Balance safety end to end (SPEC 7.4): twenty claims against one voucher whose balance fits only some of them,
submitted at the same moment through the real 提交 route — twenty threads, each a client of its own, so each
request has its own session and database connection (SQLite queues writers at BEGIN IMMEDIATE; PostgreSQL
runs them on twenty pooled connections). The cap holds, and every refused request says why."""
import queue

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Redemption, RedemptionStatus as R, Voucher
from marketplace.redemption import readiness

from .conftest import run_at_once

YUAN = 100
THREADS = 20


def test_simultaneous_submissions_never_reserve_past_the_cap_and_each_refusal_says_why(app, client, auth, make,
                                                                                       enterprise):
    voucher = make.voucher(enterprise)                      # 南京: 100,000 元
    drafts = [make.claim(enterprise, status=R.DRAFT, amount_fen=24_000 * YUAN).id for _ in range(THREADS)]
    auth.login(enterprise)
    session_cookie = client.get_cookie("session").value
    waiting, answers = queue.SimpleQueue(), []
    for claim_id in drafts:
        waiting.put(claim_id)

    def submit():
        own = app.test_client()                             # another browser tab of the same signed-in user
        own.set_cookie("session", session_cookie)
        response = own.post(f"/me/redemptions/{waiting.get()}/submit",
                            data={"contract_amount": "24000", "declarations": list(readiness.DECLARATIONS)})
        answers.append((response.status_code, response.get_data(as_text=True)))

    assert run_at_once(app, submit, THREADS) == []
    db.session.commit()
    db.session.expire_all()
    reserved = db.session.scalar(select(Voucher.reserved_fen).where(Voucher.id == voucher.id))
    submitted = db.session.execute(select(func.count(), func.coalesce(func.sum(Redemption.requested_fen), 0))
                                   .where(Redemption.status == R.SUBMITTED)).one()
    assert reserved == submitted[1] <= 100_000 * YUAN        # 25% of 24,000 = 6,000 元 each, or what is left
    assert 16 <= submitted[0] < THREADS                      # 16 × 6,000 + the last 4,000 fit; the rest cannot
    accepted = [status for status, _ in answers if status == 303]
    refused = [body for status, body in answers if status == 422]
    assert len(accepted) == submitted[0] and len(refused) == THREADS - submitted[0]
    assert all("剩余可用金额" in body or "可兑付金额为零" in body for body in refused)
