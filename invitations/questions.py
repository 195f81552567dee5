"""The organisers' registration questions: add, edit, reorder, hide or show, delete (only while unanswered).
Every change is audited; services flush, the view commits."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from app.core import audit
from app.core.db import changed, db
from app.core.errors import InvalidState, NotFound, ValidationFailed
from invitations import answers
from invitations.question_models import Answer, Question, QuestionKind, QuestionOption

MAX_OPTIONS = 8
AUDITED = "question.changed"


@dataclass(frozen=True)
class QuestionData:
    label: str
    kind: QuestionKind
    help_text: str = ""
    required: bool = False
    # (label, places or None) for each option row, in order; a row with no label is no option.
    options: list[tuple[str, int | None]] = field(default_factory=list)


def all_questions() -> list[Question]:
    return list(db.session.scalars(select(Question).order_by(Question.position, Question.id)))


def get_question(question_id: int) -> Question:
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound("There is no such question: it may have been deleted.")
    return question


def answer_count(question_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(func.distinct(Answer.invitation_id))).where(Answer.question_id == question_id)
        )
        or 0
    )


def _option_answers(option_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.option_id == option_id)) or 0


def _check(data: QuestionData) -> list[tuple[int, str, int | None]]:
    """The option rows that are options (row number from 1, label, places), or ValidationFailed naming the field."""
    rows = [(n, label.strip(), places) for n, (label, places) in enumerate(data.options, start=1)]
    filled = [row for row in rows if row[1]]
    if data.kind.has_options:
        if len(filled) < 2:
            raise ValidationFailed(
                "A choice question needs at least two options: fill in the second.", field="option_2_label"
            )
        seen: set[str] = set()
        for n, label, _ in filled:
            if label.lower() in seen:
                raise ValidationFailed(f"“{label}” is listed twice: give each option once.", field=f"option_{n}_label")
            seen.add(label.lower())
    for n, label, places in rows:
        if places is not None:
            if data.kind != QuestionKind.ONE_CHOICE:
                raise ValidationFailed(
                    "Only a one-choice question can limit an option's places: leave this blank.",
                    field=f"option_{n}_places",
                )
            if not label:
                raise ValidationFailed("Give this option a name, or leave its places blank.", field=f"option_{n}_label")
            if places < 1:
                raise ValidationFailed(
                    "Enter at least 1 place, or leave it blank for no limit.", field=f"option_{n}_places"
                )
    return filled if data.kind.has_options else []


def add_question(data: QuestionData, *, actor=None) -> Question:
    options = _check(data)
    last = db.session.scalar(select(func.max(Question.position))) or 0
    question = Question(
        label=data.label.strip(),
        kind=data.kind,
        help_text=data.help_text.strip(),
        required=data.required,
        position=last + 1,
    )
    question.options = [
        QuestionOption(label=label, places=places, position=i) for i, (_, label, places) in enumerate(options)
    ]
    db.session.add(question)
    db.session.flush()
    audit.record(AUDITED, actor=actor, change="added", question=question.label)
    return question


def edit_question(question: Question, data: QuestionData, *, actor=None) -> Question:
    """Rows map to the existing options in order: a row renamed renames its option, a row emptied removes it
    (only while nobody has chosen it), new rows add options. A limit can't go below the places already taken."""
    rows = _check(data)
    answered = answer_count(question.id)
    if data.kind != question.kind and answered:
        raise ValidationFailed(
            f"{answered} {'person has' if answered == 1 else 'people have'} answered this question, so its kind "
            "can't change. Hide it and add a new question instead.",
            field="kind",
        )
    existing = list(question.options)
    by_row = {n: (label, places) for n, label, places in rows}
    for n, option in enumerate(existing, start=1):
        if n not in by_row:
            chosen = _option_answers(option.id)
            if chosen:
                raise ValidationFailed(
                    f"“{option.label}” has been chosen by {chosen} "
                    f"{'person' if chosen == 1 else 'people'}, so it can't be removed.",
                    field=f"option_{n}_label",
                )
            question.options.remove(option)
            continue
        label, places = by_row[n]
        option.label = label
        if places != option.places:
            within = [QuestionOption.taken <= places] if places is not None else []
            moved = db.session.execute(
                update(QuestionOption)
                .where(QuestionOption.id == option.id, *within)
                .values(places=places)
                .execution_options(synchronize_session="fetch")
            )
            if changed(moved) != 1:
                db.session.refresh(option)
                raise ValidationFailed(
                    f"{option.taken} places of “{option.label}” are taken already: the limit can't be lower than that.",
                    field=f"option_{n}_places",
                )
    for n, label, places in rows:
        if n > len(existing):
            question.options.append(QuestionOption(label=label, places=places, position=n - 1))
    for i, option in enumerate(question.options):
        option.position = i
    question.label = data.label.strip()
    question.kind = data.kind
    question.help_text = data.help_text.strip()
    question.required = data.required
    db.session.flush()
    audit.record(AUDITED, actor=actor, change="edited", question=question.label)
    return question


def move_question(question: Question, direction: str, *, actor=None) -> None:
    """Swap the question with its neighbour above ("up") or below ("down"); at either end, nothing moves."""
    ordered = all_questions()
    for i, q in enumerate(ordered):  # positions made distinct and dense first
        q.position = i + 1
    index = ordered.index(question)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise ValidationFailed("Move a question up or down.")
    if 0 <= other < len(ordered):
        ordered[index].position, ordered[other].position = ordered[other].position, ordered[index].position
        audit.record(AUDITED, actor=actor, change=f"moved {direction}", question=question.label)
    db.session.flush()


def set_hidden(question: Question, hidden: bool, *, actor=None) -> None:
    if question.hidden == hidden:
        return
    question.hidden = hidden
    db.session.flush()
    audit.record(AUDITED, actor=actor, change="hid" if hidden else "showed", question=question.label)


def delete_question(question: Question, *, actor=None) -> None:
    count = answer_count(question.id)
    if count:
        raise InvalidState(
            f"“{question.label}” has {count} answer{'s' if count != 1 else ''}, so it can't be deleted: "
            "hide it instead, and it leaves the forms while the answers stay."
        )
    label = question.label
    db.session.delete(question)
    db.session.flush()
    audit.record(AUDITED, actor=actor, change="deleted", question=label)


@dataclass(frozen=True)
class QuestionSummary:
    question: Question
    answered: int  # registered delegates who gave any answer


def summaries() -> list[QuestionSummary]:
    """For the dashboard: each question, how many registered delegates answered it, and (through its options'
    counters) how many chose each option."""
    counts = answers.answered_counts()
    return [QuestionSummary(question=q, answered=counts.get(q.id, 0)) for q in all_questions()]
