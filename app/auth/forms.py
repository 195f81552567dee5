"""The sign-in form."""

from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from app.email_addresses import EmailAddress
from app.forms import Form


class SignInForm(Form):
    email = EmailField(
        "Email address", validators=[DataRequired(message="Enter your email address."), EmailAddress(), Length(max=254)]
    )
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."), Length(max=200)])
    remember = BooleanField("Keep me signed in on this device")
