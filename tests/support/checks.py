"""`summit check` as a test's last word: every concurrency test ends by recomputing the counts from the rows."""

from __future__ import annotations


def assert_summit_check_clean(app) -> None:
    result = app.test_cli_runner().invoke(args=["summit", "check"])
    assert result.exit_code == 0, result.output
