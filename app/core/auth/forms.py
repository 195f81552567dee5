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
