"""Organisers' badge forms: which badges to print and how, a badge's role, and confirmations."""

from wtforms import HiddenField, RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from app.badges.builders import DEFAULT_LAYOUT, LAYOUTS, ROLES
from app.badges.services import PRINT_FILTERS
from app.core.forms import ConfirmStepForm, Form


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


class RoleForm(Form):
    badge_role = SelectField("Badge role", choices=[SelectChoice(k, v[0]) for k, v in ROLES.items()])
    back = HiddenField()
