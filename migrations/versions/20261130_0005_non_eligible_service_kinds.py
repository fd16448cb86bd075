"""non-eligible service kinds (SPEC 1.5): the reviewer's list of kinds the voucher never pays for

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('non_eligible_kinds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('keywords', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_non_eligible_kinds')),
    sa.UniqueConstraint('name', name=op.f('uq_non_eligible_kinds_name'))
    )


def downgrade() -> None:
    op.drop_table('non_eligible_kinds')
