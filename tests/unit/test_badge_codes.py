"""The badge code's check character: every single wrong, missing or extra character is caught, old
codes without one still pass, and codes that are nothing like ours are told apart from mistyped ones."""

from __future__ import annotations

import random
import string

import pytest

from app.core.badge_codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CODE_PREFIX,
    LEGACY_CODE_PREFIX,
    CodeShape,
    check_character_holds,
    code_check_character,
    code_shape,
)
from app.core.security import new_badge_code

TYPED = string.ascii_uppercase + string.digits + "-"  # anything a keyboard or a scanner in caps lock can send


def legacy_code(rng: random.Random) -> str:
    return f"{LEGACY_CODE_PREFIX}-" + "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def substitutions(code: str, characters: str):
    for i, original in enumerate(code):
        for char in characters:
            if char != original:
                yield code[:i] + char + code[i + 1 :]


def deletions(code: str):
    return {code[:i] + code[i + 1 :] for i in range(len(code))}


def insertions(code: str, characters: str):
    return {code[:i] + char + code[i:] for i in range(len(code) + 1) for char in characters}


def swaps(code: str):
    return {code[:i] + code[i + 1] + code[i] + code[i + 2 :] for i in range(len(code) - 1) if code[i] != code[i + 1]}


def test_a_new_code_is_prefix_27_random_characters_and_its_check_character():
    for _ in range(500):
        code = new_badge_code()
        prefix, _, rest = code.partition("-")
        assert prefix == CODE_PREFIX and len(rest) == CODE_LENGTH + 1
        assert rest[-1] == code_check_character(rest[:-1])
        assert check_character_holds(rest)
        assert code_shape(code) == CodeShape.CURRENT


def test_every_single_wrong_character_breaks_the_check_and_nearly_every_swap_of_neighbours_does():
    rng = random.Random(11)
    swapped_and_caught, swapped = 0, 0
    for _ in range(300):
        rest = new_badge_code().partition("-")[2]
        for changed in substitutions(rest, CODE_ALPHABET):
            assert not check_character_holds(changed), (rest, changed)
        for swap in swaps(rest):
            swapped += 1
            swapped_and_caught += not check_character_holds(swap)
    # A check over 30 characters can't catch every swap (31 is prime, 30 is not); the hybrid system misses ~1 in 400.
    assert swapped_and_caught / swapped > 0.99
    # And the check is no constant: every character of the alphabet ends some code.
    ends = {code_check_character("".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))) for _ in range(3000)}
    assert ends == set(CODE_ALPHABET)


@pytest.mark.parametrize("seed", range(3))
def test_every_single_substitution_deletion_and_insertion_in_a_new_code_is_damaged(seed):
    code = new_badge_code() if seed else f"{CODE_PREFIX}-" + "2" * CODE_LENGTH + code_check_character("2" * CODE_LENGTH)
    changed = {*substitutions(code, TYPED), *deletions(code), *insertions(code, TYPED)}
    changed.discard(code)
    assert len(changed) > 2000
    wrong = {c: code_shape(c) for c in changed if code_shape(c) != CodeShape.DAMAGED}
    assert wrong == {}


def test_two_characters_lost_is_still_damaged_but_half_a_code_is_foreign():
    code = new_badge_code()
    assert code_shape(code[:-2]) == CodeShape.DAMAGED
    assert code_shape(code[:-1].lower().upper()) == CodeShape.DAMAGED
    assert code_shape(code[:14]) == CodeShape.FOREIGN


def test_old_codes_without_a_check_character_keep_their_shape_and_their_deletions_are_damaged():
    rng = random.Random(5)
    for _ in range(200):
        assert code_shape(legacy_code(rng)) == CodeShape.LEGACY
    code = legacy_code(rng)
    for shorter in deletions(code):
        assert code_shape(shorter) == CodeShape.DAMAGED
    # A character outside the alphabet (O for 0, I for 1) cannot be one we printed.
    for wrong in substitutions(code, "01OILU"):
        assert code_shape(wrong) == CodeShape.DAMAGED


@pytest.mark.parametrize(
    "code",
    [
        "",
        "NH1-FAKE",
        "HELLO",
        "HTTPS://EXAMPLE.ORG/?NH2-ABC",
        "X" * 500,
        "NH1-" + "0" * 27,
        "9781234567897",  # a book's barcode
        "NH1-FORGEDFORGEDFORGEDFORGEDFOR",
    ],
)
def test_codes_nothing_like_ours_are_foreign(code):
    assert code_shape(code) == CodeShape.FOREIGN
