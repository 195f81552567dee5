"""People's names in the order a door list, a badge sheet or a register is read in: by surname, accents known.

A name is one field ("Łukasz Lis", "Cllr Jane Smith OBE", "María de la Cruz"), so the surname is found by rule:

- titles in front (Cllr, Dr, Prof, Mr, Mrs, Ms …) and letters after (OBE, MBE, Jr …) are not the surname;
- the surname is the last word, hyphens and apostrophes included ("Montgomery-Smythe", "O'Brien");
- particles written in lower case just before it ("de la", "van der", "von", "ap", "bin" …) go with it and
  are shown with it, but the name files under the word that follows them ("Cruz, María de la" with the Cs),
  as indexes do; a particle written with a capital is the surname's own first word ("De Souza" with the Ds).

Letters are compared by their base letter first: Łukasz with the Ls, Ó with the Os, Zoë with Zoe, Ø with the
Os, Đ with the Ds, æ as ae, ß as ss; case, accents and punctuation only break ties (then the name as written,
so the order never depends on the database). This is a primary-strength collation for Latin-script names, made
from Unicode's decomposition (NFKD) and case folding, with the letters that have no decomposition (a stroke
or a ligature: Ł, Ø, Đ, Æ, Œ, Þ, Ħ, ı …) mapped by hand. Other scripts sort after Latin, by code point.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

# Letters NFKD leaves whole: a stroke, a bar or a ligature is part of the letter, not a combining mark.
_WHOLE_LETTERS = str.maketrans(
    {
        "Ł": "L",
        "ł": "l",
        "Ø": "O",
        "ø": "o",
        "Đ": "D",
        "đ": "d",
        "Ð": "D",
        "ð": "d",
        "Æ": "AE",
        "æ": "ae",
        "Œ": "OE",
        "œ": "oe",
        "Þ": "TH",
        "þ": "th",
        "Ħ": "H",
        "ħ": "h",
        "Ŧ": "T",
        "ŧ": "t",
        "Ƀ": "B",
        "ƀ": "b",
        "Ɨ": "I",
        "ɨ": "i",
        "ı": "i",
        "ĸ": "k",
        "Ŋ": "N",
        "ŋ": "n",
        "ẞ": "SS",
        "ß": "ss",
        "Ə": "E",
        "ə": "e",
        "ʻ": "",  # the ʻokina and turned commas: apostrophes in names
        "ʼ": "",
        "’": "",
        "‘": "",
    }
)
_NOT_LETTERS = re.compile(r"[\W_]+")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


TITLES = _set(
    "mr mrs ms miss mx dr prof professor cllr councillor sir dame lady lord rev revd reverend canon fr hon rt the"
)
POST_NOMINALS = _set("obe mbe cbe dbe kbe bem qpm cb kc qc mp msp jr junior sr senior ii iii iv phd dphil frs fcipd")
# Lower-case particles that belong to the surname that follows them.
PARTICLES = _set(
    "de la le les du des da das do dos di del della dei van von der den ten ter te op 't zu zum zur af av ap ab "
    "bin bint ibn al el"
)


def fold(text: str) -> str:
    """The text as a primary-strength collation sees it: base letters, no case, no accents, no punctuation."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_WHOLE_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_LETTERS.sub("", bare.translate(_WHOLE_LETTERS).casefold())


def _word(token: str) -> str:
    return token.strip(".,").casefold()


@dataclass(frozen=True)
class SplitName:
    """A name in its parts: "Cllr María" + "de la" + "Cruz" (+ "OBE")."""

    given: str  # everything before the surname, titles included ("Cllr María")
    particles: str  # "de la", or ""
    surname: str  # the word the name files under ("Cruz")
    after: str = ""  # letters after the name ("OBE")

    @property
    def filed_as(self) -> str:
        """ "Cruz, Cllr María de la": the surname first, as a list shows it."""
        rest = " ".join(part for part in (self.given, self.particles) if part)
        shown = f"{self.surname}, {rest}" if rest else self.surname
        return f"{shown} {self.after}" if self.after else shown

    @property
    def given_sort(self) -> str:
        """The given names without their titles: what breaks a tie between two Smiths."""
        words = self.given.split()
        while words and _word(words[0]) in TITLES:
            words = words[1:]
        return " ".join(words)


def split_name(name: str) -> SplitName:
    words = name.split()
    after: list[str] = []
    while len(words) > 1 and _word(words[-1]) in POST_NOMINALS:
        after.insert(0, words.pop())
    if not words:
        return SplitName("", "", "", " ".join(after))
    surname = words.pop()
    particles: list[str] = []
    # A particle only counts when something (a given name or a title) comes before it. In lower case it goes
    # with the surname but the name files under the word after it; with a capital it is the surname's start.
    while len(words) > 1 and words[-1].islower() and words[-1].casefold() in PARTICLES:
        particles.insert(0, words.pop())
    if not particles:
        while len(words) > 1 and words[-1][:1].isupper() and words[-1].casefold() in PARTICLES:
            surname = f"{words.pop()} {surname}"
    return SplitName(" ".join(words), " ".join(particles), surname, " ".join(after))


def _level(text: str) -> tuple[str, str]:
    # First the base letters; then the text without case as written, so Ó follows O and the order is total.
    return fold(text), text.casefold()


def surname_key(name: str) -> tuple:
    """Sort by surname, then given names, then the particles, accents known; ties broken by the name as written."""
    parts = split_name(name)
    return (
        fold(parts.surname) or fold(name),
        fold(parts.given_sort),
        fold(parts.particles),
        _level(parts.surname)[1],
        _level(parts.given_sort)[1],
        name,
    )


T = TypeVar("T")


def by_surname(items: Iterable[T], name: Callable[[T], str], tiebreak: Callable[[T], object] = lambda _: 0) -> list[T]:
    """The items in surname order (`tiebreak`, say an id, settles two people with the same name)."""
    return sorted(items, key=lambda item: (surname_key(name(item)), tiebreak(item)))
