"""Security headers and cookie flags (set in app/factory.py): the content security policy, nosniff, HttpOnly and
SameSite cookies everywhere; HSTS and secure cookies in production, behind HTTPS."""

from __future__ import annotations

import secrets

from tests.support import factories as f


def test_security_headers_and_cookie_flags(app, client):
    f.summit()
    organiser = f.user()
    response = client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "worker-src 'self' blob:" in csp and "media-src 'self' blob:" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers  # only in production, behind HTTPS


def test_production_sets_hsts_and_secure_cookies(tmp_path):
    from app.factory import create_app
    from config import ProductionConfig, settings_of

    config = settings_of(ProductionConfig)
    config.update(
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        BASE_URL="https://newhorizons.example.org",
        RATELIMIT_SINGLE_PROCESS=True,
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.test-key",
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/privacy")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
