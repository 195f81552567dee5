"""erasure is a recorded fact: invitation.erased_at

Revision ID: 0003_erased_at
Revises: 0002_programme
Create Date: 2026-12-01 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_erased_at"
down_revision = "0002_programme"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invitation") as batch:
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    # Rows erased before this column existed carry the placeholder name and address it wrote.
    op.execute("UPDATE invitation SET erased_at = updated_at WHERE name = 'Erased' AND email LIKE 'erased-%@erased.invalid'")


def downgrade() -> None:
    with op.batch_alter_table("invitation") as batch:
        batch.drop_column("erased_at")
