"""sign-in throttling: per-account failure counts, networks that signed in

Revision ID: f2throttle1
Revises: f2hooks0001
Create Date: 2026-12-01 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2throttle1'
down_revision = 'f2hooks0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
    sa.UniqueConstraint('account_key', name=op.f('uq_login_throttle_account_key'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_failed_at'), ['last_failed_at'], unique=False)

    op.create_table('login_known_network',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('network_key', sa.String(length=64), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_login_known_network_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_known_network')),
    sa.UniqueConstraint('user_id', 'network_key', name=op.f('uq_login_known_network_user_id'))
    )
    with op.batch_alter_table('login_known_network', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_known_network_last_success_at'), ['last_success_at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_known_network', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_known_network_last_success_at'))
    op.drop_table('login_known_network')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_failed_at'))
    op.drop_table('login_throttle')
