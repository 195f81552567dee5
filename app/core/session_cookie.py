"""Flask's signed session cookie, left alone where no cookie is taken: the JSON API signs in with bearer tokens only."""

from __future__ import annotations

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin


class SessionCookieExceptUnder(SecureCookieSessionInterface):
    """Flask's own session, except under the given path prefixes: there a request starts with an empty session, and
    the session cookie is neither read, verified nor set. Those routes take no cookies (DESIGN.md, Security model),
    and a scanner's hot path need not pay for a signer it never uses."""

    def __init__(self, prefixes: tuple[str, ...]):
        self.prefixes = prefixes

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(self.prefixes):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if request.path.startswith(self.prefixes):
            return
        super().save_session(app, session, response)
