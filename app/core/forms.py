"""Forms and fields shared by every part of the app (the kernel's): one-button actions, London-time inputs, and
text cleaned of control characters on input."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import Any

from flask import g
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import DateTimeLocalField, HiddenField, PasswordField, StringField, TextAreaField, ValidationError
from wtforms.csrf.core import CSRF, CSRFTokenField
from wtforms.meta import DefaultMeta
from wtforms.validators import AnyOf, Optional

from app.core.text_input import multi_line, single_line
from app.core.timefmt import LONDON, input_value

# What a person sees when a form's token no longer checks out: the page was open for a long time, or the
# browser forgot its session. Never "The CSRF token is invalid. Error 400".
STALE_FORM = "That page had been open a long time \u2014 please press the button again."


class _PlainWordsCSRF(CSRF):
    """Flask-WTF's token check (its public generate_csrf / validate_csrf), failing in plain words."""

    def setup_form(self, form):
        self.meta = form.meta
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field) -> str:
        return generate_csrf(secret_key=self.meta.csrf_secret, token_key=self.meta.csrf_field_name)

    def validate_csrf_token(self, form, field) -> None:
        if g.get("csrf_valid", False):  # CSRFProtect has checked this request's token already
            return
        try:
            validate_csrf(field.data, self.meta.csrf_secret, self.meta.csrf_time_limit, self.meta.csrf_field_name)
        except ValidationError:
            raise ValidationError(STALE_FORM) from None


class Form(FlaskForm):
    """Every form of the app.

    Its CSRF token renders without an id: a page may hold many forms (a leader's page has one per person), and
    an id must be unique on the page. When its token no longer checks out, it fails in plain words
    (STALE_FORM), and the app's CSRF handler renders a form with typed input again (views marked
    `rerenders_stale_form`): with what was typed, a fresh token and STALE_FORM against it; its validation
    fails, so nothing is saved."""

    class Meta(DefaultMeta):
        csrf_class = _PlainWordsCSRF

        def bind_field(self, form, unbound_field, options):
            """Every text field is cleaned on input (app.core.text_input): a one-line field (names,
            organisations, titles, subjects, addresses) loses line breaks and control characters, a text area
            its control characters but not its lines. Passwords are taken exactly as typed."""
            cleaner = _text_cleaner(unbound_field.field_class)
            if cleaner is not None:
                options = {**options, "filters": (cleaner, *unbound_field.kwargs.get("filters", ()))}
            return super().bind_field(form, unbound_field, options)

        def render_field(self, field, render_kw):
            if isinstance(field, CSRFTokenField):
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


def _text_cleaner(field_class: type) -> Callable[[str | None], str | None] | None:
    if not issubclass(field_class, StringField) or issubclass(field_class, PasswordField):
        return None
    return multi_line if issubclass(field_class, TextAreaField) else single_line


class ConfirmForm(Form):
    """A form with only its CSRF token: for one-button actions."""


class ConfirmStepForm(Form):
    """An action that can't be undone (revoke, a new badge code): it acts only when sent from the page that says
    what it will break, which sends confirm=yes. Sent without it, nothing changes and that page is shown."""

    confirm = HiddenField(validators=[Optional(), AnyOf(["yes"])])

    @property
    def confirmed(self) -> bool:
        return self.confirm.data == "yes"


class LondonDateTimeField(DateTimeLocalField):
    """A `datetime-local` input in UK wall time (Europe/London, whatever the season), for a UTC column:
    it shows a stored UTC datetime as London time, and gives back what was typed as an aware UTC datetime."""

    data: Any  # an aware UTC datetime, or None (Any, as every other WTForms field's data)

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        return input_value(self.data)

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        wall_time = self.data  # naive, as typed
        if wall_time is not None:
            self.data = wall_time.replace(tzinfo=LONDON).astimezone(UTC)
