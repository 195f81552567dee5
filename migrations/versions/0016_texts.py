"""texts on the day: delegates' mobile numbers and stopping texts, text messages in the outbox, and each send

Revision ID: 0016_texts
Revises: 0015_wallet_pass_updates
Create Date: 2026-12-07 14:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0016_texts"
down_revision = "0015_wallet_pass_updates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mobile", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("texts_stopped_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("text_stop_selector", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_invitation_text_stop_selector"), ["text_stop_selector"])
    op.create_table(
        "text_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("audience", sa.String(length=40), nullable=False),
        sa.Column("audience_label", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("fragments", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sent_by_id"], ["user.id"], name=op.f("fk_text_send_sent_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_send")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_text_send_idempotency_key")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "channel",
                sa.Enum("email", "sms", name="channel", native_enum=False, create_constraint=True, length=20),
                server_default="email",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("to_phone", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("text_send_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_outbox_message_text_send_id"), ["text_send_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_text_send_id_text_send"),
            "text_send",
            ["text_send_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_unique_constraint("uq_outbox_message_text_send_person", ["text_send_id", "invitation_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_message_text_send_person", type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_outbox_message_text_send_id_text_send"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_message_text_send_id"))
        batch_op.drop_column("text_send_id")
        batch_op.drop_column("to_phone")
        # The enum's CHECK first: SQLite's copy of the table would otherwise keep a check on a column it no longer has.
        batch_op.drop_constraint(batch_op.f("ck_outbox_message_channel"), type_="check")
        batch_op.drop_column("channel")
    op.drop_table("text_send")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_invitation_text_stop_selector"), type_="unique")
        batch_op.drop_column("text_stop_selector")
        batch_op.drop_column("texts_stopped_at")
        batch_op.drop_column("mobile")
