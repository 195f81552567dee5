"""Tests import their helpers from the support package only: never a conftest.py, never another test module."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_test_imports_a_conftest_or_another_test_module():
    offenders = sorted(
        f"{path.relative_to(TESTS.parent)} imports {name}"
        for path in TESTS.rglob("*.py")
        for name in imported_modules(path)
        if name.startswith("tests.") and (name.split(".")[-1] == "conftest" or name.split(".")[-1].startswith("test_"))
    )
    assert offenders == []


def test_the_check_sees_an_import_of_another_test_module(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text("from tests.integration.test_import import upload\nfrom tests.conftest import make_app\n")
    assert {"tests.integration.test_import", "tests.conftest"} <= imported_modules(sample)
