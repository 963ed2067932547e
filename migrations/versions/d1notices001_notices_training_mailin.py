"""notices, training sessions and enrollments, incoming mail

Revision ID: d1notices001
Revises: 6542d063449e
Create Date: 2026-11-26 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1notices001'
down_revision = 'c1tickets001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('maintenance', 'incident', name='notice_kind', native_enum=False, length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_notice_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_ends_at'), ['ends_at'], unique=False)

    op.create_table('notice_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_update_notice_id_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_notice_update_author_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_update'))
    )
    with op.batch_alter_table('notice_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_update_notice_id'), ['notice_id'], unique=False)

    op.create_table('training_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False),
    sa.Column('joining_details', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint('capacity >= 1', name=op.f('ck_training_session_capacity_positive')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= capacity', name=op.f('ck_training_session_seats_within')),
    sa.CheckConstraint('duration_minutes >= 1', name=op.f('ck_training_session_duration_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_session'))
    )
    with op.batch_alter_table('training_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_session_starts_at'), ['starts_at'], unique=False)

    op.create_table('training_enrollment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('enrolled', 'waitlisted', 'cancelled', name='enrollment_status', native_enum=False, length=20), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_session.id'], name=op.f('fk_training_enrollment_session_id_training_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_training_enrollment_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_enrollment')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_training_enrollment_session_id'))
    )
    with op.batch_alter_table('training_enrollment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_enrollment_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_enrollment_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_enrollment_status'), ['status'], unique=False)

    op.create_table('mailin_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('sender_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('attachment_names', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.Enum('ticket', 'reply', 'held', 'filed', 'dismissed', 'malformed', 'ignored', name='mail_outcome', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('raw_path', sa.String(length=500), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_mailin_message_ticket_id_ticket'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_mailin_message_handled_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailin_message')),
    sa.UniqueConstraint('message_id', name=op.f('uq_mailin_message_message_id'))
    )
    with op.batch_alter_table('mailin_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailin_message_sender'), ['sender'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailin_message_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailin_message_ticket_id'), ['ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailin_message_received_at'), ['received_at'], unique=False)


def downgrade():
    op.drop_table('mailin_message')
    op.drop_table('training_enrollment')
    op.drop_table('training_session')
    op.drop_table('notice_update')
    op.drop_table('notice')
