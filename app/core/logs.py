"""Logging, set up once per app: one line format with a request id, for the app's loggers and gunicorn's, with
personal-link tokens kept out of every line."""

from __future__ import annotations

import logging
import re
import secrets
import sys
import time
from collections.abc import Mapping

from flask import Flask, has_request_context, request
from flask.logging import default_handler
from gunicorn.glogging import Logger as _GunicornBaseLogger

from config import config_from_env

REQUEST_ID_HEADER = "X-Request-ID"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# A caller's id is taken only if it looks like one: free text in a header must not be able to forge a log line.
_PLAUSIBLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:=+-]{1,128}")
_REQUEST_ID_KEY = "newhorizons.request_id"  # in the WSGI environ, which lives exactly as long as the request
# gunicorn logs each access after the response, outside the request, with the response headers among its atoms.
_GUNICORN_ACCESS = "gunicorn.access"
_GUNICORN_RESPONSE_REQUEST_ID = "{x-request-id}o"
# A personal link (/i/<token>), a leader's one-time sign-in link (/sign-in/link/<token>), a staff invitation
# (/sign-in/join/<token>), a password-reset link (/sign-in/reset/<token>) and a person's calendar feed
# (/calendar/feed/<token>.ics).
_TOKEN_IN_PATH = re.compile(r"(/i/|/sign-in/link/|/sign-in/join/|/sign-in/reset/|/calendar/feed/)[^/?\s\"]+")
_TOKEN_PATHS = ("/i/", "/sign-in/link/", "/sign-in/join/", "/sign-in/reset/", "/calendar/feed/")


def safe_path(text: str) -> str:
    """The text with the token of every personal link (/i/<token>…), sign-in link and calendar feed replaced by
    [token]."""
    return _TOKEN_IN_PATH.sub(r"\1[token]", text)


def request_id() -> str:
    """This request's id: the caller's X-Request-ID when it is a plausible id, else one made for the request."""
    environ = request.environ
    if _REQUEST_ID_KEY not in environ:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        environ[_REQUEST_ID_KEY] = given if _PLAUSIBLE_REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
    return environ[_REQUEST_ID_KEY]


class RedactTokens(logging.Filter):
    """Personal links are bearer credentials: keep them out of every log line (the access log included)."""

    @staticmethod
    def _clean(value):
        return safe_path(value) if isinstance(value, str) and any(p in value for p in _TOKEN_PATHS) else value

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log passes its atoms as a mapping
            for key, value in record.args.items():  # in place: gunicorn's mapping answers "-" for a missing atom
                record.args[key] = self._clean(value)
        return True


def _request_id_of(record: logging.LogRecord) -> str:
    if record.name == _GUNICORN_ACCESS and isinstance(record.args, Mapping):
        return str(record.args.get(_GUNICORN_RESPONSE_REQUEST_ID) or "-")
    return request_id() if has_request_context() else "-"


class LineFormatter(logging.Formatter):
    """`2026-10-01T09:30:00.123Z INFO app [request id] message`, in UTC; tokens are redacted from the whole
    line, a traceback included, whichever logger it came from."""

    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"

    def __init__(self) -> None:
        super().__init__(FORMAT)
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = _request_id_of(record)
        return safe_path(super().format(record))


class _StderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each line: pytest and click's test runner put their own in its place."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def log_level(name: str) -> int:
    level = logging.getLevelNamesMapping().get(str(name).upper())
    if level is None:
        raise ValueError(f"LOG_LEVEL is {name!r}; set it to DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    return level


def configure_logging(app: Flask) -> None:
    """Every logger writes one format to stderr at LOG_LEVEL; under gunicorn its error and access logs do too.
    Idempotent: a second app in the same process (as in the tests) replaces the first one's set-up."""
    level = log_level(app.config.get("LOG_LEVEL", "INFO"))
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(LineFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    app.logger.removeHandler(default_handler)  # Flask's own, with a format of its own
    app.logger.setLevel(level)
    _redact_on("werkzeug")  # the development server's access log
    _restyle_gunicorn(level)

    @app.after_request
    def send_request_id(response):
        response.headers[REQUEST_ID_HEADER] = request_id()
        return response


def _redact_on(name: str) -> None:
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())


def _restyle_gunicorn(level: int) -> None:
    """gunicorn's loggers don't propagate: give the handlers gunicorn made (none outside gunicorn) our format.
    The access log stays on gunicorn's switch (--access-logfile) and at its own level."""
    logging.getLogger("gunicorn.error").setLevel(level)
    for name in ("gunicorn.error", _GUNICORN_ACCESS):
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(LineFormatter())
        _redact_on(name)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's logger in the same format from the master's first line, not only once a worker has loaded the
    app: `gunicorn --logger-class app.core.logs.GunicornLogger`. Its level is LOG_LEVEL, like the app's."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        _restyle_gunicorn(log_level(config_from_env().LOG_LEVEL))
