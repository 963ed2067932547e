"""feedback: article votes and their reasons

Revision ID: b1feedback01
Revises: 6542d063449e
Create Date: 2026-11-26 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1feedback01'
down_revision = '6542d063449e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback_vote',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('article_slug', sa.String(length=200), nullable=False),
    sa.Column('article_path', sa.String(length=500), nullable=False),
    sa.Column('article_commit', sa.String(length=40), nullable=True),
    sa.Column('article_sha', sa.String(length=64), nullable=False),
    sa.Column('voter', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_feedback_vote_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_vote')),
    sa.UniqueConstraint('article_slug', 'voter', name=op.f('uq_feedback_vote_article_slug'))
    )
    with op.batch_alter_table('feedback_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_vote_updated_at'), ['updated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_vote_user_id'), ['user_id'], unique=False)

    op.create_table('feedback_reason',
    sa.Column('vote_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['vote_id'], ['feedback_vote.id'], name=op.f('fk_feedback_reason_vote_id_feedback_vote'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vote_id', 'code', name=op.f('pk_feedback_reason'))
    )


def downgrade():
    op.drop_table('feedback_reason')
    with op.batch_alter_table('feedback_vote', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_vote_user_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_vote_updated_at'))

    op.drop_table('feedback_vote')
