"""an invitee CSV checked by an organiser is kept on the server until confirmed: import_preview

Revision ID: 0007_import_preview
Revises: 0006_sender_joining_link
Create Date: 2026-12-07 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0007_import_preview"
down_revision = "0006_sender_joining_link"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_preview",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_import_preview_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_preview")),
    )
    with op.batch_alter_table("import_preview", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_preview_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_import_preview_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("import_preview", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_preview_created_at"))
        batch_op.drop_index(batch_op.f("ix_import_preview_user_id"))
    op.drop_table("import_preview")
