"""index file references so access checks stay fast

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 18:41:04.314175
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instrument_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instrument_images_file_id'), ['file_id'], unique=False)

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_logo_file_id'), ['logo_file_id'], unique=False)

    with op.batch_alter_table('service_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_images_file_id'), ['file_id'], unique=False)

    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_services_display_image_id'), ['display_image_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_services_display_image_id'))

    with op.batch_alter_table('service_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_images_file_id'))

    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_providers_logo_file_id'))

    with op.batch_alter_table('instrument_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_instrument_images_file_id'))

