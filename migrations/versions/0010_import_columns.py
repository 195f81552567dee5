"""invitee lists matched by meaning: import_preview.columns (this file's chosen columns) and import_layout
(the columns chosen for a set of headings, remembered for the next file)

Revision ID: 0010_import_columns
Revises: 0009_staff_invitations
Create Date: 2026-12-07 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0010_import_columns"
down_revision = "0009_staff_invitations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("import_preview") as batch:
        batch.add_column(sa.Column("columns", sa.JSON(), nullable=True))
    op.create_table(
        "import_layout",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("headings", sa.JSON(), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("chosen_by_id", sa.Integer(), nullable=True),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by_id"], ["user.id"], name=op.f("fk_import_layout_chosen_by_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_import_layout")),
    )


def downgrade() -> None:
    op.drop_table("import_layout")
    with op.batch_alter_table("import_preview") as batch:
        batch.drop_column("columns")
