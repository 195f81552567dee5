"""the dashboard reads indexes: the tally's covering index, and the latest bounces through an index of
the invitations that bounced

Revision ID: 0014_dashboard_indexes
Revises: 0013_scheduled_sends
Create Date: 2026-12-07 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0014_dashboard_indexes"
down_revision = "0013_scheduled_sends"
branch_labels = None
depends_on = None

TALLY = [
    "champion_id",
    "organisation",
    "sector",
    "state",
    "sent_at",
    "opened_at",
    "responded_at",
    "dont_chase",
    "bounced_at",
    "id",
]


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index("ix_invitation_tally", TALLY, unique=False)
        batch_op.create_index(
            "ix_invitation_bounced_at",
            ["bounced_at"],
            unique=False,
            sqlite_where=sa.text("bounced_at IS NOT NULL"),
            postgresql_where=sa.text("bounced_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index("ix_invitation_bounced_at")
        batch_op.drop_index("ix_invitation_tally")
