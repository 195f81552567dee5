"""Text typed or uploaded by people, cleaned before it is stored: no control characters in a one-line value.

A name, an organisation, a job title or a subject is one line. A carriage return or line feed in it would
end up in an email's To name or subject (SendGrid takes them as they are), a tab or a NUL in CSV exports and
badges, and a right-to-left override would disguise it. So every one-line field loses them on input."""

from __future__ import annotations

import unicodedata

import click

# Joiners are format characters (Cf) too, but Persian, Arabic and Indic names are spelt with them.
_KEPT_FORMAT = {"\u200c", "\u200d"}  # zero-width non-joiner and joiner
# Characters that break a line or space a value out: each becomes one ordinary space.
_SPACING = {"\t", "\n", "\v", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85", "\u2028", "\u2029"}


def _drops(character: str) -> bool:
    return unicodedata.category(character) in ("Cc", "Cf", "Cs") and character not in _KEPT_FORMAT


def single_line(value: str | None) -> str | None:
    """The value as one line: line breaks and tabs become spaces (runs of them one space), other control and
    format characters (NUL, bell, escape, bidirectional overrides, byte-order marks…) go, and the ends are
    trimmed. Ordinary spaces inside stay as typed. None stays None (an empty optional field)."""
    if value is None:
        return None
    words: list[str] = []
    spacing = False
    for character in value:
        if character in _SPACING:
            spacing = True
            continue
        if _drops(character):
            continue
        if spacing and words and words[-1] != " ":
            words.append(" ")
        spacing = False
        words.append(character)
    return "".join(words).strip()


def multi_line(value: str | None) -> str | None:
    """A text area's value: line breaks and tabs kept (as \\n), every other control and format character gone."""
    if value is None:
        return None
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c in "\n\t" or not _drops(c))


class SingleLine(click.ParamType):
    """A command-line option that is one line of text, cleaned like a form's (see single_line)."""

    name = "text"

    def convert(self, value, param, ctx) -> str:
        return single_line(str(value)) or ""


SINGLE_LINE = SingleLine()
