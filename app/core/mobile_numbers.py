"""Delegates' mobile numbers: a UK mobile number, whatever way it was typed, kept as E.164 (+447…)."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

EXAMPLE = "07400 123456"
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


class NotAUkMobile(ValueError):
    """The number can't be texted here; the message says why, as a sentence."""


def uk_mobile(raw: str) -> str:
    """The number in E.164 (+447400123456), or NotAUkMobile with a sentence naming the problem."""
    typed = " ".join((raw or "").split())
    if not typed:
        raise NotAUkMobile(f"Enter a mobile number, like {EXAMPLE}, or leave it blank.")
    if len(typed) > 40:
        raise NotAUkMobile(f"That is too long for a phone number: enter a UK mobile number, like {EXAMPLE}.")
    try:
        number = phonenumbers.parse(typed, "GB")
    except phonenumbers.NumberParseException:
        raise NotAUkMobile(f"“{typed}” isn't a phone number: enter a UK mobile number, like {EXAMPLE}.") from None
    region = phonenumbers.region_code_for_number(number)
    if number.country_code != 44 or (region and region != "GB"):
        # Imported here, for the rare number from abroad: loading its data was a quarter of the time it takes to
        # start the app (every worker, command and test server).
        from phonenumbers import geocoder

        country = geocoder.country_name_for_number(number, "en") or "another country"
        if country.startswith(("United ", "Netherlands", "Czech", "Philippines", "Bahamas", "Gambia", "Isle ")):
            country = "the " + country.replace("Isle Of", "Isle of")
        raise NotAUkMobile(
            f"“{typed}” is a number in {country}: we can only text UK mobile numbers, which start 07 or +44 7."
        )
    if not phonenumbers.is_valid_number(number):
        raise NotAUkMobile(
            f"“{typed}” isn't a complete UK mobile number: check the digits (a UK mobile number has 11, "
            f"like {EXAMPLE})."
        )
    if phonenumbers.number_type(number) not in _TEXTABLE:
        raise NotAUkMobile(
            f"“{typed}” is a landline or a service number, which can't take texts: enter a mobile number, "
            "which starts 07."
        )
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def shown(e164: str | None) -> str:
    """The stored number as people write it in the UK (07400 123456)."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "GB"), PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164
