"""Forms for delegates and organisers: shape checks only; rules that need other rows live in services."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.email_addresses import EmailAddress
from app.core.forms import Form, LondonDateTimeField
from app.core.mobile_numbers import NotAUkMobile, uk_mobile
from app.core.text_input import single_line
from invitations.question_models import Question, QuestionKind, QuestionOption

NAME = [DataRequired(message="Enter your full name."), Length(max=200, message="Keep the name under 200 characters.")]
ORG = [
    DataRequired(message="Enter your organisation."),
    Length(max=200, message="Keep the organisation under 200 characters."),
]
TITLE = [Optional(), Length(max=200, message="Keep the job title under 200 characters.")]
NEEDS = [Optional(), Length(max=1000, message="Please keep this under 1,000 characters.")]
MOBILE_CONSENT = (
    "A UK mobile number, if you'd like a text on the day. We'll only text you about the summit on the day. "
    "You can stop texts at any time."
)


class DetailsForm(Form):
    name = StringField("Full name", validators=NAME)
    organisation = StringField("Organisation", validators=ORG)
    job_title = StringField("Job title", validators=TITLE)
    dietary = TextAreaField(
        "Dietary requirements",
        validators=NEEDS,
        description="For example vegetarian, halal, or a nut allergy. Leave blank if none.",
    )
    access_needs = TextAreaField(
        "Access needs",
        validators=NEEDS,
        description="Anything that would help you take part: step-free access, a hearing loop, a seat near the front.",
    )
    mobile = TelField(
        "Mobile number",
        validators=[Optional(), Length(max=40, message="That is too long for a phone number.")],
        description=MOBILE_CONSENT,
    )

    def validate_mobile(self, field) -> None:
        try:
            uk_mobile(field.data or "")
        except NotAUkMobile as problem:
            raise ValidationError(str(problem)) from None


class RegistrationForm(DetailsForm):
    consent = BooleanField(
        "I agree that the organisers may use these details to run the summit, as the privacy notice explains",
        validators=[DataRequired(message="Please tick to agree, so that we can hold your place.")],
    )


def _option_label(option: QuestionOption) -> str:
    if option.full:
        return f"{option.label} (full)"
    if option.places is not None:
        left = option.places_left
        return f"{option.label} ({left} place{'s' if left != 1 else ''} left)"
    return option.label


def _question_field(question: Question, held: set[int]):
    """The field for one question: required or optional, its help text as the hint, a full option disabled
    (unless it is the person's own choice already)."""
    kind = question.kind
    message = f"Choose an answer to “{question.label}”: it's required."
    if kind in (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT):
        message = f"Answer “{question.label}”: it's required."
    if kind == QuestionKind.MANY_CHOICES:
        message = f"Choose at least one answer to “{question.label}”: it's required."
    needed = [InputRequired(message=message)] if question.required else [Optional()]
    common = dict(label=question.label, description=question.help_text or "")
    if kind == QuestionKind.SHORT_TEXT:
        return StringField(validators=[*needed, Length(max=300, message="Keep this under 300 characters.")], **common)
    if kind == QuestionKind.LONG_TEXT:
        return TextAreaField(
            validators=[*needed, Length(max=2000, message="Keep this under 2,000 characters.")], **common
        )
    if kind == QuestionKind.YES_NO:
        return RadioField(choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")], validators=needed, **common)
    choices = [
        SelectChoice(str(o.id), _option_label(o), {"disabled": True} if o.full and o.id not in held else {})
        for o in question.options
    ]
    if kind == QuestionKind.ONE_CHOICE:
        return RadioField(choices=choices, validators=needed, **common)
    return SelectMultipleField(
        choices=choices,
        validators=needed,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        **common,
    )


def with_questions(form_class, questions: list[Question], held: set[int]):
    """The registration or details form with a field per question shown (named q_<id>, in the organisers' order)."""

    class WithQuestions(form_class):
        pass

    for question in questions:
        setattr(WithQuestions, question.field_name, _question_field(question, held))
    return WithQuestions


class DeclineForm(Form):
    reason = TextAreaField(
        "Would you tell us why? (optional)",
        validators=NEEDS,
        description="It helps us plan. Your council's champion may see it.",
    )


class ColleagueForm(Form):
    name = StringField(
        "Your colleague's full name", validators=[DataRequired(message="Enter your colleague's name."), Length(max=200)]
    )
    email = EmailField(
        "Their work email",
        validators=[
            DataRequired(message="Enter your colleague's email address."),
            Email(message="Enter a valid email address, like name@council.gov.uk."),
            Length(max=254),
        ],
    )
    organisation = StringField(
        "Their organisation", validators=[DataRequired(message="Enter your colleague's organisation."), Length(max=200)]
    )
    job_title = StringField("Their job title", validators=TITLE)


class InvitationForm(Form):
    email = EmailField(
        "Email",
        validators=[
            DataRequired(message="Enter the invitee's email address."),
            Email(message="Enter a valid email address."),
            Length(max=254),
        ],
    )
    name = StringField("Full name", validators=[DataRequired(message="Enter the invitee's name."), Length(max=200)])
    organisation = StringField(
        "Organisation", validators=[DataRequired(message="Enter the organisation."), Length(max=200)]
    )
    job_title = StringField("Job title", validators=TITLE)
    sector = StringField("Sector", validators=[Optional(), Length(max=100)])
    champion_id = SelectField("Champion (a leader)", coerce=int, validators=[Optional()])


class ImportForm(Form):
    file = FileField(
        "Spreadsheet (.xlsx) or CSV file",
        validators=[FileRequired(message="Choose a spreadsheet or CSV file to upload.")],
        description="An Excel workbook (its first sheet) or CSV, with a row of headings: email address, name and "
        "organisation (or council) at least; job title and champion email if you have them.",
    )


def columns_form(headings: list[str], choices: list[str]) -> Form:
    """A select per column of the file: which field it holds, or ignore it."""
    from invitations import import_columns

    options = [SelectChoice(value, label[0].upper() + label[1:]) for value, label in import_columns.LABELS.items()]

    class ColumnsForm(Form):
        pass

    for index in range(len(headings)):
        described = import_columns.describe(index, headings)
        label = described[0].upper() + described[1:]
        setattr(
            ColumnsForm,
            f"column_{index}",
            SelectField(label, choices=options, default=choices[index] if index < len(choices) else "ignore"),
        )
    return ColumnsForm()


def leaders_form(people: list[tuple[str, str]]) -> Form:
    """A name for each unknown champion's leader account (the addresses come from the checked file, not the form)."""

    class LeadersForm(Form):
        pass

    for index, (email, name) in enumerate(people):
        setattr(
            LeadersForm,
            f"name_{index}",
            StringField(
                f"Name for {email}",
                default=name,
                validators=[
                    DataRequired(f"Give {email} a name."),
                    Length(max=200, message="Keep the name under 200 characters."),
                ],
                filters=[single_line],
            ),
        )
    return LeadersForm()


class ImportConfirmForm(Form):
    # The id of the checked file kept on the server (invitations/import_previews.py), not the file itself.
    preview = HiddenField(validators=[DataRequired(), Length(max=64)])


def _signatory_fields():
    """Who signs the emails and the address they come from: on the set-up page and the summit settings."""
    return (
        StringField(
            "Who signs the emails: name",
            validators=[Optional(), Length(max=200, message="Keep the name under 200 characters.")],
            description="The person every email is signed by, for example Sarah Jones. Leave blank to sign as "
            "“The organisers of” the summit.",
        ),
        StringField(
            "Their role",
            validators=[Optional(), Length(max=200, message="Keep the role under 200 characters.")],
            description="Shown under their name, for example Programme Manager, Suffolk County Council.",
        ),
        EmailField(
            "The address emails come from",
            validators=[
                Optional(),
                EmailAddress("Enter an email address, like events@suffolk.gov.uk, or leave it blank."),
                Length(max=254),
            ],
            description="People see it as the sender, and their replies come back to it. It must be an address your "
            "email service may send from (ask IT if unsure). Leave blank for the server's own address.",
        ),
    )


class SetUpForm(Form):
    """A fresh server's first page for an organiser: the few facts the summit can't run without."""

    name = StringField(
        "The summit's name", validators=[DataRequired(message="Enter the summit's name."), Length(max=200)]
    )
    starts_at = LondonDateTimeField(
        "Starts (UK time)", validators=[InputRequired(message="Enter when the summit starts.")]
    )
    ends_at = LondonDateTimeField("Ends (UK time)", validators=[InputRequired(message="Enter when the summit ends.")])
    venue = StringField("Venue", validators=[DataRequired(message="Enter the venue."), Length(max=200)])
    address = StringField(
        "Venue address",
        validators=[DataRequired(message="Enter the venue's address."), Length(max=400)],
        description="With the postcode, so that maps and calendars find it.",
    )
    capacity = IntegerField(
        "Capacity (places)",
        validators=[
            InputRequired(message="Enter the capacity: how many places there are."),
            NumberRange(min=1, max=100000, message="Enter a capacity from 1 to 100,000 places."),
        ],
        description="The hard cap: registrations never go beyond it.",
    )
    target = IntegerField(
        "Target",
        validators=[
            InputRequired(message="Enter the target."),
            NumberRange(min=0, max=100000, message="Enter a target from 0 to 100,000."),
        ],
        description="How many you aim for; no more than the capacity.",
    )
    signatory_name, signatory_role, sender_email = _signatory_fields()

    # Checked here as well as in the service, so that every mistake on the page is shown at once.
    def validate_ends_at(self, field) -> None:
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError("The summit must end after it starts.")

    def validate_target(self, field) -> None:
        capacity = self.capacity.data
        if isinstance(capacity, int) and field.data is not None and field.data > capacity:
            raise ValidationError(f"The target ({field.data}) can't be more than the capacity ({capacity}).")


class SummitForm(Form):
    name = StringField("Name", validators=[DataRequired(message="Enter the summit's name."), Length(max=200)])
    tagline = TextAreaField(
        "Why it matters",
        validators=[Optional(), Length(max=1000)],
        description="One or two sentences shown on every delegate's page.",
    )
    venue = StringField("Venue", validators=[DataRequired(message="Enter the venue."), Length(max=200)])
    address = StringField("Address", validators=[DataRequired(message="Enter the venue's address."), Length(max=400)])
    starts_at = LondonDateTimeField(
        "Starts (UK time)", validators=[InputRequired(message="Enter when the summit starts.")]
    )
    ends_at = LondonDateTimeField("Ends (UK time)", validators=[InputRequired(message="Enter when the summit ends.")])
    registration_opens_at = LondonDateTimeField(
        "Registration opens (UK time)", validators=[Optional()], description="Leave blank to open now."
    )
    registration_closes_at = LondonDateTimeField(
        "Registration closes (UK time)",
        validators=[Optional()],
        description="Leave blank to keep it open until the day.",
    )
    capacity = IntegerField(
        "Capacity (hard cap)",
        validators=[
            InputRequired(message="Enter the capacity."),
            NumberRange(min=0, max=100000, message="Enter a number from 0 to 100,000."),
        ],
    )
    target = IntegerField(
        "Target",
        validators=[
            InputRequired(message="Enter the target."),
            NumberRange(min=0, max=100000, message="Enter a number from 0 to 100,000."),
        ],
    )
    offer_hold_hours = IntegerField(
        "Hold a waiting-list offer for (hours)",
        validators=[
            InputRequired(message="Enter the hold time."),
            NumberRange(min=1, max=336, message="Enter between 1 and 336 hours (14 days)."),
        ],
    )
    signatory_name, signatory_role, sender_email = _signatory_fields()
    leaders_may_nudge_unsent = BooleanField(
        "Leaders may nudge before the invitation is sent",
        description="Off: a leader can nudge someone only once their invitation has gone, so nobody gets their "
        "personal link from a leader first.",
    )


class ScheduleForm(Form):
    """When to send a group's invitations or reminders (the group comes with it, as on the page)."""

    due_at = LondonDateTimeField(
        "Send at (UK time)",
        validators=[InputRequired(message="Enter the date and time to send them (UK time).")],
        description="The group is worked out again when they go, so people who answer before then aren't sent one.",
    )


class CoveringNoteForm(Form):
    note = TextAreaField(
        "A covering note (optional)",
        description="Goes above the invitation, in the invitations sent or scheduled from this page only. The same "
        "markup and placeholders as the invitation's wording.",
    )


class QuestionForm(Form):
    """An organiser's registration question: its wording, kind, help text, whether it must be answered, and up
    to eight options (a one-choice option may limit its places)."""

    label = StringField(
        "The question",
        validators=[
            DataRequired(message="Enter the question."),
            Length(max=300, message="Keep it under 300 characters."),
        ],
        description="As delegates will read it, for example “Which theme's workshop would you like to join?”",
    )
    kind = RadioField(
        "Kind of answer",
        choices=[SelectChoice(k.value, k.label) for k in QuestionKind],
        default=QuestionKind.SHORT_TEXT.value,
        validators=[InputRequired(message="Choose the kind of answer.")],
    )
    help_text = TextAreaField(
        "Help text",
        validators=[Optional(), Length(max=1000, message="Keep the help text under 1,000 characters.")],
        description="Shown under the question, to help people answer it.",
    )
    required = BooleanField("Delegates must answer this question")


OPTION_ROWS = 8
for _n in range(1, OPTION_ROWS + 1):
    setattr(
        QuestionForm,
        f"option_{_n}_label",
        StringField(
            f"Option {_n}", validators=[Optional(), Length(max=200, message="Keep an option under 200 characters.")]
        ),
    )
    setattr(
        QuestionForm,
        f"option_{_n}_places",
        IntegerField(
            f"Places for option {_n}",
            validators=[
                Optional(),
                NumberRange(
                    min=1, max=100000, message="Enter a number of places from 1 to 100,000, or leave it blank."
                ),
            ],
        ),
    )
