"""At the end of every run, one plain block: each group of tests that was skipped, how many, why, and how to run them.

A pytest plugin (tests/conftest.py loads it). A skip is put in its group by its reason; a reason no group
knows is still shown, as it was given, so nothing is skipped silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class SkipGroup:
    name: str
    reason_starts: tuple[str, ...]  # how the skip reasons of this group begin (tests/conftest.py and the fixtures)
    what_to_do: str
    keyword: str = ""  # a `-k` word that selects exactly these tests, when their ids all have it


GROUPS = (
    SkipGroup(
        "PostgreSQL",
        ("PostgreSQL",),
        "start PostgreSQL on 127.0.0.1:5432 with trust authentication for user postgres (the tests make "
        "and drop a database of their own there), or set TEST_POSTGRES_URL=postgresql://USER@HOST:5432/DB "
        "to a database the tests may wipe",
        keyword="postgres",
    ),
    SkipGroup(
        "browser",
        ("Chromium",),
        "install Chromium's headless build with `apt-get install chromium-headless-shell` (it lands at "
        "/usr/lib/chromium/chromium-headless-shell), or set "
        "CHROMIUM_PATH to where it is",
    ),
    SkipGroup(
        "nginx",
        ("nginx",),
        "install nginx with `apt-get install nginx-light` (the test runs it in the foreground with a config of its "
        "own; the package's service need not run), or set NGINX_PATH to where it is",
    ),
    SkipGroup(
        "Redis",
        ("Redis",),
        "start Redis on 127.0.0.1:6379, for example `redis-server --port 6379 --save '' --daemonize yes`",
    ),
)
OTHER = SkipGroup("other", (), 'each is listed with the line that skipped it under "short test summary info" above')

# Lines of what did run that a reader should know (tests/support/apps.py adds where PostgreSQL tests ran).
NOTES: list[str] = []


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ").strip()


def group_of(reason: str) -> SkipGroup:
    return next((group for group in GROUPS if reason.startswith(group.reason_starts)), OTHER)


def make_test_args_for(group: SkipGroup, nodeids: list[str]) -> str:
    """What to give `make test PYTEST_ARGS=…` to run just these tests."""
    if group.keyword and all(group.keyword in nodeid for nodeid in nodeids):
        return f'"-k {group.keyword}"'
    files = sorted({nodeid.split("::")[0] for nodeid in nodeids})
    if len(files) > 3:
        files = [os.path.commonpath(files)]
    return " ".join(files) if len(files) == 1 else f'"{" ".join(files)}"'


def summary_lines(skipped: list[pytest.TestReport]) -> list[str]:
    by_group: dict[SkipGroup, list[pytest.TestReport]] = {}
    for report in skipped:
        by_group.setdefault(group_of(skip_reason(report)), []).append(report)
    lines = []
    for group in sorted(by_group, key=lambda g: g is OTHER):
        reports = by_group[group]
        reasons = "; ".join(dict.fromkeys(skip_reason(report) for report in reports))
        label = "" if group is OTHER else f" {group.name}"
        tests, them = ("test", "it") if len(reports) == 1 else ("tests", "them")
        lines.append(f"{len(reports)}{label} {tests} skipped: {reasons}")
        if group is OTHER:
            lines.append(f"  To find {them}: {group.what_to_do}.")
        else:
            args = make_test_args_for(group, [report.nodeid for report in reports])
            lines.append(f"  To run {them}: {group.what_to_do}; then `make test PYTEST_ARGS={args}`.")
    return lines


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    result = yield  # after pytest's own summary, so this block is the last thing before the counts
    skipped = [report for report in terminalreporter.stats.get("skipped", []) if report.skipped]
    terminalreporter.write_sep("-", "skipped tests, and how to run them" if skipped else "nothing skipped")
    for line in NOTES + summary_lines(skipped):
        terminalreporter.write_line(line)
    return result


# In a run of several processes (pytest-xdist), each worker's notes reach the one that prints the summary.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["notes"] = list(NOTES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    NOTES.extend(note for note in getattr(node, "workeroutput", {}).get("notes", []) if note not in NOTES)
