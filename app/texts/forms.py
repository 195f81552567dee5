"""The organisers' text form and its confirmation: shape checks only (app.texts.services has the rules)."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.core.forms import Form


class TextForm(Form):
    audience = RadioField(
        "Who it goes to",
        default="summit",
        validators=[DataRequired(message="Choose who the text goes to.")],
        description="Of them, those who gave a mobile number and haven't stopped texts.",
    )
    body = TextAreaField(
        "The text",
        validators=[
            DataRequired(message="Write the text to send."),
            Length(max=900, message="Keep the text under 900 characters."),
        ],
        description="Short and plain: “Doors open at 8:30 at Adastral Park — your badge: ((badge_link))”. "
        "((badge_link)) becomes each person's badge link and ((first_name)) their first name. Every text ends with "
        "a link to stop texts.",
    )


class SendTextForm(Form):
    """The confirmation: what was previewed, and the key that makes this one send however often it is pressed."""

    audience = HiddenField(validators=[DataRequired(), Length(max=40)])
    body = HiddenField(validators=[DataRequired(), Length(max=900)])
    key = HiddenField(validators=[DataRequired(), Length(max=64)])
