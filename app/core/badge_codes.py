"""The shape of a badge code: its alphabet, its check character, and telling a mistyped code from a foreign one.

A code is `NH2-` followed by 27 random characters and one check character (ISO/IEC 7064's hybrid system
MOD 31,30 over the code's own 30-character alphabet), so any single wrong character is caught, and all
but about 1 in 400 swaps of two neighbours; a missing or extra character changes the length. Codes issued before the check character (`NH1-` and 27 random characters) keep
working as they are. Pure functions: no request, no database.
"""

from __future__ import annotations

import enum

# Crockford-style: no 0/O, 1/I/L or U, so a code read aloud or typed survives.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_PREFIX = "NH2"  # NH2-: 27 random characters and a check character
LEGACY_CODE_PREFIX = "NH1"  # NH1-: 27 random characters, no check character (every badge issued before NH2)
CODE_LENGTH = 27  # the random characters: 30^27 is about 2^132

_MODULUS = len(CODE_ALPHABET)  # 30; 31 is prime, which is what the hybrid system needs
_VALUE = {char: value for value, char in enumerate(CODE_ALPHABET)}
MAX_TYPOS = 2  # this close to a code's shape, a code we don't know is a mistyped or misread one of ours


class CodeShape(enum.Enum):
    CURRENT = "current"  # NH2- with its check character right
    LEGACY = "legacy"  # NH1-, issued before the check character
    DAMAGED = "damaged"  # one of ours with a character or two wrong, missing, extra or swapped
    FOREIGN = "foreign"  # not shaped like our codes at all


def _running_check(body: str) -> int:
    product = _MODULUS
    for char in body:
        total = (product + _VALUE[char]) % _MODULUS or _MODULUS
        product = (2 * total) % (_MODULUS + 1)
    return product


def code_check_character(body: str) -> str:
    """The character that completes `body` (characters of CODE_ALPHABET): appended, the whole checks out."""
    return CODE_ALPHABET[(1 - _running_check(body)) % _MODULUS]


def check_character_holds(body_and_check: str) -> bool:
    if not body_and_check or any(char not in _VALUE for char in body_and_check):
        return False
    body, check = body_and_check[:-1], body_and_check[-1]
    return (_running_check(body) + _VALUE[check]) % _MODULUS == 1


def _pattern(prefix: str, length: int) -> list[frozenset[str]]:
    alphabet = frozenset(CODE_ALPHABET)
    return [frozenset(char) for char in f"{prefix}-"] + [alphabet] * length


_CURRENT = _pattern(CODE_PREFIX, CODE_LENGTH + 1)
_LEGACY = _pattern(LEGACY_CODE_PREFIX, CODE_LENGTH)


def _typos(code: str, pattern: list[frozenset[str]]) -> int:
    """Edits (a character changed, dropped, added, or two neighbours swapped) from `code` to the nearest string of
    `pattern`, a sequence of allowed-character sets; MAX_TYPOS + 1 when it is further than MAX_TYPOS.

    The optimal string alignment distance, worked out only within MAX_TYPOS of the diagonal (prefixes whose lengths
    differ by more are further apart than that anyway), and given up as soon as a whole row is too far."""
    far = MAX_TYPOS + 1
    if abs(len(code) - len(pattern)) > MAX_TYPOS:
        return far
    before = [far] * (len(pattern) + 1)  # row i - 2, for a swap of neighbours
    above = [min(j, far) for j in range(len(pattern) + 1)]  # row i - 1
    for i in range(1, len(code) + 1):
        row = [far] * (len(pattern) + 1)
        row[0] = min(i, far)
        for j in range(max(1, i - MAX_TYPOS), min(len(pattern), i + MAX_TYPOS) + 1):
            best = min(above[j] + 1, row[j - 1] + 1, above[j - 1] + (code[i - 1] not in pattern[j - 1]))
            if i > 1 and j > 1 and code[i - 1] in pattern[j - 2] and code[i - 2] in pattern[j - 1]:
                best = min(best, before[j - 2] + 1)
            row[j] = min(best, far)
        if min(row) == far:  # every way on goes through this row
            return far
        before, above = above, row
    return above[-1]


def code_shape(code: str) -> CodeShape:
    """What a scanned or typed code (upper case, trimmed) looks like, before anyone looks it up."""
    prefix, dash, rest = code.partition("-")
    if dash and prefix == CODE_PREFIX and len(rest) == CODE_LENGTH + 1 and check_character_holds(rest):
        return CodeShape.CURRENT
    if dash and prefix == LEGACY_CODE_PREFIX and len(rest) == CODE_LENGTH and all(c in _VALUE for c in rest):
        return CodeShape.LEGACY
    if dash and prefix == CODE_PREFIX and len(rest) == CODE_LENGTH + 1 and all(c in _VALUE for c in rest):
        return CodeShape.DAMAGED  # the shape of a current code, but its check character fails: a typo
    if min(_typos(code, _CURRENT), _typos(code, _LEGACY)) <= MAX_TYPOS:
        return CodeShape.DAMAGED
    return CodeShape.FOREIGN
