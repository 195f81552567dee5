"""registration questions: question, question_option (with places and a taken counter), answer

Revision ID: 0012_questions
Revises: 0011_message_wording
Create Date: 2026-12-07 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012_questions"
down_revision = "0011_message_wording"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "short_text",
                "long_text",
                "one_choice",
                "many_choices",
                "yes_no",
                name="questionkind",
                native_enum=False,
                create_constraint=True,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("help_text", sa.Text(), server_default="", nullable=False),
        sa.Column("required", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_position"), ["position"], unique=False)
    op.create_table(
        "question_option",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=True),
        sa.Column("taken", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("places IS NULL OR taken <= places", name=op.f("ck_question_option_taken_within_places")),
        sa.CheckConstraint("taken >= 0", name=op.f("ck_question_option_taken_not_negative")),
        sa.CheckConstraint("places IS NULL OR places >= 1", name=op.f("ck_question_option_places_positive")),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_question_option_question_id_question"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_option")),
    )
    with op.batch_alter_table("question_option", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_option_question_id"), ["question_id"], unique=False)
    op.create_table(
        "answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("option_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), server_default="", nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["invitation.id"], name=op.f("fk_answer_invitation_id_invitation"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["question_id"], ["question.id"], name=op.f("fk_answer_question_id_question")),
        sa.ForeignKeyConstraint(["option_id"], ["question_option.id"], name=op.f("fk_answer_option_id_question_option")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
        sa.UniqueConstraint("invitation_id", "question_id", "option_id", name=op.f("uq_answer_invitation_id")),
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_invitation_id"), ["invitation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_answer_option_id"), ["option_id"], unique=False)
        batch_op.create_index("ix_answer_question_option", ["question_id", "option_id"], unique=False)


def downgrade() -> None:
    op.drop_table("answer")
    op.drop_table("question_option")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_position"))
    op.drop_table("question")
