"""a scheduled send of invitations keeps its covering note, and a staff invitation can be withdrawn

Revision ID: 0017_note_and_withdrawal
Revises: 0016_texts
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0017_note_and_withdrawal"
down_revision = "0016_texts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("scheduled_send") as batch:
        batch.add_column(sa.Column("covering_note", sa.Text(), nullable=True))
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("invitation_withdrawn_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("invitation_withdrawn_at")
    with op.batch_alter_table("scheduled_send") as batch:
        batch.drop_column("covering_note")
