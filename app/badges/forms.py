"""Organisers' badge forms: which badges to print and how, a badge's role, badges for staff and speakers, and
confirmations."""

from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired
from wtforms.widgets import CheckboxInput, ListWidget

from app.badges.builders import DEFAULT_LAYOUT, LAYOUTS, NO_PLACE_BANDS, ROLES
from app.badges.rules import PRINT_FILTERS
from app.core.forms import ConfirmStepForm, Form

MAX_NAMED = 200  # speakers and guests on one print
MAX_FIELD = 200  # a name or an organisation, as an invitation's


class PrintForm(Form):
    which = RadioField(
        "Which badges",
        choices=[SelectChoice(k, v) for k, v in PRINT_FILTERS.items()],
        default="new",
        validators=[DataRequired(message="Choose which badges to print.")],
    )
    layout = RadioField(
        "Sheet layout",
        choices=[SelectChoice(k, v.label) for k, v in LAYOUTS.items()],
        default=DEFAULT_LAYOUT,
        validators=[DataRequired(message="Choose a sheet layout.")],
    )


class ReissueForm(ConfirmStepForm):
    back = HiddenField()


class ReprintForm(Form):
    """One badge printed again, from the organisers' invitation page."""


class RoleForm(Form):
    badge_role = SelectField("Badge role", choices=[SelectChoice(k, v[0]) for k, v in ROLES.items()])
    back = HiddenField()


def parse_named(text: str) -> list[tuple[str, str]]:
    """Lines of "Name, Organisation" (the organisation may be left out; a comma in it is kept); blank lines
    are skipped. Raises ValueError naming the first line that can't be a badge."""
    people = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, _, organisation = line.partition(",")
        name, organisation = " ".join(name.split()), " ".join(organisation.split())
        if not name:
            raise ValueError(f"Line {number} has no name before its comma: write “Name, Organisation”.")
        if len(name) > MAX_FIELD or len(organisation) > MAX_FIELD:
            raise ValueError(
                f"Line {number} is too long: a name and an organisation can have {MAX_FIELD} characters each."
            )
        people.append((name, organisation))
    if len(people) > MAX_NAMED:
        raise ValueError(f"That is {len(people)} people: print at most {MAX_NAMED} at a time.")
    return people


class NoPlaceBadgeForm(Form):
    """Badges for people who hold no delegate place: staff accounts, and speakers or guests named here."""

    staff = SelectMultipleField(
        "Staff accounts",
        coerce=int,
        choices=[],
        validate_choice=False,  # checked below, in words
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    named = TextAreaField(
        "Speakers and guests (optional)",
        description="One a line: the name, a comma, then the organisation. For example: Ngozi Okonjo, University of Suffolk",
    )
    band = RadioField(
        "Their band",
        choices=[SelectChoice(k, NO_PLACE_BANDS[k][0]) for k in ("speaker", "guest", "staff")],
        default="speaker",
        validators=[DataRequired(message="Choose the band for the speakers and guests.")],
    )
    layout = RadioField(
        "Sheet layout",
        choices=[SelectChoice(k, v.label) for k, v in LAYOUTS.items()],
        default=DEFAULT_LAYOUT,
        validators=[DataRequired(message="Choose a sheet layout.")],
        id="no-place-layout",  # the delegates' print form on the same page has its own "layout"
    )

    people: list[tuple[str, str]]

    def validate_staff(self, field) -> None:
        known = {choice.value for choice in field.choices or []}
        if any(value not in known for value in field.data or []):
            raise ValidationError(
                "One of the people ticked isn't an active staff account any more: tick them again on this page."
            )

    def validate_named(self, field) -> None:
        try:
            self.people = parse_named(field.data or "")
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not self.people and not self.staff.data:
            raise ValidationError("Tick at least one staff member, or name a speaker or guest, one a line.")
