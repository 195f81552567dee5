"""Registration questions for tests: made through the organisers' service, committed."""

from __future__ import annotations

from app.core.db import db
from invitations import questions
from invitations.question_models import Question, QuestionKind

THEMES = ["Health and care", "Growth and skills", "Net zero", "Communities"]


def question(label: str, kind: QuestionKind, *, required: bool = False, help_text: str = "", options=()) -> Question:
    made = questions.add_question(
        questions.QuestionData(
            label=label,
            kind=kind,
            help_text=help_text,
            required=required,
            options=[(o, None) if isinstance(o, str) else o for o in options],
        )
    )
    db.session.commit()
    return made


def workshops(places: int = 90, required: bool = True) -> Question:
    return question(
        "Which theme's workshop would you like to join?",
        QuestionKind.ONE_CHOICE,
        required=required,
        help_text="Each workshop has limited places.",
        options=[(theme, places) for theme in THEMES],
    )
