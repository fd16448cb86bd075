"""canonical invoice numbers: every stored invoices.number rewritten to its canonical form

Duplicates are found by comparing stored numbers with the canonical form of the one typed
(marketplace/redemption/invoice_numbers.py), so the numbers stored before it must be canonical too: a zero-width
space, full-width digits, a soft hyphen or a Cyrillic look-alike kept in an old row would hide the duplicate.
Rows that do not meet the new formats are canonicalised like any other, never deleted (a draft's number is then
refused at submission until it is corrected). The old spellings are not kept, so there is nothing to downgrade to.
It imports the app's canonical() on purpose: stored numbers must be in the very form the app compares with; were
that form ever to change, a new migration would rewrite the rows again.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:00:00
"""
import sqlalchemy as sa
from alembic import op

from marketplace.redemption.invoice_numbers import canonical

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NUMBER_MAX = 40  # invoices.number is VARCHAR(40)


def upgrade() -> None:
    bind = op.get_bind()
    changes = []
    for row_id, number in bind.execute(sa.text("SELECT id, number FROM invoices")):
        fixed = canonical(number)
        # NFKC can lengthen exotic text (one ligature becomes several letters): such a row keeps its number
        # rather than fail the upgrade on PostgreSQL.
        if fixed != number and len(fixed) <= NUMBER_MAX:
            changes.append({"id": row_id, "number": fixed})
    if changes:
        bind.execute(sa.text("UPDATE invoices SET number = :number WHERE id = :id"), changes)


def downgrade() -> None:
    pass
