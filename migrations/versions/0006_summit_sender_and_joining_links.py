"""set up in the browser: who signs the emails and their address on the summit; online fringe events' joining links

Revision ID: 0006_sender_joining_link
Revises: 0005_outbox_params
Create Date: 2026-12-07 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0006_sender_joining_link"
down_revision = "0005_outbox_params"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for an existing summit: its emails keep the MAIL_FROM_NAME / MAIL_FROM settings until an organiser sets them.
    with op.batch_alter_table("summit") as batch:
        batch.add_column(sa.Column("signatory_name", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("signatory_role", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("sender_email", sa.String(length=254), server_default="", nullable=False))
    with op.batch_alter_table("fringe_event") as batch:
        batch.add_column(sa.Column("joining_link", sa.String(length=500), server_default="", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("fringe_event") as batch:
        batch.drop_column("joining_link")
    with op.batch_alter_table("summit") as batch:
        batch.drop_column("sender_email")
        batch.drop_column("signatory_role")
        batch.drop_column("signatory_name")
