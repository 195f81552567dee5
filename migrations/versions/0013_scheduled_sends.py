"""scheduled sends, and whether leaders may nudge before the invitation is sent

Revision ID: 0013_scheduled_sends
Revises: 0012_questions
Create Date: 2026-12-07 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0013_scheduled_sends"
down_revision = "0012_questions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("summit") as batch:
        batch.add_column(
            sa.Column("leaders_may_nudge_unsent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "scheduled_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("invitation", "reminder", name="scheduledkind", native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "waiting", "sent", "cancelled", name="scheduledstatus", native_enum=False, create_constraint=True, length=20
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=True),
        sa.Column("sent_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_scheduled_send_created_by_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by_id"], ["user.id"], name=op.f("fk_scheduled_send_cancelled_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_send")),
    )
    with op.batch_alter_table("scheduled_send", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scheduled_send_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_scheduled_send_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("scheduled_send", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scheduled_send_status"))
        batch_op.drop_index(batch_op.f("ix_scheduled_send_due_at"))
    op.drop_table("scheduled_send")
    with op.batch_alter_table("summit") as batch:
        batch.drop_column("leaders_may_nudge_unsent")
