"""Logging as configured once in app/core/logs.py: one line format with the request id, LOG_LEVEL obeyed, and no
personal-link token in any line, in the app and under real gunicorn."""

from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import subprocess
import sys

import pytest
from flask import current_app, request

from app.core.db import db
from tests.support.apps import make_app
from tests.support.servers import ROOT, ServedApp

STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def line(level: str, logger: str, request_id: str, message: str) -> re.Pattern:
    return re.compile(rf"^{STAMP} {level} {re.escape(logger)} \[{re.escape(request_id)}\] {message}$", re.MULTILINE)


def add_test_pages(app) -> None:
    @app.get("/_test/note")
    def note():
        current_app.logger.log(
            logging.getLevelName(request.args.get("level", "WARNING")), "note: %s", request.args.get("text", "")
        )
        return "noted"

    @app.get("/_test/echo-path")
    def echo_path():
        current_app.logger.warning("asked for %s", request.full_path)  # unredacted on purpose
        return "ok"

    @app.get("/_test/crash")
    def crash():
        raise RuntimeError(f"lost track of {request.args['next']}")


@pytest.fixture
def pages(app):
    add_test_pages(app)
    return app.test_client()


def test_a_log_line_carries_the_request_id_from_the_header_and_the_answer_sends_it_back(pages, capsys):
    response = pages.get("/_test/note?text=hello", headers={"X-Request-ID": "req-4711.a"})

    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-4711.a"
    assert line("WARNING", "app", "req-4711.a", "note: hello").search(capsys.readouterr().err)


def test_without_a_header_each_request_gets_an_id_of_its_own(pages, capsys):
    first = pages.get("/_test/note?text=one")
    second = pages.get("/_test/note?text=two")
    # An id that could forge a line or flood the log is replaced, not copied.
    forged = pages.get("/_test/note?text=three", headers={"X-Request-ID": "x] INFO app [admin signed in"})

    ids = [r.headers["X-Request-ID"] for r in (first, second, forged)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 3
    err = capsys.readouterr().err
    for request_id, text in zip(ids, ("one", "two", "three")):
        assert line("WARNING", "app", request_id, f"note: {text}").search(err)
    assert "admin signed in" not in err


def test_a_personal_link_token_is_redacted_from_the_log_output(pages, capsys):
    token = secrets.token_urlsafe(33)

    pages.get(f"/_test/echo-path?next=/i/{token}/details", headers={"X-Request-ID": "r1"})
    crashed = pages.get(f"/_test/crash?next=/i/{token}", headers={"X-Request-ID": "r2"})

    assert crashed.status_code == 500
    err = capsys.readouterr().err
    assert line("WARNING", "app", "r1", re.escape("asked for /_test/echo-path?next=/i/[token]/details")).search(err)
    # The traceback of an unexpected error is part of the line, and redacted with it.
    assert line("ERROR", "app", "r2", re.escape("Unhandled error on /_test/crash")).search(err)
    assert "RuntimeError: lost track of /i/[token]" in err
    assert token not in err and token[:20] not in err


def test_the_level_setting_takes_effect(tmp_path, capsys):
    levels = ("DEBUG", "INFO", "WARNING", "ERROR")
    written = {}
    for setting in ("DEBUG", "WARNING", "info"):
        (tmp_path / setting).mkdir()
        app = make_app("sqlite", tmp_path / setting, LOG_LEVEL=setting)
        add_test_pages(app)
        client = app.test_client()
        capsys.readouterr()
        for level in levels:
            client.get(f"/_test/note?level={level}&text={level.lower()}-at-{setting}")
        err = capsys.readouterr().err
        written[setting] = [level for level in levels if f"note: {level.lower()}-at-{setting}" in err]
        with app.app_context():
            db.engine.dispose()

    assert written == {
        "DEBUG": ["DEBUG", "INFO", "WARNING", "ERROR"],
        "WARNING": ["WARNING", "ERROR"],
        "info": ["INFO", "WARNING", "ERROR"],
    }
    assert logging.getLogger("gunicorn.error").level == logging.INFO  # gunicorn's follows the last app's setting


def test_the_level_comes_from_the_environment_through_config_and_a_wrong_one_is_named(tmp_path):
    read = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.LOG_LEVEL)"],
        cwd=ROOT,
        env={**os.environ, "LOG_LEVEL": "warning"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert read.stdout.strip() == "WARNING"
    unset = {k: v for k, v in os.environ.items() if k != "LOG_LEVEL"}
    default = subprocess.run(
        [sys.executable, "-c", "from config import Config; print(Config.LOG_LEVEL)"],
        cwd=ROOT,
        env=unset,
        capture_output=True,
        text=True,
        check=True,
    )
    assert default.stdout.strip() == "INFO"

    with pytest.raises(ValueError, match="LOG_LEVEL is 'LOUD'; set it to DEBUG, INFO, WARNING, ERROR or CRITICAL"):
        make_app("sqlite", tmp_path, LOG_LEVEL="LOUD")


def test_gunicorn_logs_in_the_same_format_with_the_request_id_and_no_token(tmp_path):
    token = secrets.token_urlsafe(33)
    schema = make_app("sqlite", tmp_path)
    with schema.app_context():
        db.engine.dispose()
    settings = {"DATABASE_URL": schema.config["DATABASE_URL"], "LOG_LEVEL": "INFO"}
    server = ServedApp(
        settings,
        log_dir=tmp_path,
        app="tests.support.served_logging_app:app",
        env={"GUNICORN_CMD_ARGS": "--access-logfile - --logger-class app.core.logs.GunicornLogger"},
    )
    with server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            connection.request("GET", f"/_test/note?text=/i/{token}/details", headers={"X-Request-ID": "gun-1"})
            response = connection.getresponse()
            response.read()
            connection.request("GET", f"/i/{token}")
            missing = connection.getresponse()
            missing.read()
            connection.request("GET", f"/sign-in/link/{token}")  # a leader's one-time sign-in link, the same
            connection.getresponse().read()
            connection.request("GET", f"/calendar/feed/{token}.ics")  # and a calendar feed's address
            connection.getresponse().read()
        finally:
            connection.close()
    log = server.log_path.read_text()

    assert response.status == 200 and response.getheader("X-Request-ID") == "gun-1"
    assert missing.status == 404
    generated = missing.getheader("X-Request-ID")
    assert line("WARNING", "app", "gun-1", re.escape("note: /i/[token]/details")).search(log), log
    assert line(
        "INFO",
        "gunicorn.access",
        "gun-1",
        r'127\.0\.0\.1 - - \[.+\] "GET /_test/note\?text=/i/\[token\]/details HTTP/1\.1" 200 .*',
    ).search(log), log
    assert line("INFO", "gunicorn.access", generated, r'.*"GET /i/\[token\] HTTP/1\.1" 404 .*').search(log), log
    assert re.search(r'"GET /sign-in/link/\[token\] HTTP/1\.1" 404 ', log), log
    assert re.search(r'"GET /calendar/feed/\[token\] HTTP/1\.1" 404 ', log), log
    # gunicorn's own lines, the master's from its first one, are in the format too: every line is.
    assert line("INFO", "gunicorn.error", "-", r"Starting gunicorn .*").search(log), log
    assert line("INFO", "gunicorn.error", "-", r"Worker exiting \(pid: \d+\)").search(log), log
    assert all(
        re.match(rf"{STAMP} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+ \[\S+\] ", text)
        for text in log.splitlines()
        if text
    ), log
    assert token not in log
