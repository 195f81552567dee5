"""How long a text message is: its characters as a phone counts them, and how many fragments it is sent as.

A text in the GSM 7-bit alphabet fits 160 characters in one fragment, or 153 in each of several (a joined message
spends 7 on the header); any other character makes the whole text Unicode: 70 in one, 67 in each of several. The
extension characters (€, [, ], {, }, ^, ~, |, \\) take two places in the GSM alphabet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UNICODE_SINGLE, UNICODE_PART = 70, 67


@dataclass(frozen=True)
class Length:
    characters: int  # as the phone network counts them
    fragments: int
    unicode: bool  # a character outside the GSM alphabet: the smaller fragments
    not_gsm: tuple[str, ...] = ()  # those characters, each once, in the order they first appear

    @property
    def per_fragment(self) -> int:
        if self.unicode:
            return UNICODE_SINGLE if self.fragments <= 1 else UNICODE_PART
        return GSM_SINGLE if self.fragments <= 1 else GSM_PART


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def measure(text: str) -> Length:
    """The text's length in characters and fragments, as a network sends it."""
    not_gsm = tuple(dict.fromkeys(ch for ch in text if ch not in GSM_BASIC and ch not in GSM_EXTENDED))
    if not_gsm:
        # UCS-2 on the air: a character outside the Basic Multilingual Plane (an emoji) takes two places.
        characters = len(text.encode("utf-16-le")) // 2
        single, part = UNICODE_SINGLE, UNICODE_PART
    else:
        characters = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, part = GSM_SINGLE, GSM_PART
    if characters == 0:
        fragments = 0
    elif characters <= single:
        fragments = 1
    else:
        fragments = math.ceil(characters / part)
    return Length(characters, fragments, bool(not_gsm), not_gsm)
