"""The staff forms: signing in, passwords, and the Team page's invitations and roles."""

from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.core.email_addresses import EmailAddress
from app.core.forms import Form


class SignInForm(Form):
    email = EmailField(
        "Email address", validators=[DataRequired(message="Enter your email address."), EmailAddress(), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")


class EmailLinkForm(Form):
    """One email address: where to send a link (a leader's sign-in link, a delegate's lost personal link)."""

    email = EmailField(
        "Email address", validators=[DataRequired(message="Enter your email address."), EmailAddress(), Length(max=254)]
    )


class PasswordChangeForm(Form):
    """A staff member's new password: the current one first, then the new one twice."""

    current_password = PasswordField(
        "Your current password", validators=[DataRequired(message="Enter your current password."), Length(max=200)]
    )
    new_password = PasswordField(
        "New password",
        description="At least 10 characters. A few unrelated words are easy to remember and hard to guess.",
        validators=[DataRequired(message="Enter a new password."), Length(max=200)],
    )
    repeat_password = PasswordField(
        "The new password again", validators=[DataRequired(message="Type the new password again."), Length(max=200)]
    )


ROLE_CHOICES = [
    SelectChoice("organiser", "Organiser: runs the summit, its team and every page"),
    SelectChoice("leader", "Leader (champion): sees and encourages their own invitees"),
    SelectChoice("steward", "Steward: checks people in at the door"),
]
ROLE_HELP = "Leaders may sign in from emailed links instead of a password; organisers and stewards choose a password."


class InviteForm(Form):
    """An organiser invites someone to the team."""

    email = EmailField(
        "Email address",
        validators=[DataRequired(message="Enter their email address."), EmailAddress(), Length(max=254)],
    )
    name = StringField("Name", validators=[DataRequired(message="Enter their name."), Length(max=200)])
    role = RadioField(
        "Role",
        choices=ROLE_CHOICES,
        default="leader",
        description=ROLE_HELP,
        validators=[DataRequired(message="Choose a role.")],
    )


class RoleForm(Form):
    role = RadioField("New role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")])


class NewPasswordForm(Form):
    """A password chosen from an emailed link (an invitation, a reset): twice, at least 10 characters."""

    new_password = PasswordField(
        "Choose a password",
        description="At least 10 characters. A few unrelated words are easy to remember and hard to guess.",
        validators=[DataRequired(message="Choose a password."), Length(max=200)],
    )
    repeat_password = PasswordField(
        "The password again", validators=[DataRequired(message="Type the password again."), Length(max=200)]
    )
