"""people: verified addresses, sign-in times, organisation domains and suspension contact,
server-side sessions, single-use account links, the audit log, the visit trail

Revision ID: g1people001
Revises: f3events001
Create Date: 2026-12-01 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from portal.models.types import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'g1people001'
down_revision = 'f3events001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_login_at', UTCDateTime(), nullable=True))
    # Accounts made before addresses were verified were made by admins or trusted as such.
    op.execute("UPDATE user_account SET email_verified_at = created_at")
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suspension_contact', sa.String(length=300),
                                      nullable=False, server_default=''))

    op.create_table(
        'organisation_domain',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_organisation_domain_organisation_id_organisation'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_domain')),
        sa.UniqueConstraint('domain', name=op.f('uq_organisation_domain_domain')),
    )
    op.create_index(op.f('ix_organisation_domain_organisation_id'), 'organisation_domain',
                    ['organisation_id'])

    op.create_table(
        'user_session',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('last_seen_at', UTCDateTime(), nullable=False),
        sa.Column('browser', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_user_session_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'])
    op.create_index(op.f('ix_user_session_last_seen_at'), 'user_session', ['last_seen_at'])

    op.create_table(
        'account_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum('reset', 'invite', 'verify', name='token_purpose',
                                     native_enum=False, length=10), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('expires_at', UTCDateTime(), nullable=False),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_account_token_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash')),
    )
    op.create_index(op.f('ix_account_token_user_id'), 'account_token', ['user_id'])
    op.create_index(op.f('ix_account_token_expires_at'), 'account_token', ['expires_at'])

    op.create_table(
        'audit_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=60), nullable=False),
        sa.Column('target_type', sa.String(length=20), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=300), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'],
                                name=op.f('fk_audit_event_actor_id_user_account'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event')),
    )
    for column in ('created_at', 'actor_id', 'action', 'target_type', 'target_id'):
        op.create_index(op.f(f'ix_audit_event_{column}'), 'audit_event', [column])

    op.create_table(
        'visit_trail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visitor', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=1), nullable=False),
        sa.Column('value', sa.String(length=200), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_trail')),
        sa.UniqueConstraint('visitor', 'kind', 'value',
                            name=op.f('uq_visit_trail_visitor')),
    )
    op.create_index(op.f('ix_visit_trail_visitor'), 'visit_trail', ['visitor'])
    op.create_index(op.f('ix_visit_trail_at'), 'visit_trail', ['at'])


def downgrade():
    op.drop_table('visit_trail')
    op.drop_table('audit_event')
    op.drop_table('account_token')
    op.drop_table('user_session')
    op.drop_table('organisation_domain')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('suspension_contact')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('last_login_at')
        batch_op.drop_column('email_verified_at')
