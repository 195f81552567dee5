"""Configuration classes: every read of the environment lives here."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

_DEV_SECRET = "dev-only-not-secret"


def normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'newhorizons.sqlite3'}"
    return normalise_database_url(url)


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET)
    DATABASE_URL = _database_url()
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    TIMEZONE = "Europe/London"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a delegate may leave a form open all afternoon
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") == "1"
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute")
    LINK_LOOKUP_RATE_LIMIT = os.environ.get("LINK_LOOKUP_RATE_LIMIT", "20 per minute")
    # Per scanner (API token or signed-in steward): a door does a scan every few seconds; offline syncs come in bursts.
    CHECKIN_RATE_LIMIT = os.environ.get("CHECKIN_RATE_LIMIT", "300 per minute")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_FROM = os.environ.get("MAIL_FROM", "newhorizons@suffolk.example.org.uk")
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "New Horizons organisers")
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "outbox"))
    SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "")
    SENDGRID_HOST = os.environ.get("SENDGRID_HOST", "https://api.sendgrid.com")
    SENDGRID_TIMEOUT = float(os.environ.get("SENDGRID_TIMEOUT", "15"))
    # The "Verification Key" from SendGrid's signed event webhook settings (base64 DER, as SendGrid shows it).
    SENDGRID_WEBHOOK_PUBLIC_KEY = os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_RETRY_BASE_SECONDS = float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "30"))
    MAIL_RETRY_MAX_SECONDS = float(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600"))
    MAIL_CLAIM_LEASE_SECONDS = int(os.environ.get("MAIL_CLAIM_LEASE_SECONDS", "300"))
    REMINDER_MIN_DAYS = int(os.environ.get("REMINDER_MIN_DAYS", "7"))
    # How long after the summit personal data is kept before `privacy anonymise` may remove it.
    PRIVACY_RETENTION_DAYS = int(os.environ.get("PRIVACY_RETENTION_DAYS", "90"))
    SQL_ECHO = False
    # IMMEDIATE takes SQLite's write lock at BEGIN; the race tests' control sets DEFERRED to show why.
    SQLITE_BEGIN = "IMMEDIATE"
    PRODUCTION = False


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False  # the CSRF module turns it back on
    RATELIMIT_ENABLED = False  # the rate-limit tests turn it back on
    MAIL_BACKEND = "memory"
    BASE_URL = "http://localhost"


class ProductionConfig(Config):
    PRODUCTION = True
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, secret_key: str | None = None) -> None:
        key = cls.SECRET_KEY if secret_key is None else secret_key
        if not key or key == _DEV_SECRET or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("APP_ENV", "development")]
