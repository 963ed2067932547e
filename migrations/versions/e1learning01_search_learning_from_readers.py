"""search learning: network hash on result clicks, editors' resets

Revision ID: e1learning01
Revises: a1search0001
Create Date: 2026-12-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1learning01'
down_revision = 'a1search0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('search_click', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ip_hash', sa.String(length=16), nullable=True))

    op.create_table('search_learning_reset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('normalized', sa.String(length=500), nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('reset_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_search_learning_reset_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_learning_reset'))
    )
    with op.batch_alter_table('search_learning_reset', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_learning_reset_reset_at'), ['reset_at'], unique=False)


def downgrade():
    with op.batch_alter_table('search_learning_reset', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_learning_reset_reset_at'))
    op.drop_table('search_learning_reset')
    with op.batch_alter_table('search_click', schema=None) as batch_op:
        batch_op.drop_column('ip_hash')
