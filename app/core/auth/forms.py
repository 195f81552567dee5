"""The sign-in form."""

from wtforms import BooleanField, EmailField, PasswordField
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
