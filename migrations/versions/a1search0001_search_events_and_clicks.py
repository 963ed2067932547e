"""search: search events and result clicks

Revision ID: a1search0001
Revises: 6542d063449e
Create Date: 2026-11-26 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a1search0001'
down_revision = 'd1notices001'
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table('search_event',
    sa.Column('id', EVENT_ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('query', sa.String(length=500), nullable=False),
    sa.Column('normalized', sa.String(length=500), nullable=False),
    sa.Column('corrected', sa.String(length=500), nullable=False),
    sa.Column('category', sa.String(length=300), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_search_event_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_event'))
    )
    with op.batch_alter_table('search_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_event_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_event_normalized'), ['normalized'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_event_visitor'), ['visitor'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_event_user_id'), ['user_id'], unique=False)

    op.create_table('search_click',
    sa.Column('id', EVENT_ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('search_id', EVENT_ID, nullable=False),
    sa.Column('slug', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['search_id'], ['search_event.id'], name=op.f('fk_search_click_search_id_search_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_click'))
    )
    with op.batch_alter_table('search_click', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_click_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_click_search_id'), ['search_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_click_slug'), ['slug'], unique=False)


def downgrade():
    with op.batch_alter_table('search_click', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_click_slug'))
        batch_op.drop_index(batch_op.f('ix_search_click_search_id'))
        batch_op.drop_index(batch_op.f('ix_search_click_created_at'))
    op.drop_table('search_click')
    with op.batch_alter_table('search_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_event_user_id'))
        batch_op.drop_index(batch_op.f('ix_search_event_visitor'))
        batch_op.drop_index(batch_op.f('ix_search_event_normalized'))
        batch_op.drop_index(batch_op.f('ix_search_event_created_at'))
    op.drop_table('search_event')
