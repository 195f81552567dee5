"""Which email addresses the app accepts: one rule for sign-in, staff accounts and the invitee import."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from wtforms.validators import ValidationError


class InvalidAddress(ValueError):
    """The address can't be used; the message says why (email-validator's own sentence)."""


def normalise_address(value: str) -> str:
    """The address as stored and looked up: normalised by email-validator, then lower-cased whole, so that
    look-ups ignore case. Special-use domains (`.test`, `.local`, `.invalid`…) are refused, as nobody can
    receive mail there. Deliverability (DNS) is not checked: that would make sign-in depend on the network."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from None
    return result.normalized.lower()


class EmailAddress:
    """The same rule as a WTForms validator."""

    def __init__(self, message: str = "Enter a valid email address."):
        self.message = message

    def __call__(self, form, field) -> None:
        try:
            normalise_address(field.data or "")
        except InvalidAddress:
            raise ValidationError(self.message) from None
