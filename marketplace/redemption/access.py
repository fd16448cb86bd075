"""Who may read a claim's files (SPEC 9): the enterprise that uploaded them (the owner rule), the provider of
that claim's order, and reviewers (both general rules in uploads.access). Nobody else, not even another
provider or enterprise who guesses the file's id."""
from sqlalchemy import or_, select

from ..extensions import db
from ..models import BankReceipt, Invoice, Material, Order, Provider, Redemption, StoredFile
from ..uploads import access


@access.register
def provider_reads_order_claim(user, stored: StoredFile) -> bool:
    if not user.is_authenticated:
        return False
    claims_of_my_orders = (select(Redemption.id).join(Order, Redemption.order_id == Order.id)
                           .join(Provider, Order.provider_id == Provider.id).where(Provider.user_id == user.id))
    holders = (select(Material.redemption_id).where(Material.file_id == stored.id)
               .union_all(select(Invoice.redemption_id).where(Invoice.file_id == stored.id),
                          select(BankReceipt.redemption_id).where(BankReceipt.file_id == stored.id)))
    in_claim = select(Redemption.id).where(
        or_(Redemption.id.in_(holders), Redemption.qualification_file_id == stored.id),
        Redemption.id.in_(claims_of_my_orders))
    return bool(db.session.scalar(select(in_claim.exists())))
