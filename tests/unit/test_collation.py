"""Names in the order people look for them: by surname, accents known (app.core.collation)."""

from __future__ import annotations

import random

import pytest

from app.core.collation import by_surname, fold, split_name, surname_key


@pytest.mark.parametrize(
    "text,folded",
    [
        ("Łukasz", "lukasz"),  # a stroke: NFKD leaves Ł whole, so it is mapped by hand
        ("Øster", "oster"),
        ("Đokić", "dokic"),
        ("Ósmond", "osmond"),
        ("Zoë", "zoe"),
        ("Siân", "sian"),
        ("Nguyễn", "nguyen"),
        ("Æthelred", "aethelred"),
        ("Straße", "strasse"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Montgomery-Smythe", "montgomerysmythe"),
        ("ﬁnch", "finch"),  # a ligature NFKD does take apart
    ],
)
def test_fold_keeps_the_base_letters(text, folded):
    assert fold(text) == folded


def test_unaccented_stroked_letters_decompose_to_nothing_without_the_mapping():
    """Why the hand mapping is needed: NFKD gives Ł, Ø and Đ back unchanged, so a bare NFKD key would file them
    after Z."""
    import unicodedata

    assert [unicodedata.normalize("NFKD", ch) for ch in "ŁØĐ"] == ["Ł", "Ø", "Đ"]


@pytest.mark.parametrize(
    "name,filed_as,surname",
    [
        ("Łukasz Lis", "Lis, Łukasz", "Lis"),
        ("María de la Cruz", "Cruz, María de la", "Cruz"),
        ("Jan van der Berg", "Berg, Jan van der", "Berg"),
        ("Ann De Souza", "De Souza, Ann", "De Souza"),
        ("Vincent Van Gogh", "Van Gogh, Vincent", "Van Gogh"),
        ("Van Morrison", "Morrison, Van", "Morrison"),
        ("Cllr Jane Smith OBE", "Smith, Cllr Jane OBE", "Smith"),
        ("Bjørn", "Bjørn", "Bjørn"),
        ("  Ada   Lovelace ", "Lovelace, Ada", "Lovelace"),
    ],
)
def test_a_name_is_filed_under_its_surname(name, filed_as, surname):
    parts = split_name(name)
    assert (parts.filed_as, parts.surname) == (filed_as, surname)


def test_the_door_order_by_surname_with_accents_particles_and_titles():
    expected = [
        "Aaron Abbott",
        "Zara Ahmed",
        "Jan van der Berg",  # files under Berg
        "Carlos Cruz",
        "María de la Cruz",  # under Cruz, after Carlos (given names break the tie)
        "Ann De Souza",  # a capital particle is the surname's start: with the Ds
        "Đorđe Đokić",  # Đ with the Ds
        "Aaron Lewis",
        "Lukas Lis",
        "Łukasz Lis",  # with the Ls, after the same name without the stroke
        "Olga Oakes",
        "Sean O'Brien",  # the apostrophe doesn't count: obrien
        "Óscar Ortiz",  # Ó with the Os
        "Søren Østergaard",
        "Cllr Jane Smith",
        "Dr John Smith",  # titles don't count: Jane before John
        "Zara Zimmermann",
    ]
    shuffled = expected[:]
    random.Random(7).shuffle(shuffled)
    assert by_surname(shuffled, lambda name: name) == expected


def test_raw_character_order_is_what_this_replaces():
    """The old order: by first name and raw character code, where Ł and Ó come after Z."""
    names = ["Zara Ahmed", "Łukasz Lis", "Óscar Ortiz", "Aaron Lewis"]
    assert sorted(names) == ["Aaron Lewis", "Zara Ahmed", "Óscar Ortiz", "Łukasz Lis"]
    assert by_surname(names, lambda name: name) == ["Zara Ahmed", "Aaron Lewis", "Łukasz Lis", "Óscar Ortiz"]


def test_the_order_is_total_and_stable_across_case_and_accents():
    """Names equal at the first level still come in one order whatever order they arrive in."""
    names = ["Zoë Lee", "Zoe Lee", "zoe lee", "ZOE LEE", "Zoé Lee"]
    orders = {tuple(by_surname(random.Random(seed).sample(names, len(names)), lambda n: n)) for seed in range(20)}
    assert len(orders) == 1
    assert len({surname_key(n) for n in names}) == len(names)


def test_ties_between_people_of_one_name_go_by_the_tiebreak():
    people = [(3, "Ann Lee"), (1, "Ann Lee"), (2, "Ann Lee")]
    assert by_surname(people, lambda p: p[1], lambda p: p[0]) == [(1, "Ann Lee"), (2, "Ann Lee"), (3, "Ann Lee")]


def test_empty_and_odd_names_do_not_break_the_sort():
    names = ["", "   ", "Dr", "OBE", "de", "X"]
    assert len(by_surname(names, lambda n: n)) == len(names)
