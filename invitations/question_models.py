"""Registration questions the organisers add, their options (a one-choice option may limit its places), and
delegates' answers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, UTCDateTime, enum_column, utcnow


class QuestionKind(enum.Enum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    ONE_CHOICE = "one_choice"
    MANY_CHOICES = "many_choices"
    YES_NO = "yes_no"

    @property
    def label(self) -> str:
        return KIND_LABELS[self]

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.ONE_CHOICE, QuestionKind.MANY_CHOICES)


KIND_LABELS = {
    QuestionKind.SHORT_TEXT: "Short text",
    QuestionKind.LONG_TEXT: "Long text",
    QuestionKind.ONE_CHOICE: "One choice",
    QuestionKind.MANY_CHOICES: "Several choices",
    QuestionKind.YES_NO: "Yes or no",
}


class Question(Base):
    __tablename__ = "question"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(300))
    kind: Mapped[QuestionKind] = mapped_column(enum_column(QuestionKind))
    help_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    required: Mapped[bool] = mapped_column(default=False, server_default=false())
    hidden: Mapped[bool] = mapped_column(default=False, server_default=false())
    position: Mapped[int] = mapped_column(default=0, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    options: Mapped[list[QuestionOption]] = relationship(
        back_populates="question", order_by="QuestionOption.position", cascade="all, delete-orphan"
    )

    @property
    def field_name(self) -> str:
        return f"q_{self.id}"


class QuestionOption(Base):
    """One choice of a question. `taken` counts the registered delegates who chose it (each answer holds a
    place); `places`, on a one-choice question, caps it: taken by one conditional UPDATE, like the summit."""

    __tablename__ = "question_option"
    __table_args__ = (
        CheckConstraint("places IS NULL OR taken <= places", name="taken_within_places"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
        CheckConstraint("places IS NULL OR places >= 1", name="places_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    places: Mapped[int | None] = mapped_column()
    taken: Mapped[int] = mapped_column(default=0, server_default="0")

    question: Mapped[Question] = relationship(back_populates="options")

    @property
    def full(self) -> bool:
        return self.places is not None and self.taken >= self.places

    @property
    def places_left(self) -> int | None:
        return None if self.places is None else max(self.places - self.taken, 0)


class Answer(Base):
    """A delegate's answer: text (short, long, "yes"/"no"), or one row per option chosen. Choice answers exist
    only while the person is registered: giving the place up gives the options' places back with them."""

    __tablename__ = "answer"
    __table_args__ = (
        UniqueConstraint("invitation_id", "question_id", "option_id"),  # one answer per option
        Index("ix_answer_question_option", "question_id", "option_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("question.id"))
    option_id: Mapped[int | None] = mapped_column(ForeignKey("question_option.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    question: Mapped[Question] = relationship()
    option: Mapped[QuestionOption | None] = relationship()
