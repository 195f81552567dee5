"""Getting started (README): `make run` on another port links to that port, and the favicon is there. (What the first
`db upgrade` says: test_cli.py; the accessibility statement: test_accessibility_statement.py.)"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What `make run` inherits here that would change it: make's own state (under `make test`) and our variables.
NOT_INHERITED = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BASE_URL", "HOST", "PORT"}


def make_run(*args: str, **env: str) -> list[str]:
    """The commands `make run …` would run (make -n prints them and runs nothing)."""
    environment = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED} | env
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def line_with(lines: list[str], text: str) -> str:
    found = [line for line in lines if text in line]
    assert found, f"no command with {text!r} in:\n" + "\n".join(lines)
    return found[0]


def base_url_given(command: str) -> str:
    match = re.search(r"BASE_URL=('[^']*'|\S+)", command)
    assert match, f"no BASE_URL in {command}"
    return shlex.split(match.group(1))[0]


def test_make_run_on_another_port_links_to_that_port():
    lines = make_run("PORT=5123")
    server = line_with(lines, "gunicorn")
    assert "--bind 127.0.0.1:5123" in server
    # The server, the mail worker and the demo (which prints where to sign in) all get the address that works.
    for command in (server, line_with(lines, "mail worker"), line_with(lines, "flask --app wsgi demo")):
        assert base_url_given(command) == "http://127.0.0.1:5123", command
    assert "Serving on http://127.0.0.1:5123 " in line_with(lines, "Serving on")


def test_the_app_builds_its_links_from_the_address_make_run_gives_it(tmp_path):
    """Emails and the organiser's "personal link" box are built from BASE_URL: the app started as `make run
    PORT=5123` starts it links to :5123."""
    base_url = base_url_given(line_with(make_run("PORT=5123"), "gunicorn"))
    code = (
        "from wsgi import app\n"
        "from app.core.urls import external_url\n"
        "with app.app_context(): print(external_url('invitations.home', token='TOKEN'))\n"
    )
    environment = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    environment |= {
        "BASE_URL": base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "APP_ENV": "development",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://127.0.0.1:5123/i/TOKEN"


def test_make_run_on_every_interface_is_opened_at_this_machine():
    lines = make_run("HOST=0.0.0.0", "PORT=8080")
    assert "--bind 0.0.0.0:8080" in line_with(lines, "gunicorn")
    assert base_url_given(line_with(lines, "gunicorn")) == "http://127.0.0.1:8080"
    assert "Serving on http://127.0.0.1:8080 " in line_with(lines, "Serving on")


def test_a_base_url_that_is_set_is_kept():
    lines = make_run("PORT=5123", BASE_URL="https://newhorizons.example.org")
    assert base_url_given(line_with(lines, "gunicorn")) == "https://newhorizons.example.org"
    banner = line_with(lines, "Serving on")
    assert "http://127.0.0.1:5123" in banner and "links in emails: https://newhorizons.example.org" in banner


# --- the favicon ----------------------------------------------------------------------------------------


def test_favicon_ico_answers_with_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header


def test_every_page_links_its_svg_icon_and_it_is_served(client):
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert link, "no icon link in the page's head"
    icon = client.get(link.group(1))
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.data
