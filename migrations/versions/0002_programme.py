"""chasing, provider events, fringe events, attendance, scan log

Revision ID: 0002_programme
Revises: 0001_initial
Create Date: 2026-11-26 06:05:30.165950
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_programme"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('fringe_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('theme', sa.String(length=200), nullable=False),
    sa.Column('host_organisation', sa.String(length=200), nullable=False),
    sa.Column('host_lead', sa.String(length=200), nullable=False),
    sa.Column('venue', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=400), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('places_taken', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'cancelled', name='fringestatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('ics_sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('capacity IS NULL OR places_taken <= capacity', name=op.f('ck_fringe_event_places_within_capacity')),
    sa.CheckConstraint('places_taken >= 0', name=op.f('ck_fringe_event_places_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fringe_event')),
    sa.UniqueConstraint('slug', name=op.f('uq_fringe_event_slug'))
    )
    op.create_table('attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=40), nullable=False),
    sa.Column('fringe_event_id', sa.Integer(), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(), nullable=False),
    sa.Column('checked_in_by_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.Enum('camera', 'handheld', 'manual', 'list', name='checkinmethod', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('walk_in', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['checked_in_by_id'], ['user.id'], name=op.f('fk_attendance_checked_in_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fringe_event_id'], ['fringe_event.id'], name=op.f('fk_attendance_fringe_event_id_fringe_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_attendance_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance')),
    sa.UniqueConstraint('invitation_id', 'event_key', name='uq_attendance_person_event')
    )
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendance_event_key'), ['event_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_fringe_event_id'), ['fringe_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_invitation_id'), ['invitation_id'], unique=False)

    op.create_table('fringe_signup',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('fringe_event_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('confirmed', 'cancelled', name='signupstate', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['fringe_event_id'], ['fringe_event.id'], name=op.f('fk_fringe_signup_fringe_event_id_fringe_event'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_fringe_signup_invitation_id_invitation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fringe_signup')),
    sa.UniqueConstraint('invitation_id', 'fringe_event_id', name='uq_fringe_signup_person_event')
    )
    with op.batch_alter_table('fringe_signup', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fringe_signup_fringe_event_id'), ['fringe_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fringe_signup_invitation_id'), ['invitation_id'], unique=False)

    op.create_table('leader_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('note', 'nudge', 'dont_chase', 'chase_again', name='notekind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_leader_note_invitation_id_invitation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['leader_id'], ['user.id'], name=op.f('fk_leader_note_leader_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leader_note'))
    )
    with op.batch_alter_table('leader_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leader_note_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_leader_note_leader_id'), ['leader_id'], unique=False)

    op.create_table('scan_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('event_key', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=True),
    sa.Column('response', sa.String(length=2000), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_scan_log_invitation_id_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_scan_log_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_log')),
    sa.UniqueConstraint('user_id', 'nonce', name='uq_scan_log_user_nonce')
    )
    with op.batch_alter_table('scan_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_log_event_key'), ['event_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_log_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_log_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_scan_log_user_id'), ['user_id'], unique=False)

    op.create_table('provider_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sg_event_id', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('invitation_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['invitation_id'], ['invitation.id'], name=op.f('fk_provider_event_invitation_id_invitation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_message.id'], name=op.f('fk_provider_event_message_id_outbox_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_event')),
    sa.UniqueConstraint('sg_event_id', name=op.f('uq_provider_event_sg_event_id'))
    )
    with op.batch_alter_table('provider_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_event_event'), ['event'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_event_invitation_id'), ['invitation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_provider_event_message_id'), ['message_id'], unique=False)

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_reminded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_nudged_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_contact_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('dont_chase', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('bounced_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('bounce_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('badge_role', sa.String(length=20), nullable=False, server_default='delegate'))

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=100), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('claimed_at')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('badge_role')
        batch_op.drop_column('bounce_reason')
        batch_op.drop_column('bounced_at')
        batch_op.drop_column('dont_chase')
        batch_op.drop_column('last_contact_at')
        batch_op.drop_column('last_nudged_at')
        batch_op.drop_column('last_reminded_at')

    with op.batch_alter_table('provider_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_event_message_id'))
        batch_op.drop_index(batch_op.f('ix_provider_event_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_provider_event_event'))

    op.drop_table('provider_event')
    with op.batch_alter_table('scan_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_log_user_id'))
        batch_op.drop_index(batch_op.f('ix_scan_log_status'))
        batch_op.drop_index(batch_op.f('ix_scan_log_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_scan_log_event_key'))
        batch_op.drop_index(batch_op.f('ix_scan_log_at'))

    op.drop_table('scan_log')
    with op.batch_alter_table('leader_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leader_note_leader_id'))
        batch_op.drop_index(batch_op.f('ix_leader_note_invitation_id'))

    op.drop_table('leader_note')
    with op.batch_alter_table('fringe_signup', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fringe_signup_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_fringe_signup_fringe_event_id'))

    op.drop_table('fringe_signup')
    with op.batch_alter_table('attendance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_invitation_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_fringe_event_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_event_key'))

    op.drop_table('attendance')
    op.drop_table('fringe_event')
