"""the organisers' own wording of each kind of message: message_wording

Revision ID: 0011_message_wording
Revises: 0010_import_columns
Create Date: 2026-12-07 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0011_message_wording"
down_revision = "0010_import_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No row for a kind means its default wording, so nothing needs filling in.
    op.create_table(
        "message_wording",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["user.id"], name=op.f("fk_message_wording_updated_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_wording")),
        sa.UniqueConstraint("kind", name=op.f("uq_message_wording_kind")),
    )


def downgrade() -> None:
    op.drop_table("message_wording")
