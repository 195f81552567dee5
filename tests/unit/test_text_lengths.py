"""How many characters and fragments a text is (GSM 160/153, Unicode 70/67), and which mobile numbers we take."""

from __future__ import annotations

import pytest

from app.core import mobile_numbers, sms


@pytest.mark.parametrize(
    "text,characters,fragments,unicode",
    [
        ("", 0, 0, False),
        ("a", 1, 1, False),
        ("a" * 160, 160, 1, False),
        ("a" * 161, 161, 2, False),
        ("a" * 306, 306, 2, False),  # 2 × 153
        ("a" * 307, 307, 3, False),
        ("€" * 80, 160, 1, False),  # an extension character takes two places
        ("€" * 81, 162, 2, False),
        ("[a]" * 10, 50, 1, False),
        ("£ é à Ñ ü @ _ Δ", 15, 1, False),  # all in the GSM alphabet
        ("—" * 70, 70, 1, True),  # an em dash is not: the whole text is Unicode
        ("—" * 71, 71, 2, True),
        ("a" * 133 + "—", 134, 2, True),  # 2 × 67
        ("a" * 134 + "—", 135, 3, True),
        ("’", 1, 1, True),  # a curly apostrophe is Unicode too
        ("😀", 2, 1, True),  # outside the Basic Multilingual Plane: two places
    ],
)
def test_a_text_is_measured_as_the_network_sends_it(text, characters, fragments, unicode):
    length = sms.measure(text)
    assert (length.characters, length.fragments, length.unicode) == (characters, fragments, unicode)


def test_the_characters_that_make_a_text_unicode_are_named_once_each():
    length = sms.measure("Doors open — your badge — here’s")
    assert length.not_gsm == ("—", "’") and length.per_fragment == 70
    assert sms.measure("a" * 200).per_fragment == 153 and sms.measure("a").per_fragment == 160


@pytest.mark.parametrize(
    "typed,stored",
    [
        ("07400 123456", "+447400123456"),
        ("07400123456", "+447400123456"),
        ("+44 7400 123456", "+447400123456"),
        ("0044 7400 123 456", "+447400123456"),
        ("(07400) 123-456", "+447400123456"),
        ("  +447400123456 ", "+447400123456"),
    ],
)
def test_a_uk_mobile_number_is_kept_in_e164_however_it_was_typed(typed, stored):
    assert mobile_numbers.uk_mobile(typed) == stored
    assert mobile_numbers.shown(stored) == "07400 123456"


@pytest.mark.parametrize(
    "typed,sentence",
    [
        ("+33 6 12 34 56 78", "“+33 6 12 34 56 78” is a number in France: we can only text UK mobile numbers"),
        ("+353 85 123 4567", "is a number in Ireland"),
        ("07624 123456", "is a number in the Isle of Man"),
        ("0770090", "isn't a complete UK mobile number"),
        ("07400 1234567", "isn't a complete UK mobile number"),
        ("hello", "“hello” isn't a phone number"),
        ("01473 123456", "is a landline or a service number"),
        ("0800 123 4567", "is a landline or a service number"),
        ("", "Enter a mobile number"),
        ("0" * 41, "too long"),
    ],
)
def test_a_number_we_cant_text_is_refused_with_a_sentence_naming_the_problem(typed, sentence):
    with pytest.raises(mobile_numbers.NotAUkMobile) as refused:
        mobile_numbers.uk_mobile(typed)
    message = str(refused.value)
    assert sentence in message and message.endswith(".")
