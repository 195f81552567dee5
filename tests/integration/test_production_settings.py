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

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import Base, db
from app.factory import create_app
from config import _DEV_SECRET, MAKE_A_KEY, Config, DevelopmentConfig, ProductionConfig, TestingConfig, settings_of
from invitations import links
from tests.support import factories as f
from tests.support import notify_standin

ROOT = Path(__file__).resolve().parents[2]


def production(tmp_path, **overrides) -> dict:
    """ProductionConfig's settings made safe (a generated key, SendGrid, one worker process), then `overrides`."""
    config = settings_of(ProductionConfig)
    config.update(
        SECRET_KEY=secrets.token_urlsafe(48),
        SECRET_KEY_FALLBACKS=[],
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        BASE_URL="https://newhorizons.example.org",
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
    from tests.support.apps import make_app

    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    with app.app_context():
        f.summit()
        token = links.token_for(f.invitation())
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
        user = credentials.create_user(
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


NOTIFY = dict(
    MAIL_BACKEND="notify", NOTIFY_API_KEY=notify_standin.API_KEY, NOTIFY_EMAIL_TEMPLATE_ID=notify_standin.TEMPLATE_ID
)


def test_production_starts_with_notify_given_its_key_and_template(tmp_path):
    app = create_app(production(tmp_path, SENDGRID_API_KEY="", **NOTIFY))
    assert app.config["NOTIFY_BASE_URL"] == "https://api.notifications.service.gov.uk"


@pytest.mark.parametrize(
    "overrides, sentence",
    [
        ({"NOTIFY_API_KEY": ""}, "MAIL_BACKEND is notify but NOTIFY_API_KEY is not set: create a live API key"),
        ({"NOTIFY_API_KEY": notify_standin.SECRET}, "NOTIFY_API_KEY doesn't look like a GOV.UK Notify API key"),
        ({"NOTIFY_EMAIL_TEMPLATE_ID": ""}, "NOTIFY_EMAIL_TEMPLATE_ID is not set: make one email template in Notify"),
        ({"NOTIFY_EMAIL_TEMPLATE_ID": "Generic message"}, "is 'Generic message', which is not a template id"),
        ({"NOTIFY_BASE_URL": "http://api.notifications.service.gov.uk"}, "not an https:// address"),
    ],
)
def test_production_refuses_notify_without_what_it_needs_and_says_what_to_set(tmp_path, overrides, sentence):
    assert sentence in refusal(tmp_path, **{**NOTIFY, **overrides})


def test_the_mail_worker_says_what_notify_lacks_anywhere(tmp_path):
    from app.core.mail import delivery

    app = create_app({**settings_of(TestingConfig), "MAIL_BACKEND": "notify", "DATABASE_URL": "sqlite://"})
    with app.app_context(), pytest.raises(RuntimeError) as raised:
        delivery.send_pending()
    assert str(raised.value).startswith("GOV.UK Notify can't send yet. MAIL_BACKEND is notify but NOTIFY_API_KEY")


def test_every_problem_is_named_at_once(tmp_path):
    message = refusal(tmp_path, SECRET_KEY="a" * 32, RATELIMIT_SINGLE_PROCESS=False, MAIL_BACKEND="console")
    assert "SECRET_KEY" in message and "RATELIMIT_STORAGE_URI" in message and "MAIL_BACKEND" in message


# --- the same, from the environment, as an operator starts it ---------------------------------------------


def operators_environment(**env: str | None) -> dict:
    """This process's environment without any of the app's settings, then `env` (a None value stays unset)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("SECRET_KEY", "RATELIMIT_", "MAIL_", "SENDGRID_", "NOTIFY_", "APP_ENV", "BASE_URL", "ALLOW_")
        )
    }
    given = {"APP_ENV": "production", **env}
    return {**clean, "PYTHONPATH": str(ROOT), **{k: v for k, v in given.items() if v is not None}}


def start_from_environment(**env: str | None) -> subprocess.CompletedProcess:
    """Import wsgi (what gunicorn and `flask --app wsgi` do) with APP_ENV=production and these variables."""
    script = "import wsgi; c = wsgi.app.config; print(c['PRODUCTION'], len(c['SECRET_KEY_FALLBACKS']), c['RATELIMIT_STORAGE_URI'])"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=operators_environment(**env),
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
        BASE_URL="https://newhorizons.example.org",
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.split() == ["True", "2", "redis://127.0.0.1:6379/15"]


# --- safe defaults: only an explicit APP_ENV=development runs with the development key -------------------


def test_without_app_env_the_app_starts_as_in_production_and_refuses_a_missing_or_development_key(tmp_path):
    database = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    for key, reason in ((None, "SECRET_KEY is not set"), (_DEV_SECRET, "SECRET_KEY is the development key")):
        started = start_from_environment(APP_ENV=None, SECRET_KEY=key, DATABASE_URL=database)
        assert started.returncode != 0
        assert "RuntimeError: APP_ENV is not set, so the app starts as in production" in started.stderr
        assert "set APP_ENV=development, as make run does" in started.stderr
        assert reason in started.stderr and MAKE_A_KEY in started.stderr
    # An empty APP_ENV is no word for development either.
    assert "SECRET_KEY is not set" in start_from_environment(APP_ENV="", DATABASE_URL=database).stderr

    development = start_from_environment(APP_ENV="development", DATABASE_URL=database)
    assert development.returncode == 0, development.stderr
    assert development.stdout.split()[0] == "False"


def test_without_app_env_a_safe_production_environment_starts(tmp_path):
    started = start_from_environment(
        APP_ENV=None,
        SECRET_KEY=secrets.token_urlsafe(48),
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.key",
        DATABASE_URL=f"sqlite:///{tmp_path / 'env.sqlite3'}",
        BASE_URL="https://newhorizons.example.org",
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split()[0] == "True"


@pytest.mark.parametrize(
    "app_env, sentence",
    [
        ("testing", "APP_ENV is 'testing', the test suite's own configuration"),
        ("prod", "APP_ENV is 'prod'; set it to production, or to development on your own machine."),
    ],
)
def test_an_app_env_that_is_not_for_running_the_app_is_refused(tmp_path, app_env, sentence):
    started = start_from_environment(APP_ENV=app_env, DATABASE_URL=f"sqlite:///{tmp_path / 'env.sqlite3'}")
    assert started.returncode != 0 and sentence in started.stderr


def test_gunicorn_without_app_env_or_secret_key_exits_saying_why(tmp_path):
    """What an operator who forgot both sees: gunicorn stops (non-zero) with the sentence, and serves nothing."""
    env = operators_environment(APP_ENV=None, DATABASE_URL=f"sqlite:///{tmp_path / 'env.sqlite3'}")
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "wsgi:app"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert started.returncode != 0
    assert "APP_ENV is not set, so the app starts as in production" in started.stderr
    assert "SECRET_KEY is not set" in started.stderr


def test_make_run_says_development_explicitly():
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stdout.splitlines() if "flask --app wsgi" in line or "gunicorn --bind" in line]
    assert len(commands) >= 4  # db upgrade, demo, the mail worker and the server
    assert all("APP_ENV=development " in line for line in commands), commands


def test_production_refuses_rate_limits_switched_off_unless_told(tmp_path):
    message = refusal(tmp_path, RATELIMIT_ENABLED=False)
    assert "RATELIMIT_ENABLED is 0, which switches off every rate limit" in message
    assert "ALLOW_NO_RATE_LIMITS=1" in message
    create_app(production(tmp_path, RATELIMIT_ENABLED=False, ALLOW_NO_RATE_LIMITS=True))  # told, it starts


@pytest.mark.parametrize("base_url", ["http://newhorizons.example.org", "http://127.0.0.1:5000", "newhorizons.org", ""])
def test_production_refuses_a_base_url_that_is_not_https_unless_told(tmp_path, base_url):
    message = refusal(tmp_path, BASE_URL=base_url)
    assert f"BASE_URL is {base_url!r}, not an https:// address" in message
    assert "ALLOW_HTTP_BASE_URL=1" in message
    create_app(production(tmp_path, BASE_URL=base_url, ALLOW_HTTP_BASE_URL=True))  # told, it starts


def test_the_overrides_come_from_the_environment(tmp_path):
    common = dict(
        SECRET_KEY=secrets.token_urlsafe(48),
        RATELIMIT_SINGLE_PROCESS="1",
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.key",
        DATABASE_URL=f"sqlite:///{tmp_path / 'env.sqlite3'}",
    )
    refused = start_from_environment(RATELIMIT_ENABLED="0", BASE_URL="http://10.0.0.5", **common)
    assert refused.returncode != 0
    assert "RATELIMIT_ENABLED is 0" in refused.stderr and "BASE_URL is 'http://10.0.0.5'" in refused.stderr
    told = start_from_environment(
        RATELIMIT_ENABLED="0", BASE_URL="http://10.0.0.5", ALLOW_NO_RATE_LIMITS="1", ALLOW_HTTP_BASE_URL="1", **common
    )
    assert told.returncode == 0, told.stderr


# --- rotating SECRET_KEY ------------------------------------------------------------------------------------


def test_a_link_minted_under_the_old_key_opens_while_that_key_is_a_fallback(app, client):
    f.summit()
    invitation = f.invitation()
    old_key, new_key = app.config["SECRET_KEY"], secrets.token_urlsafe(48)
    old_link = f"/i/{links.token_for(invitation)}"
    organiser = f.user(role=Role.ORGANISER)
    assert client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD}).status_code == 302

    app.config.update(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[old_key])
    assert client.get(old_link).status_code == 200
    assert client.get("/organiser/").status_code == 200  # Flask honours the fallback for the session too
    new_link = f"/i/{links.token_for(invitation)}"  # new links are made with the new key only
    assert new_link != old_link and client.get(new_link).status_code == 200

    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert client.get(old_link).status_code == 404  # without the fallback the old link is dead
    assert client.get(new_link).status_code == 200

    app.config.update(SECRET_KEY=secrets.token_urlsafe(48), SECRET_KEY_FALLBACKS=[new_key])
    assert client.get(new_link).status_code == 200 and client.get(old_link).status_code == 404
