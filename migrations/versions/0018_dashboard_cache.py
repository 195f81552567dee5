"""the organisers' dashboard's figures kept for every worker, and the generation that triggers on every table
they read move on with each write (app/dashboards/overview_cache.py)

Revision ID: 0018_dashboard_cache
Revises: 0017_note_and_withdrawal
Create Date: 2026-12-07 15:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0018_dashboard_cache"
down_revision = "0017_note_and_withdrawal"
branch_labels = None
depends_on = None

# The tables the dashboard's figures are worked out from (overview_cache.WATCHED when this was written).
WATCHED = (
    "invitation",
    "registration",
    "attendance",
    "fringe_event",
    "fringe_signup",
    "leader_note",
    "user",
    "summit",
)

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION dashboard_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('newhorizons.dashboard_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('newhorizons.dashboard_bumped', txid_current()::text, true);
        INSERT INTO dashboard_cache (id, generation) VALUES (1, 1)
            ON CONFLICT (id) DO UPDATE
            SET generation = dashboard_cache.generation + 1, cached_generation = NULL, payload = NULL;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "dashboard_cache",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("generation", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cached_generation", sa.Integer(), nullable=True),
        sa.Column("cached_at", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_dashboard_cache_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboard_cache")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for table in WATCHED:
            op.execute(
                f'CREATE CONSTRAINT TRIGGER dashboard_generation_{table} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_generation_bump()"
            )
        return
    for table in WATCHED:
        for action in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f'CREATE TRIGGER dashboard_generation_{table}_{action.lower()} AFTER {action} ON "{table}" BEGIN '
                "INSERT INTO dashboard_cache (id, generation) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM dashboard_cache); "
                "UPDATE dashboard_cache SET generation = generation + 1, cached_generation = NULL, payload = NULL "
        "WHERE id = 1; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f'DROP TRIGGER IF EXISTS dashboard_generation_{table} ON "{table}"')
        op.execute("DROP FUNCTION IF EXISTS dashboard_generation_bump()")
    else:
        for table in WATCHED:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS dashboard_generation_{table}_{action}")
    op.drop_table("dashboard_cache")
