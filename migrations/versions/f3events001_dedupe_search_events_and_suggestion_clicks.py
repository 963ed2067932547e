"""events: a reader's repeated search or suggestion click is stored once per window

Revision ID: f3events001
Revises: f2throttle1
Create Date: 2026-12-08 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3events001'
down_revision = 'f2throttle1'
branch_labels = None
depends_on = None

TABLES = ('search_event', 'ticket_suggestion_click')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('dedupe_key', sa.String(length=32), nullable=True))
            batch_op.add_column(sa.Column('dedupe_bucket', sa.Integer(), nullable=True))
            batch_op.create_unique_constraint(
                batch_op.f(f'uq_{table}_dedupe_key'), ['dedupe_key', 'dedupe_bucket'])


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'uq_{table}_dedupe_key'), type_='unique')
            batch_op.drop_column('dedupe_bucket')
            batch_op.drop_column('dedupe_key')
