"""Delegates' answers to the registration questions, and the places of limited options (invariant 1).

A choice answer holds a place on its option's counter for as long as the person is registered: it is taken by
one conditional UPDATE (`taken = taken + 1 WHERE taken < places`), in the transaction that saves the answer and
inside the person's transition (invitations.transitions), and given back when the answer changes or the place
is given up. `summit check` recomputes every counter from the answers (invitations.consistency)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import delete, func, or_, select, update

from app.core.db import changed, db, utcnow
from app.core.errors import ValidationFailed
from invitations.models import Invitation, InvitationState
from invitations.question_models import Answer, Question, QuestionKind, QuestionOption

# What a delegate sent for one question: the text ("yes"/"no" for yes/no), or the ids of the options chosen.
Submitted = Mapping[int, str | Sequence[int]]


def shown_questions() -> list[Question]:
    """The questions on the register and change-details pages, in the organisers' order."""
    return list(
        db.session.scalars(
            select(Question).where(Question.hidden.is_(False)).order_by(Question.position, Question.id)
        ).unique()
    )


def shown_answers(invitation_id: int) -> list[tuple[str, str]]:
    """What the person answered to the questions the forms show, as (question, words), in the organisers' order:
    the text ("Yes" or "No" for a yes/no), or the options chosen joined with "; ". One statement."""
    words: dict[int, tuple[str, list[str]]] = {}
    rows = db.session.execute(
        select(Question.id, Question.label, Question.kind, Answer.text, QuestionOption.label)
        .join(Question, Question.id == Answer.question_id)
        .outerjoin(QuestionOption, QuestionOption.id == Answer.option_id)
        .where(Answer.invitation_id == invitation_id, Question.hidden.is_(False))
        .order_by(Question.position, Question.id, QuestionOption.position, Answer.id)
    )
    for question_id, label, kind, text, option_label in rows:
        said = option_label or (text.capitalize() if kind == QuestionKind.YES_NO else text)
        if said:
            words.setdefault(question_id, (label, []))[1].append(said)
    return [(label, "; ".join(parts)) for label, parts in words.values()]


def answers_of(invitation_id: int) -> list[Answer]:
    return list(db.session.scalars(select(Answer).where(Answer.invitation_id == invitation_id).order_by(Answer.id)))


def current_values(invitation_id: int) -> dict[int, str | list[int]]:
    """What the person answered, by question id: the form's starting values."""
    values: dict[int, str | list[int]] = {}
    for answer in answers_of(invitation_id):
        if answer.option_id is None:
            values[answer.question_id] = answer.text
        else:
            chosen = values.setdefault(answer.question_id, [])
            if isinstance(chosen, list):
                chosen.append(answer.option_id)
    return values


def take_option_place(option_id: int) -> bool:
    """One conditional UPDATE both checks and counts: two transactions can never both take the last place."""
    result = db.session.execute(
        update(QuestionOption)
        .where(
            QuestionOption.id == option_id,
            or_(QuestionOption.places.is_(None), QuestionOption.taken < QuestionOption.places),
        )
        .values(taken=QuestionOption.taken + 1)
        .execution_options(synchronize_session="fetch")
    )
    return changed(result) == 1


def release_option_place(option_id: int) -> None:
    db.session.execute(
        update(QuestionOption)
        .where(QuestionOption.id == option_id, QuestionOption.taken > 0)
        .values(taken=QuestionOption.taken - 1)
        .execution_options(synchronize_session="fetch")
    )


def full_sentence(question: Question, option: QuestionOption) -> str:
    return (
        f"“{option.label}” is full: all {option.places} places have been taken. "
        f"Please choose another answer to “{question.label}”."
    )


def save_answers(invitation: Invitation, submitted: Submitted | None) -> None:
    """Replace the person's answers to the questions in `submitted` (the ones their form showed); others stay.
    The caller has begun the person's transition and is registering them, or they are registered."""
    if not submitted:  # no questions shown: nothing to read or write (a registration stays at its 8 statements)
        return
    now = utcnow()
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.id.in_(list(submitted))))}
    for question_id, value in submitted.items():
        question = questions.get(question_id)
        if question is None:
            continue
        old = list(
            db.session.scalars(
                select(Answer).where(Answer.invitation_id == invitation.id, Answer.question_id == question_id)
            )
        )
        if question.kind.has_options:
            _save_choices(invitation, question, old, value, now)
        else:
            _save_text(invitation, question, old, value if isinstance(value, str) else "", now)
    db.session.flush()


def _save_text(invitation: Invitation, question: Question, old: list[Answer], text: str, now) -> None:
    text = text.strip()
    if question.kind == QuestionKind.YES_NO and text not in ("yes", "no"):
        text = ""
    if not text:
        for answer in old:
            db.session.delete(answer)
        return
    if old:
        if old[0].text != text:
            old[0].text = text
            old[0].answered_at = now
        for extra in old[1:]:
            db.session.delete(extra)
    else:
        db.session.add(Answer(invitation_id=invitation.id, question_id=question.id, text=text, answered_at=now))


def _save_choices(invitation: Invitation, question: Question, old: list[Answer], value, now) -> None:
    options = {o.id: o for o in question.options}
    chosen = [int(v) for v in (value if not isinstance(value, str) else [value]) if str(v).isdigit()]
    chosen = list(dict.fromkeys(i for i in chosen if i in options))
    if question.kind == QuestionKind.ONE_CHOICE:
        chosen = chosen[:1]
    held: dict[int | None, Answer] = {answer.option_id: answer for answer in old}
    for option_id in chosen:
        if option_id in held:
            continue
        if not take_option_place(option_id):
            raise ValidationFailed(full_sentence(question, options[option_id]), field=question.field_name)
        db.session.add(
            Answer(invitation_id=invitation.id, question_id=question.id, option_id=option_id, answered_at=now)
        )
    for held_id, answer in held.items():
        if held_id not in chosen:
            if held_id is not None:
                release_option_place(held_id)
            db.session.delete(answer)


def release_choices(invitation: Invitation) -> int:
    """The person gives their place up (cancels, declines an offer they took, is revoked, erased, hands on): every
    option they chose gives its place back, and the choice goes with it. Returns how many were given back."""
    held = list(
        db.session.scalars(select(Answer).where(Answer.invitation_id == invitation.id, Answer.option_id.is_not(None)))
    )
    for answer in held:
        if answer.option_id is not None:
            release_option_place(answer.option_id)
        db.session.delete(answer)
    db.session.flush()
    return len(held)


def erase_answers(invitation_id: int) -> None:
    """Erasure: what the person wrote goes; a choice stays only while it still holds a place (anonymising a
    registered person after the event keeps the counts)."""
    db.session.execute(
        delete(Answer)
        .where(Answer.invitation_id == invitation_id, Answer.option_id.is_(None))
        .execution_options(synchronize_session=False)
    )


def answered_counts() -> dict[int, int]:
    """How many registered delegates answered each question (any answer at all), by question id."""
    rows = db.session.execute(
        select(Answer.question_id, func.count(func.distinct(Answer.invitation_id)))
        .join(Invitation, Invitation.id == Answer.invitation_id)
        .where(Invitation.state == InvitationState.REGISTERED)
        .group_by(Answer.question_id)
    ).all()
    return {question_id: count for question_id, count in rows}


def answers_by_person() -> tuple[list[Question], dict[int, dict[int, str]]]:
    """Every question (hidden ones too: their answers are kept) and each person's answers as words: the text,
    or the options chosen joined with "; ". For the organisers' exports: a column per question."""
    questions = list(db.session.scalars(select(Question).order_by(Question.position, Question.id)))
    words: dict[int, dict[int, list[str]]] = {}
    rows = db.session.execute(
        select(Answer.invitation_id, Answer.question_id, Answer.text, QuestionOption.label)
        .outerjoin(QuestionOption, QuestionOption.id == Answer.option_id)
        .order_by(Answer.invitation_id, Answer.question_id, QuestionOption.position, Answer.id)
    )
    for invitation_id, question_id, text, option_label in rows:
        words.setdefault(invitation_id, {}).setdefault(question_id, []).append(option_label or text)
    return questions, {
        person: {question: "; ".join(parts) for question, parts in theirs.items()} for person, theirs in words.items()
    }
