"""voucher applications: registered province, and the fields a reviewer asked to correct

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy) works on SQLite and PostgreSQL alike.
    op.add_column('voucher_applications', sa.Column('registered_province', sa.String(length=20),
                                                    server_default='江苏省', nullable=False))
    op.add_column('voucher_applications', sa.Column('correction_fields', sa.Text(), server_default='',
                                                    nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('voucher_applications', schema=None) as batch_op:
        batch_op.drop_column('correction_fields')
        batch_op.drop_column('registered_province')
