"""Production refuses to start on unsafe settings (weak keys, per-process rate limits, mail that goes nowhere),
each refusal saying what to set; and SECRET_KEY_FALLBACKS keeps emailed links working across a key rotation."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from werkzeug.security import generate_password_hash

from app.core.auth import services as auth_services
from app.core.auth.models import Role
from app.core.db import Base, db
from app.factory import create_app
from config import _DEV_SECRET, MAKE_A_KEY, Config, DevelopmentConfig, ProductionConfig, TestingConfig, settings_of
from invitations import services
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]


def production(tmp_path, **overrides) -> dict:
    """ProductionConfig's settings made safe (a generated key, SendGrid, one worker process), then `overrides`."""
    config = settings_of(ProductionConfig)
    config.update(
        SECRET_KEY=secrets.token_urlsafe(48),
        SECRET_KEY_FALLBACKS=[],
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.test-key",
        RATELIMIT_SINGLE_PROCESS=True,
    )
    config.update(overrides)
    return config


def refusal(tmp_path, **overrides) -> str:
    with pytest.raises(RuntimeError) as raised:
        create_app(production(tmp_path, **overrides))
    return str(raised.value)


def test_safe_production_settings_start(tmp_path):
    app = create_app(production(tmp_path))
    assert app.config["PRODUCTION"] and app.config["SESSION_COOKIE_SECURE"]


# --- SECRET_KEY ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, reason",
    [
        ("", "is not set"),
        (_DEV_SECRET, "is the development key"),
        (TestingConfig.SECRET_KEY, "is the development key"),
        ("short-but-not-default", "is only 21 characters long"),
        ("a" * 32, "is a short pattern repeated"),
        ("k" * 48, "is a short pattern repeated"),
        ("Summit2026!" * 4, "is a short pattern repeated"),
        ("changemechangemechangemechangeme", "contains the placeholder word 'changeme'"),
        ("our-summit-secret-key-for-new-horizons", "contains the placeholder word 'secret'"),
        ("Password-Password-Summit-2026-Adastral", "contains the placeholder word 'password'"),
        ("https://newhorizons.example.org/signing-key", "contains the placeholder word 'example'"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "is mostly runs of consecutive characters"),
        ("a" * 30 + "bcdefghijklm", "has too little variety"),
        ("xqxqxqxqxqxqxqxqxqxqxqxqxqxqxqzzzzzzzzzz", "has too little variety"),
    ],
)
def test_production_refuses_a_weak_secret_key_and_says_how_to_make_one(tmp_path, key, reason):
    message = refusal(tmp_path, SECRET_KEY=key)
    assert f"SECRET_KEY {reason}" in message
    assert MAKE_A_KEY in message
    assert key == "" or key not in message  # the key itself is never printed


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: secrets.token_urlsafe(48),
        lambda: secrets.token_urlsafe(24),
        lambda: secrets.token_hex(16),
        lambda: secrets.token_hex(32),
    ],
)
def test_generated_keys_are_accepted(tmp_path, make_key):
    for _ in range(200):  # a random key must never be refused as "too little variety"
        ProductionConfig.check(production(tmp_path, SECRET_KEY=make_key()))


def test_each_fallback_key_must_be_as_strong(tmp_path):
    message = refusal(tmp_path, SECRET_KEY_FALLBACKS=[secrets.token_urlsafe(48), "changeme" * 4])
    assert "SECRET_KEY_FALLBACKS entry 2 contains the placeholder word 'changeme'" in message
    assert "entry 1" not in message
    create_app(production(tmp_path, SECRET_KEY_FALLBACKS=[secrets.token_urlsafe(48)]))


def test_the_production_config_class_itself_is_checked(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", _DEV_SECRET)
    with pytest.raises(RuntimeError, match="SECRET_KEY is the development key"):
        ProductionConfig.check()
    with pytest.raises(RuntimeError, match="SECRET_KEY is the development key"):
        create_app(ProductionConfig)


# --- rate limits -----------------------------------------------------------------------------------------


def test_production_refuses_the_per_process_rate_limit_store_unless_one_process_serves(tmp_path):
    message = refusal(tmp_path, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_SINGLE_PROCESS=False)
    assert "RATELIMIT_STORAGE_URI is memory://" in message
    assert "RATELIMIT_STORAGE_URI=redis://" in message and "RATELIMIT_SINGLE_PROCESS=1" in message

    create_app(production(tmp_path, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_SINGLE_PROCESS=True))
    # The Redis client is installed: a redis:// store starts (this used to fail: "'redis' prerequisite not available").
    create_app(production(tmp_path, RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15", RATELIMIT_SINGLE_PROCESS=False))


def test_a_delegates_page_still_opens_while_redis_is_down(tmp_path):
    """Counters fall back to memory while the shared store is unreachable, instead of a 500 on every page."""
    from tests.conftest import make_app

    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    with app.app_context():
        f.summit()
        token = services.token_for(f.invitation())
        assert app.test_client().get(f"/i/{token}").status_code == 200
        assert app.test_client().get(f"/i/{secrets.token_urlsafe(33)}").status_code == 404


# --- password hashing --------------------------------------------------------------------------------------


def test_only_the_testing_configuration_hashes_passwords_cheaply():
    assert Config.PASSWORD_HASH_METHOD == DevelopmentConfig.PASSWORD_HASH_METHOD == "scrypt"
    assert ProductionConfig.PASSWORD_HASH_METHOD == "scrypt"
    assert TestingConfig.PASSWORD_HASH_METHOD == "pbkdf2:sha256:1"


@pytest.mark.parametrize(
    "method",
    [
        "pbkdf2:sha256:1",
        "pbkdf2:sha256",
        "pbkdf2",
        "scrypt:1024:8:1",
        "scrypt:32768:1:1",
        "scrypt:32768",
        "scrypt:many:8:1",
        "",
        None,
    ],
)
def test_production_refuses_a_password_hash_cheaper_than_scrypt(tmp_path, method):
    message = refusal(tmp_path, PASSWORD_HASH_METHOD=method)
    assert f"PASSWORD_HASH_METHOD is {method!r}, cheaper than Werkzeug's default scrypt" in message
    assert "Production hashes with 'scrypt'" in message


def test_production_hashes_staff_passwords_with_scrypt_and_still_checks_any_stored_hash(tmp_path):
    for method in ("scrypt:32768:8:1", "scrypt:65536:8:2"):
        ProductionConfig.check(production(tmp_path, PASSWORD_HASH_METHOD=method))
    app = create_app(production(tmp_path))
    with app.app_context():
        Base.metadata.create_all(db.engine)
        user = auth_services.create_user(
            "olga@staff.example.org", name="Olga", role=Role.ORGANISER, password="a-long-password"
        )
        assert user.password_hash.startswith("scrypt:32768:8:1$")
        assert user.check_password("a-long-password") and not user.check_password("a-wrong-password")
        # The method is read back from the stored hash, so a hash made by the tests' setting checks here too.
        user.password_hash = generate_password_hash("a-long-password", method=TestingConfig.PASSWORD_HASH_METHOD)
        assert user.password_hash.startswith("pbkdf2:sha256:1$") and user.check_password("a-long-password")
        db.engine.dispose()


# --- mail -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["console", "file", "memory"])
def test_production_refuses_a_mail_backend_that_delivers_nothing(tmp_path, backend):
    message = refusal(tmp_path, MAIL_BACKEND=backend)
    assert f"MAIL_BACKEND is '{backend}', which delivers no email" in message
    assert "MAIL_BACKEND=sendgrid" in message and "MAIL_ALLOW_NON_DELIVERY=1" in message
    create_app(production(tmp_path, MAIL_BACKEND=backend, MAIL_ALLOW_NON_DELIVERY=True))  # told, it starts


def test_production_refuses_sendgrid_without_an_api_key(tmp_path):
    assert "SENDGRID_API_KEY is not set" in refusal(tmp_path, SENDGRID_API_KEY="")


def test_every_problem_is_named_at_once(tmp_path):
    message = refusal(tmp_path, SECRET_KEY="a" * 32, RATELIMIT_SINGLE_PROCESS=False, MAIL_BACKEND="console")
    assert "SECRET_KEY" in message and "RATELIMIT_STORAGE_URI" in message and "MAIL_BACKEND" in message


# --- the same, from the environment, as an operator starts it ---------------------------------------------


def start_from_environment(**env) -> subprocess.CompletedProcess:
    """Import wsgi (what gunicorn and `flask --app wsgi` do) with APP_ENV=production and these variables."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECRET_KEY", "RATELIMIT_", "MAIL_", "SENDGRID_", "APP_ENV"))
    }
    script = "import wsgi; c = wsgi.app.config; print(c['PRODUCTION'], len(c['SECRET_KEY_FALLBACKS']), c['RATELIMIT_STORAGE_URI'])"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**clean, "APP_ENV": "production", "PYTHONPATH": str(ROOT), **env},
    )


def test_the_environment_an_operator_sets_is_checked(tmp_path):
    database = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    weak = start_from_environment(SECRET_KEY="changemechangemechangemechangeme", DATABASE_URL=database)
    assert weak.returncode != 0
    assert "SECRET_KEY contains the placeholder word 'changeme'" in weak.stderr
    assert "RATELIMIT_STORAGE_URI is memory://" in weak.stderr and "MAIL_BACKEND is 'console'" in weak.stderr

    good = start_from_environment(
        SECRET_KEY=secrets.token_urlsafe(48),
        SECRET_KEY_FALLBACKS=f"{secrets.token_urlsafe(48)}, {secrets.token_urlsafe(48)}",
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.key",
        DATABASE_URL=database,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.split() == ["True", "2", "redis://127.0.0.1:6379/15"]


# --- rotating SECRET_KEY ------------------------------------------------------------------------------------


def test_a_link_minted_under_the_old_key_opens_while_that_key_is_a_fallback(app, client):
    f.summit()
    invitation = f.invitation()
    old_key, new_key = app.config["SECRET_KEY"], secrets.token_urlsafe(48)
    old_link = f"/i/{services.token_for(invitation)}"
    organiser = f.user(role=Role.ORGANISER)
    assert client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD}).status_code == 302

    app.config.update(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key])
    assert client.get(old_link).status_code == 200
    assert client.get("/organiser/").status_code == 200  # Flask honours the fallback for the session too
    new_link = f"/i/{services.token_for(invitation)}"  # new links are made with the new key only
    assert new_link != old_link and client.get(new_link).status_code == 200

    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert client.get(old_link).status_code == 404  # without the fallback the old link is dead
    assert client.get(new_link).status_code == 200

    app.config.update(SECRET_KEY=secrets.token_urlsafe(48), SECRET_KEY_FALLBACKS=[new_key])
    assert client.get(new_link).status_code == 200 and client.get(old_link).status_code == 404
