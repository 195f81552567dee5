"""The README names real tests: every `tests/….py` path it names exists (and a test it names by `path::name` is in
that file), and each rule under "Where each rule lives" names the tests that prove it, so the list can't go stale."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
TEST_PATH = re.compile(r"\btests/[\w/]+\.py(?:::\w+)?")


def rules() -> list[tuple[str, str]]:
    """(name, text) of each rule in the list under "Where each rule lives"."""
    after = README.split("Where each rule lives", 1)[1]
    start = after.index("\n- **")
    listed = after[start : after.index("\n\n", start)]
    return re.findall(r"^- \*\*(.+?)\*\*(.*?)(?=^- \*\*|\Z)", listed, re.M | re.S)


def there(ref: str) -> bool:
    path, _, name = ref.partition("::")
    file = ROOT / path
    if not file.is_file():
        return False
    return not name or re.search(rf"^(async )?def {name}\b", file.read_text(encoding="utf-8"), re.M) is not None


def test_every_test_file_the_readme_names_exists():
    named = sorted(set(TEST_PATH.findall(README)))
    assert len(named) > 40
    missing = [ref for ref in named if not there(ref)]
    assert missing == [], f"the README names tests that aren't there: {missing}"


def test_every_rule_names_the_tests_that_prove_it():
    found = rules()
    assert len(found) >= 20 and found[0][0].startswith("Capacity")
    unproved = [name for name, text in found if not re.search(r"\btests/(unit|integration|e2e)/test_\w+\.py", text)]
    assert unproved == [], f"rules under 'Where each rule lives' that name no test file: {unproved}"
