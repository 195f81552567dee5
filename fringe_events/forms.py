"""Forms for fringe events: shape checks only; rules that need other rows (full, cancelled) live in services."""

from __future__ import annotations

from wtforms import HiddenField, IntegerField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from app.core.forms import Form, LondonDateTimeField

OPTIONAL_LINE = [Optional(), Length(max=200, message="Keep this under 200 characters.")]


class EventForm(Form):
    title = StringField("Title", validators=[DataRequired(message="Give the event a title."), Length(max=200)])
    theme = StringField(
        "Theme or enquiry",
        validators=OPTIONAL_LINE,
        description="The Lives we Lead enquiry or theme it belongs to, e.g. High demand families.",
    )
    description = TextAreaField(
        "What it's about",
        validators=[Optional(), Length(max=4000)],
        description="Two or three sentences for delegates: what they'll do and why it matters.",
    )
    host_organisation = StringField("Host organisation", validators=OPTIONAL_LINE)
    host_lead = StringField("Lead", validators=OPTIONAL_LINE, description="Who leads the session.")
    venue = StringField("Venue", validators=[DataRequired(message="Enter the venue."), Length(max=200)])
    address = StringField(
        "Address",
        validators=[Optional(), Length(max=400)],
        description="With the postcode, so that maps and calendars find it.",
    )
    starts_at = LondonDateTimeField(
        "Starts (UK time)", validators=[InputRequired(message="Enter when the event starts.")]
    )
    ends_at = LondonDateTimeField("Ends (UK time)", validators=[InputRequired(message="Enter when the event ends.")])
    joining_link = StringField(
        "Joining link (Teams or Zoom)",
        validators=[Optional(), Length(max=500, message="Keep the link under 500 characters.")],
        description="For an online event. Only people signed up see it, on their own page and in their sign-up "
        "email; it is never on the public programme or in a calendar file.",
    )
    capacity = IntegerField(
        "Places",
        validators=[Optional(), NumberRange(min=0, max=10000, message="Enter a number from 0 to 10,000.")],
        description="Leave blank for no limit.",
    )


class CancelEventForm(Form):
    reason = TextAreaField(
        "Why is it cancelled? (optional)",
        validators=[Optional(), Length(max=1000)],
        description="We include this in the email to everyone signed up.",
    )


class SignupForm(Form):
    """A delegate's one-button sign-up or cancel; `back` says which page to return to."""

    back = HiddenField(validators=[Optional(), AnyOf(["home", "programme", "event"])])


class AttendanceForm(Form):
    """The attendance list: a checkbox per person, posting the ticked invitation ids."""

    attended = SelectMultipleField(coerce=int, validate_choice=False)
    # Set by the confirm step: yes, mark attendance for an event that hasn't started yet.
    before_start = HiddenField(validators=[Optional(), AnyOf(["yes"])])


class PersonForm(Form):
    """One person, by invitation id: recording a walk-in or undoing an attendance."""

    invitation_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])
    before_start = HiddenField(validators=[Optional(), AnyOf(["yes"])])
