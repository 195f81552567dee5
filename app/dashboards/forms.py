"""Forms for leaders' actions and organisers' champion assignment: shape checks only."""

from __future__ import annotations

from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.core.forms import Form
from invitations.chasing import MAX_MESSAGE, MAX_NOTE


class NudgeForm(Form):
    message = TextAreaField(
        "Your message",
        validators=[
            DataRequired(message="Write a message to send: a line or two in your own words works best."),
            Length(max=MAX_MESSAGE, message=f"Please keep the message under {MAX_MESSAGE:,} characters."),
        ],
        description="Edit it as you like: a line or two in your own words works best.",
    )


class NoteForm(Form):
    text = TextAreaField(
        "What happened?",
        validators=[
            DataRequired(message="Write a few words, such as \u201cphoned 3 Oct, will register\u201d."),
            Length(max=MAX_NOTE, message=f"Please keep the note under {MAX_NOTE:,} characters."),
        ],
        description="For example \u201cphoned 3 Oct, will register\u201d. The organisers can see your notes.",
    )


class ActionForm(Form):
    """Only a CSRF token: for one-button actions such as Don't chase."""


class AssignChampionForm(Form):
    # "0" is a choice (no champion); an empty value is not, so nobody's champion is cleared by accident.
    champion_id = SelectField(
        "Champion for the ticked invitations",
        coerce=int,
        validators=[InputRequired(message="Choose a leader from the list.")],
    )
    return_to = HiddenField()


class WordingForm(Form):
    """An email's subject and body in the organisers' markup; what they may say is checked by
    app.core.mail.wording (placeholders offered and required)."""

    subject = StringField("Subject", validators=[InputRequired(message="Write a subject.")])
    body = TextAreaField(
        "Message",
        validators=[InputRequired(message="Write the message.")],
        description="A blank line starts a new paragraph. **Bold**, *italics*, [words](((personal_link))) for a "
        "link, and lines starting “- ” for a list. A link alone on its line becomes a button.",
        render_kw={"class": "wording-body", "rows": 24},
    )
