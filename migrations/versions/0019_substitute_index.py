"""the colleague a place was handed on to is found by an index, not by reading every invitation

Revision ID: 0019_substitute_index
Revises: 0018_dashboard_cache
Create Date: 2026-12-08 03:00:00
"""
from alembic import op


revision = "0019_substitute_index"
down_revision = "0018_dashboard_cache"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_invitation_substitute_for_id"), "invitation", ["substitute_for_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_invitation_substitute_for_id"), table_name="invitation")
