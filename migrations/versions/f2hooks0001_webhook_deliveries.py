"""webhooks: deliveries already processed, for replay protection

Revision ID: f2hooks0001
Revises: e1learning01
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2hooks0001'
down_revision = 'e1learning01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('webhook_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('delivery_id', sa.String(length=120), nullable=True),
    sa.Column('body_sha256', sa.String(length=64), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
    sa.UniqueConstraint('body_sha256', name=op.f('uq_webhook_delivery_body_sha256')),
    sa.UniqueConstraint('delivery_id', name=op.f('uq_webhook_delivery_delivery_id'))
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_delivery_received_at'), ['received_at'], unique=False)


def downgrade():
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_delivery_received_at'))
    op.drop_table('webhook_delivery')
