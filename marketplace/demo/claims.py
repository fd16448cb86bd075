"""Demo claims, so 兑付 is not an empty screen: the 徐州 company's finished order was claimed, reviewed, published
and paid; its newer order's claim waits in the reviewer's queue. Both go through the claims module with real
(generated) PDF and image files stored through the upload pipeline, exactly as an enterprise's would."""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import BankReceipt, Invoice, Material, Order, OrderStatus, Redemption, Role, User, china_today
from ..redemption import claims, readiness, settlement
from .files import pdf, png, store


def seed_claims(session: Session) -> int:
    """For each enterprise holding this year's voucher, claim its finished voucher orders: the oldest is paid,
    the newer ones wait for review. Needs the app (uploads, audit): `flask seed-demo` calls it after seed_demo."""
    reviewer = session.scalar(select(User).where(User.role == Role.REVIEWER).order_by(User.id).limit(1))
    finished = session.scalars(select(Order).where(Order.status == OrderStatus.IN_SERVICE, Order.is_voucher,
                                                   Order.finished_at.is_not(None))
                               .order_by(Order.created_at)).all()
    done: set[int] = set()
    for order in finished:
        buyer = session.get(User, order.buyer_id)
        if claims.voucher_for(order.enterprise_id) is None:
            continue
        # A 20-digit 数电发票 number: the year, 32 (Jiangsu), a serial.
        claim = _complete_claim(session, order, buyer, invoice=f"{china_today():%y}32{order.id:016d}")
        claims.submit(claim, buyer, readiness.DECLARATIONS)
        if order.buyer_id not in done:
            _review_and_pay(claim, reviewer)
            done.add(order.buyer_id)
        session.flush()
    return len(finished)


def _complete_claim(session: Session, order: Order, buyer: User, invoice: str) -> Redemption:
    claim = claims.start_online(order, buyer)
    for kind, name in (("contract", "技术服务合同.pdf"), ("report", "检验检测报告.pdf"),
                       ("rnd_proof", "研发项目立项书.pdf")):
        claim.materials.append(Material(kind=kind, file_id=store(pdf(), name, buyer).id))
    claim.invoices.append(Invoice(number=invoice, amount_fen=order.quote_fen,
                                  file_id=store(png((230, 235, 245)), "增值税发票.png", buyer).id))
    claim.receipts.append(BankReceipt(amount_fen=order.quote_fen,
                                      file_id=store(png((245, 240, 225)), "银行回单.png", buyer).id))
    session.flush()
    return claim


def _review_and_pay(claim: Redemption, reviewer: User) -> None:
    claims.approve(claim, reviewer, claim.requested_fen)
    settlement.publish([claim], reviewer, days=5, today=china_today() - timedelta(days=8))
    settlement.close_publicity(actor_id=reviewer.id, claims=[claim])
    settlement.pay([claim], reviewer, china_today(), "DEMO-20250001")
