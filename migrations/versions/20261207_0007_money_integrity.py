"""money integrity: the provider's confirmed amount, cancellation requests, the eligible part of a mixed contract,
pilot referrals, and the business licence and confirmed city of a voucher application

- orders.final_amount_fen / final_amount_note: 实际服务金额 the provider confirms with 服务完成 (a claim on the
  order is capped by it, and cannot be submitted without it). CONFIRMED_BEFORE fills it for orders that already
  went past that point: those finished keep their agreed amount (the provider finished them when no other amount
  existed); those with a claim already submitted keep the amount the claim was built on (the agreed amount, else
  the claim's eligible spend), so a claim sent back 待补正 can still be resubmitted. A finished 面议 order without a
  claim has nothing to keep: its provider confirms the amount when asked.
- orders.cancel_requested_by / _at / cancel_reason: 申请取消 after acceptance, waiting for the other side.
- redemptions.eligible_fee_fen: 可兑付服务费 of a mixed contract (NULL: the whole contract).
- redemptions.referral_reason: why a pilot's 确认材料 sent a flagged claim to the reviewer.
- voucher_applications.business_licence_file_id: the 营业执照 scan; confirmed_city: the registered city the
  reviewer confirmed, which sets the voucher's region.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


SUBMITTED_CLAIM = "FROM redemptions r WHERE r.order_id = orders.id AND r.status <> 'draft'"
CONFIRMED_BEFORE = (
    "UPDATE orders SET final_amount_fen = quote_fen "
    "WHERE final_amount_fen IS NULL AND finished_at IS NOT NULL AND quote_fen > 0",
    "UPDATE orders SET final_amount_fen = COALESCE(NULLIF(quote_fen, 0), "
    f"(SELECT NULLIF(MAX(r.eligible_spend_fen), 0) {SUBMITTED_CLAIM})) "
    f"WHERE final_amount_fen IS NULL AND EXISTS (SELECT 1 {SUBMITTED_CLAIM})",
)


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('final_amount_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('final_amount_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_by', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('cancel_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_orders_final_amount_positive'),
                                         'final_amount_fen IS NULL OR final_amount_fen > 0')
    for statement in CONFIRMED_BEFORE:
        op.execute(statement)

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible_fee_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('referral_reason', sa.Text(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_redemptions_eligible_fee_positive'),
                                         'eligible_fee_fen IS NULL OR eligible_fee_fen > 0')

    with op.batch_alter_table('voucher_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('business_licence_file_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_city', sa.String(length=20), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_voucher_applications_business_licence_file_id'),
                              ['business_licence_file_id'], unique=False)
        batch_op.create_foreign_key(op.f('fk_voucher_applications_business_licence_file_id_stored_files'),
                                    'stored_files', ['business_licence_file_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('voucher_applications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('fk_voucher_applications_business_licence_file_id_stored_files'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_voucher_applications_business_licence_file_id'))
        batch_op.drop_column('confirmed_city')
        batch_op.drop_column('business_licence_file_id')

    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_redemptions_eligible_fee_positive'), type_='check')
        batch_op.drop_column('referral_reason')
        batch_op.drop_column('eligible_fee_fen')

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_orders_final_amount_positive'), type_='check')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('cancel_requested_at')
        batch_op.drop_column('cancel_requested_by')
        batch_op.drop_column('final_amount_note')
        batch_op.drop_column('final_amount_fen')
