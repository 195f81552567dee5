"""tests/support/served_app.py with a page that logs what it is asked, for the logging tests under real gunicorn."""

from flask import current_app, request

from tests.support.served_app import app


@app.get("/_test/note")
def note():
    current_app.logger.warning("note: %s", request.args.get("text", ""))
    return "noted"
