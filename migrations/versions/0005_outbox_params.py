"""mail is written by the worker: outbox_message.params, and bodies empty until then

Revision ID: 0005_outbox_params
Revises: 0004_sign_in_links
Create Date: 2026-12-01 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0005_outbox_params"
down_revision = "0004_sign_in_links"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=True)
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Messages not yet written get empty bodies: the old code would send them as they stand.
    op.execute("UPDATE outbox_message SET body_text = '' WHERE body_text IS NULL")
    op.execute("UPDATE outbox_message SET body_html = '' WHERE body_html IS NULL")
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("body_html", existing_type=sa.Text(), nullable=False)
        batch.alter_column("body_text", existing_type=sa.Text(), nullable=False)
        batch.drop_column("params")
