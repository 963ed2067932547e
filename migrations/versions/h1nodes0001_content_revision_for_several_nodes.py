"""nodes: the articles commit every web node follows (content_revision, one row)

Revision ID: h1nodes0001
Revises: g1people001
Create Date: 2026-12-08 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from portal.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'h1nodes0001'
down_revision = 'g1people001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'content_revision',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('commit_sha', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', UTCDateTime(), nullable=False),
        sa.Column('recorded_by', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_content_revision')),
    )


def downgrade():
    op.drop_table('content_revision')
