"""The hashed locks that make installs from agree with the requirement files people edit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\#]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_pins(path: Path) -> dict[str, str]:
    """name -> version for every requirement in an input file, following `-r` includes."""
    pins: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            pins.update(direct_pins(path.parent / line[3:].strip()))
        elif line:
            match = PIN.match(line)
            assert match, f"{path.name}: {line!r} is not pinned with =="
            pins[canonical(match[1])] = match[3]
    return pins


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) for every package in a lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line.startswith(" "):
            match = PIN.match(stripped)
            assert match, f"{path.name}: {stripped!r} is not pinned with =="
            current = canonical(match[1])
            entries[current] = (match[3], [])
        elif stripped.startswith("--hash="):
            entries[current][1].append(stripped.removeprefix("--hash=").rstrip(" \\"))
    return entries


LOCKS = [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]


@pytest.mark.parametrize("source, lock", LOCKS)
def test_every_direct_pin_is_in_the_lock_at_the_same_version(source, lock):
    wanted = direct_pins(ROOT / source)
    have = locked(ROOT / lock)
    stale = {
        name: (version, have.get(name, ("missing",))[0])
        for name, version in wanted.items()
        if have.get(name, (None,))[0] != version
    }
    assert not stale, f"{source} and {lock} disagree (wanted, locked): {stale}; run `make lock`"


@pytest.mark.parametrize("source, lock", LOCKS)
def test_every_locked_package_carries_hashes_and_the_tree_is_locked_whole(source, lock):
    entries = locked(ROOT / lock)
    assert not [name for name, (_, hashes) in entries.items() if not hashes]
    assert all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for _, hashes in entries.values() for h in hashes)
    # The transitive packages are there too, not only the ones named in the inputs.
    assert {"werkzeug", "jinja2", "markupsafe", "click", "itsdangerous", "blinker"} <= entries.keys()
    assert len(entries) > len(direct_pins(ROOT / source)) + 15


def test_the_dev_lock_holds_the_runtime_packages_at_the_runtime_versions():
    runtime = locked(ROOT / "requirements.lock")
    dev = locked(ROOT / "requirements-dev.lock")
    assert {name: version for name, (version, _) in runtime.items()} == {
        name: dev[name][0] for name in runtime if name in dev
    }
    assert runtime.keys() <= dev.keys()
    # The platform wheels this machine needs come with the extras that pull them in.
    assert {"psycopg-binary", "pillow", "zxing-cpp", "pypdfium2"} <= dev.keys()


def excluded() -> set[str]:
    """The packages make lock leaves out on purpose (requirements-excluded.txt)."""
    lines = (ROOT / "requirements-excluded.txt").read_text().splitlines()
    return {canonical(line.split("#", 1)[0].strip()) for line in lines if line.split("#", 1)[0].strip()}


def test_each_lock_holds_every_package_its_packages_need_but_the_excluded():
    """make installs with --no-deps, so nothing a locked package needs may be missing from the lock: every
    requirement of every locked package (as installed here, extras aside) is locked too, or excluded on purpose."""
    from importlib import metadata

    from packaging.requirements import Requirement

    for lock in ("requirements.lock", "requirements-dev.lock"):
        entries = locked(ROOT / lock)
        missing = {}
        for name in entries:
            for line in metadata.distribution(name).requires or []:
                requirement = Requirement(line)
                if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                    continue
                if canonical(requirement.name) not in entries and canonical(requirement.name) not in excluded():
                    missing[name] = requirement.name
        assert not missing, f"{lock} lacks what these need (package: requirement): {missing}; run `make lock`"
        assert not excluded() & entries.keys()


def test_the_excluded_docopt_is_never_imported_by_the_notify_client():
    """notifications-python-client names docopt, which only its old scripts used: the library must not import it."""
    from importlib import metadata

    files = metadata.distribution("notifications-python-client").files or []
    sources = [f for f in files if str(f).endswith(".py")]
    assert sources
    assert not [str(f) for f in sources if "docopt" in f.read_text()]
    assert excluded() == {"docopt"}
