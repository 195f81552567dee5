"""staff access can be taken back: user.session_version and staff_session

Revision ID: 0008_staff_sessions
Revises: 0007_import_preview
Create Date: 2026-12-07 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0008_staff_sessions"
down_revision = "0007_import_preview"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Sessions and remember cookies signed before this carry no version or sign-in: staff sign in once more.
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))
    op.create_table(
        "staff_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("nonce_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_staff_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_session")),
        sa.UniqueConstraint("nonce_hash", name=op.f("uq_staff_session_nonce_hash")),
    )
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_session_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("staff_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_session_user_id"))
    op.drop_table("staff_session")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("session_version")
