"""wallet passes to mark inactive at Google when a place ends

Revision ID: 0015_wallet_pass_updates
Revises: 0014_dashboard_indexes
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0015_wallet_pass_updates"
down_revision = "0014_dashboard_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_pass_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sending",
                "done",
                "failed",
                name="walletupdatestatus",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_pass_update")),
        sa.UniqueConstraint("object_id", name=op.f("uq_wallet_pass_update_object_id")),
    )
    with op.batch_alter_table("wallet_pass_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_pass_update_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("wallet_pass_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_pass_update_status"))
    op.drop_table("wallet_pass_update")
