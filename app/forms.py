"""Forms and fields shared by every part of the app (the kernel's): one-button actions, London-time inputs."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField
from wtforms.csrf.core import CSRFTokenField
from wtforms.meta import DefaultMeta

from app.timefmt import LONDON, input_value


class Form(FlaskForm):
    """Every form of the app. Its CSRF token renders without an id: a page may hold many forms (a leader's page
    has one per person), and an id must be unique on the page."""

    class Meta(DefaultMeta):
        def render_field(self, field, render_kw):
            if isinstance(field, CSRFTokenField):
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


class ConfirmForm(Form):
    """A form with only its CSRF token: for one-button actions."""


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
