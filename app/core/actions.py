"""Running a domain action from a view: one commit when it works; when a rule says no, a rollback and the
rule's sentence shown where the person will look for it (beside the form field it names, else as a flash)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from flask import flash, render_template, request
from flask_wtf import FlaskForm

from app.core.db import db
from app.core.errors import DomainError

T = TypeVar("T")
ErrorTypes = type[DomainError] | tuple[type[DomainError], ...]


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of the action: when `ok`, `value` is what it returned; else `error` is the rule that said
    no, and `field` the form field its message was shown against (None when it was flashed, or not shown)."""

    ok: bool
    value: T
    error: DomainError | None = None
    field: str | None = None

    @classmethod
    def refused(cls, error: DomainError, field: str | None = None) -> Outcome[T]:
        return cls(ok=False, value=cast(T, None), error=error, field=field)


def run_action(
    action: Callable[[], T],
    *,
    form: FlaskForm | None = None,
    success: str | Callable[[T], str | None] | None = None,
    errors: ErrorTypes = DomainError,
    quiet: ErrorTypes = (),
) -> Outcome[T]:
    """Call `action`, then commit and flash `success` (a sentence, or a function of the result giving one).

    When it raises one of `errors`, roll back (or commit, when the error says its change must stand) and
    show the message: against the form field it names when `form` has that field, else as a flash. Errors
    in `quiet` are not shown: the view answers them itself. Any other error goes on to the app's handlers."""
    try:
        value = action()
    except errors as error:
        if error.commit_anyway:
            db.session.commit()
        else:
            db.session.rollback()
        if isinstance(error, quiet):
            return Outcome.refused(error)
        field = getattr(error, "field", None)
        if form is not None and field is not None and field in form:
            form[field].errors = [*form[field].errors, error.message]
            return Outcome.refused(error, field)
        flash(error.message, "error")
        return Outcome.refused(error)
    db.session.commit()
    message = success(value) if callable(success) else success
    if message:
        flash(message, "success")
    return Outcome(ok=True, value=value)


def confirm_step(
    form: FlaskForm,
    *,
    heading: str,
    consequences: list[str],
    button: str,
    back_url: str,
    back_label: str,
    back: str = "",
):
    """The step before an action that can't be undone. Asked for with GET, or sent back (409) when the POST came
    without confirm=yes: then nothing has changed, and the page says so."""
    asked_again = form.is_submitted()
    page = render_template(
        "core/confirm.html",
        heading=heading,
        consequences=consequences,
        button=button,
        action=request.path,
        back=back,
        back_url=back_url,
        back_label=back_label,
        asked_again=asked_again,
    )
    return page, 409 if asked_again else 200
