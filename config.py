"""Configuration classes: every read of the environment lives here."""

import math
import os
import re
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))

_DEV_SECRET = "dev-only-not-secret"
NOTIFY_PRODUCTION_URL = "https://api.notifications.service.gov.uk"
# Microsoft Entra ID's OpenID Connect metadata for work and school accounts of any tenant (the allow-list narrows it).
ENTRA_METADATA_URL = "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
GOOGLE_WALLET_PRODUCTION_URL = "https://walletobjects.googleapis.com"
GOOGLE_TOKEN_PRODUCTION_URL = "https://oauth2.googleapis.com/token"


def normalise_database_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "0") == "1"


def _env_count(name: str, default: str) -> int:
    value = os.environ.get(name, default).strip()
    if not (value.isascii() and value.isdigit()):
        raise RuntimeError(f"{name} is {value!r}: set it to a whole number, 0 or more.")
    return int(value)


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'newhorizons.sqlite3'}"
    return normalise_database_url(url)


class Config:
    # Which configuration the environment asked for ("" when APP_ENV is unset: production, see config_from_env).
    APP_ENV = os.environ.get("APP_ENV", "")
    SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET)
    # Old keys, newest first: personal links (and sessions) signed with them still open after a rotation.
    SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS")
    DATABASE_URL = _database_url()
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    # The operator's word that people really reach this server over plain http, so production may link to it.
    ALLOW_HTTP_BASE_URL = _env_flag("ALLOW_HTTP_BASE_URL")
    TIMEZONE = "Europe/London"
    # DEBUG, INFO, WARNING, ERROR or CRITICAL, for the app's loggers and gunicorn's (app/core/logs.py).
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # How long a staff sign-in lasts ("keep me signed in", a leader's emailed link): the remember cookie's life,
    # and the most any sign-in lasts on the server, remembered or not (app/core/auth/sessions.py).
    REMEMBER_COOKIE_DAYS = int(os.environ.get("REMEMBER_COOKIE_DAYS", "30"))
    REMEMBER_COOKIE_DURATION = timedelta(days=REMEMBER_COOKIE_DAYS)
    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = None  # a delegate may leave a form open all afternoon
    # The session-bound token is the check (with SameSite=Lax cookies). Flask-WTF would add a Referer check to
    # requests it knows came over HTTPS (as behind a proxy with TRUSTED_PROXY_HOPS), which refuses browsers and
    # privacy tools that send no Referer, with an answer that blames a stale page.
    WTF_CSRF_SSL_STRICT = False
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    RATELIMIT_ENABLED = os.environ.get("RATELIMIT_ENABLED", "1") == "1"
    # The operator's word that something in front of the app limits requests, so production may run without limits.
    ALLOW_NO_RATE_LIMITS = _env_flag("ALLOW_NO_RATE_LIMITS")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "newhorizons")
    # If Redis goes down, count in each process until it is back, rather than failing every delegate's page.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # The operator's word that one worker process serves the app, so the per-process memory:// store is the real limit.
    RATELIMIT_SINGLE_PROCESS = _env_flag("RATELIMIT_SINGLE_PROCESS")
    # No X-RateLimit-* headers: each would cost the store a second read per request. A 429 says Retry-After.
    RATELIMIT_HEADERS_ENABLED = False
    # How many reverse proxies stand in front of the app (nginx: 1). The app takes the client's address and scheme
    # from that many X-Forwarded-For / X-Forwarded-Proto entries, counted from the right, and never trusts more.
    TRUSTED_PROXY_HOPS = _env_count("TRUSTED_PROXY_HOPS", "0")
    SIGNIN_RATE_LIMIT = os.environ.get("SIGNIN_RATE_LIMIT", "10 per minute")
    # Wrong passwords for one account (the email typed), from wherever they come: gentler than the limit per
    # address, so that one address's guesses never pause an account's sign-in before they pause that address.
    SIGNIN_ACCOUNT_RATE_LIMIT = os.environ.get("SIGNIN_ACCOUNT_RATE_LIMIT", "50 per hour")
    LINK_LOOKUP_RATE_LIMIT = os.environ.get("LINK_LOOKUP_RATE_LIMIT", "20 per minute")
    # Asking for a link by email (a leader's sign-in link, a delegate's lost personal link), each page on its
    # own: per address typed, so nobody's inbox is flooded, and per client, so nobody can try address after address.
    EMAIL_LINK_RATE_LIMIT = os.environ.get("EMAIL_LINK_RATE_LIMIT", "3 per 15 minutes")
    EMAIL_LINK_CLIENT_RATE_LIMIT = os.environ.get("EMAIL_LINK_CLIENT_RATE_LIMIT", "10 per 15 minutes")
    # How long a leader's emailed sign-in link works (once).
    SIGN_IN_LINK_MINUTES = int(os.environ.get("SIGN_IN_LINK_MINUTES", "20"))
    STAFF_INVITATION_DAYS = int(os.environ.get("STAFF_INVITATION_DAYS", "7"))
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", "60"))
    # Per scanner (API token or signed-in steward): a door does a scan every few seconds; offline syncs come in bursts.
    CHECKIN_RATE_LIMIT = os.environ.get("CHECKIN_RATE_LIMIT", "300 per minute")
    # A scanner's API token is checked against the database on every request (a revoked token, or a deactivated
    # account, is refused on its next one). One this process saw work within API_TOKEN_CACHE_SECONDS is no guess,
    # so the failed-guess limit leaves it alone. Its last_used_at is written at most every API_TOKEN_LAST_USED_SECONDS.
    API_TOKEN_CACHE_SECONDS = float(os.environ.get("API_TOKEN_CACHE_SECONDS", "5"))
    API_TOKEN_LAST_USED_SECONDS = float(os.environ.get("API_TOKEN_LAST_USED_SECONDS", "300"))
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    # Production refuses a backend that delivers nothing (console, file, memory) unless this says it is meant.
    MAIL_ALLOW_NON_DELIVERY = _env_flag("MAIL_ALLOW_NON_DELIVERY")
    MAIL_FROM = os.environ.get("MAIL_FROM", "newhorizons@suffolk.example.org.uk")
    # Empty: emails come from, and are signed by, "the organisers of" the summit's own name (see mail_sender).
    MAIL_FROM_NAME = os.environ.get("MAIL_FROM_NAME", "")
    MAIL_FILE_DIR = os.environ.get("MAIL_FILE_DIR", str(INSTANCE_DIR / "outbox"))
    SENDGRID_API_KEY = os.environ.get("SENDGRID_API_KEY", "")
    SENDGRID_HOST = os.environ.get("SENDGRID_HOST", "https://api.sendgrid.com")
    SENDGRID_TIMEOUT = float(os.environ.get("SENDGRID_TIMEOUT", "15"))
    # The "Verification Key" from SendGrid's signed event webhook settings (base64 DER, as SendGrid shows it).
    SENDGRID_WEBHOOK_PUBLIC_KEY = os.environ.get("SENDGRID_WEBHOOK_PUBLIC_KEY", "")
    # A signed post is accepted only this many seconds either side of the time it was signed (its timestamp header).
    SENDGRID_WEBHOOK_MAX_AGE_SECONDS = float(os.environ.get("SENDGRID_WEBHOOK_MAX_AGE_SECONDS", "300"))
    # GOV.UK Notify (MAIL_BACKEND=notify): an API key from Notify's API integration page (its name, the service id and
    # the secret key, joined by hyphens), and the id of the one email template that carries every message, made with
    # the subject ((subject)) and the message ((body)).
    NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
    NOTIFY_EMAIL_TEMPLATE_ID = os.environ.get("NOTIFY_EMAIL_TEMPLATE_ID", "")
    # The one Notify text message template (message `((body))`) that carries every text; unset, no texts are offered.
    NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
    NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", NOTIFY_PRODUCTION_URL)
    NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "15"))
    # The bearer token given to Notify with the delivery-receipt callback's URL (/webhooks/notify); unset refuses them.
    NOTIFY_CALLBACK_TOKEN = os.environ.get("NOTIFY_CALLBACK_TOKEN", "")
    # Staff signing in with their council's Microsoft 365 account (OpenID Connect with Microsoft Entra ID): the app's
    # registration in Entra (its Application (client) ID and a client secret), and the tenant ids of the councils whose
    # accounts may sign in. With all three set the sign-in page offers "Sign in with your council account".
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "").strip()
    OIDC_ALLOWED_TENANTS = tuple(tenant.lower() for tenant in _env_list("OIDC_ALLOWED_TENANTS"))
    # Where the provider's OpenID Connect metadata is (its endpoints, keys and issuer): Entra's, unless tests point it
    # at a stand-in.
    OIDC_METADATA_URL = os.environ.get("OIDC_METADATA_URL", ENTRA_METADATA_URL)
    OIDC_TIMEOUT = float(os.environ.get("OIDC_TIMEOUT", "10"))
    # Apple Wallet (Add to Apple Wallet on the badge page, shown when all but the password are set): the pass type id
    # and team id from the Apple Developer account, the pass certificate and its private key (PEM files; the
    # certificate may be DER as Apple downloads it), the key's password if it has one, and Apple's WWDR intermediate.
    APPLE_PASS_TYPE_ID = os.environ.get("APPLE_PASS_TYPE_ID", "")
    APPLE_TEAM_ID = os.environ.get("APPLE_TEAM_ID", "")
    APPLE_PASS_CERTIFICATE = os.environ.get("APPLE_PASS_CERTIFICATE", "")
    APPLE_PASS_KEY = os.environ.get("APPLE_PASS_KEY", "")
    APPLE_PASS_KEY_PASSWORD = os.environ.get("APPLE_PASS_KEY_PASSWORD", "")
    APPLE_WWDR_CERTIFICATE = os.environ.get("APPLE_WWDR_CERTIFICATE", "")
    # Google Wallet (Save to Google Wallet, shown when both are set): the issuer id from the Google Pay & Wallet
    # Console and a service account's JSON key file (the account has the Wallet Object Issuer role).
    GOOGLE_WALLET_ISSUER_ID = os.environ.get("GOOGLE_WALLET_ISSUER_ID", "")
    GOOGLE_WALLET_KEY_FILE = os.environ.get("GOOGLE_WALLET_KEY_FILE", "")
    # The event ticket class every badge's pass belongs to: the issuer id, a dot, then this.
    GOOGLE_WALLET_CLASS_SUFFIX = os.environ.get("GOOGLE_WALLET_CLASS_SUFFIX", "new_horizons_summit")
    # Where passes are marked inactive (a person cancels, hands on or is revoked) and the token for it comes from.
    GOOGLE_WALLET_API_URL = os.environ.get("GOOGLE_WALLET_API_URL", GOOGLE_WALLET_PRODUCTION_URL)
    GOOGLE_WALLET_TOKEN_URL = os.environ.get("GOOGLE_WALLET_TOKEN_URL", GOOGLE_TOKEN_PRODUCTION_URL)
    GOOGLE_WALLET_TIMEOUT = float(os.environ.get("GOOGLE_WALLET_TIMEOUT", "15"))
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_RETRY_BASE_SECONDS = float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "30"))
    MAIL_RETRY_MAX_SECONDS = float(os.environ.get("MAIL_RETRY_MAX_SECONDS", "3600"))
    MAIL_CLAIM_LEASE_SECONDS = int(os.environ.get("MAIL_CLAIM_LEASE_SECONDS", "300"))
    # A person sent any message (a reminder, an invitation sent again by hand, a nudge …) in this many days
    # isn't reminded again yet.
    REMIND_QUIET_DAYS = int(os.environ.get("REMIND_QUIET_DAYS", "3"))
    # Emails a person causes with their own link, per rolling hour: "your details changed" per person, and
    # fringe sign-up or cancellation emails per person and event; more wait (and are coalesced) until the hour allows.
    OWN_ACTION_EMAILS_PER_HOUR = int(os.environ.get("OWN_ACTION_EMAILS_PER_HOUR", "3"))
    # Fringe sign-up and cancellation emails per person across every event, per rolling hour.
    FRINGE_EMAILS_PER_HOUR = int(os.environ.get("FRINGE_EMAILS_PER_HOUR", "10"))
    # How long after the summit personal data is kept before `privacy anonymise` may remove it.
    PRIVACY_RETENTION_DAYS = int(os.environ.get("PRIVACY_RETENTION_DAYS", "90"))
    # The organisers' dashboard's figures are kept this long for every worker, unless a write changes what they
    # are worked out from first (app/dashboards/overview_cache.py); 0 works them out on every view.
    DASHBOARD_CACHE_SECONDS = int(os.environ.get("DASHBOARD_CACHE_SECONDS", "5"))
    SQL_ECHO = False
    # IMMEDIATE takes SQLite's write lock at BEGIN; the race tests' control sets DEFERRED to show why.
    SQLITE_BEGIN = "IMMEDIATE"
    # Werkzeug's own default, slow on purpose (about half a second a hash here). Not read from the environment,
    # and production refuses anything weaker (see production_problems).
    PASSWORD_HASH_METHOD = "scrypt"
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
    # One PBKDF2 round: tests create and sign in hundreds of users, and scrypt would cost them minutes.
    # Checking a password reads the method from the stored hash, so either kind verifies anywhere.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"


class ProductionConfig(Config):
    PRODUCTION = True
    # No development key to fall back on: unset is "not set" (and refused), never the public key.
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def check(cls, config: Mapping | None = None) -> None:
        """Refuse to start on settings that are unsafe in production, naming each one and what to set."""
        if config is None:
            config = {name: getattr(cls, name) for name in dir(cls) if name.isupper()}
        problems = production_problems(config)
        if not problems:
            return
        if config.get("APP_ENV"):
            opening = "The app won't start in production until these settings are fixed:"
        else:
            opening = (
                "APP_ENV is not set, so the app starts as in production, and it won't until these settings are "
                "fixed (to run it on your own machine for development, set APP_ENV=development, as make run does):"
            )
        raise RuntimeError(opening + "\n- " + "\n- ".join(problems))


MAKE_A_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
MIN_SECRET_KEY_LENGTH = 32
# Words that mark a key someone typed or copied from an example rather than generated.
_PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "secret",
    "password",
    "passw0rd",
    "example",
    "placeholder",
    "replace",
    "insecure",
    "not-for-production",
    "dev-only",
)
# A random key has far more: 32 hex characters have at least 8 different ones and about 90 bits or more by
# the estimate below; `aaaa…` has 1 and 0 bits.
_MIN_DISTINCT_CHARACTERS = 8
_MIN_ESTIMATED_BITS = 80
_NON_DELIVERING_MAIL_BACKENDS = ("console", "file", "memory")
# Werkzeug's default scrypt cost (n=2^15, r=8, p=1): production hashes passwords at least this hard.
_MIN_SCRYPT_COST = (2**15, 8, 1)


def _estimated_bits(key: str) -> float:
    """Shannon entropy of the key's own character frequencies, times its length: a rough upper bound."""
    counts = Counter(key)
    return -sum(n * math.log2(n / len(key)) for n in counts.values())


def _repeats_a_pattern(key: str) -> bool:
    """Whether the key is a shorter piece said at least twice (`abcabcab`), by the prefix function (linear time)."""
    border = [0] * len(key)
    for i in range(1, len(key)):
        k = border[i - 1]
        while k and key[i] != key[k]:
            k = border[k - 1]
        border[i] = k + 1 if key[i] == key[k] else k
    return bool(key) and len(key) - border[-1] <= len(key) // 2


def secret_key_problem(key: str | None, name: str = "SECRET_KEY") -> str | None:
    """Why this key is unsafe to sign personal links and sessions with, or None when it looks random."""
    advice = f"generate one with: {MAKE_A_KEY}"
    if not key:
        return f"{name} is not set; {advice}"
    if key in (_DEV_SECRET, TestingConfig.SECRET_KEY):
        return f"{name} is the development key, which is public; {advice}"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"{name} is only {len(key)} characters long (at least {MIN_SECRET_KEY_LENGTH} are needed); {advice}"
    lowered = key.lower()
    word = next((w for w in _PLACEHOLDER_WORDS if w in lowered), None)
    if word:
        return f"{name} contains the placeholder word {word!r}, so it was typed, not generated; {advice}"
    if _repeats_a_pattern(key):
        return f"{name} is a short pattern repeated, which is easy to guess; {advice}"
    steps = sum(abs(ord(b) - ord(a)) == 1 for a, b in zip(key, key[1:]))
    if steps > len(key) // 2:
        return f"{name} is mostly runs of consecutive characters (like abcd or 1234), which are easy to guess; {advice}"
    distinct = len(set(key))
    if distinct < _MIN_DISTINCT_CHARACTERS or _estimated_bits(key) < _MIN_ESTIMATED_BITS:
        return (
            f"{name} has too little variety to be random ({distinct} different characters, about "
            f"{_estimated_bits(key):.0f} bits); {advice}"
        )
    return None


def password_hash_problem(method: str | None) -> str | None:
    """Why this Werkzeug hash method is too cheap for staff passwords, or None when it is scrypt at full cost."""
    name, *parameters = (method or "").split(":")
    try:
        cost = tuple(int(p) for p in parameters) or _MIN_SCRYPT_COST
    except ValueError:
        cost = ()
    if name == "scrypt" and len(cost) == 3 and all(have >= need for have, need in zip(cost, _MIN_SCRYPT_COST)):
        return None
    return (
        f"PASSWORD_HASH_METHOD is {method!r}, cheaper than Werkzeug's default scrypt (n=32768, r=8, p=1), so "
        "a copy of the database would give up staff passwords quickly. Production hashes with 'scrypt': "
        "leave PASSWORD_HASH_METHOD as Config sets it."
    )


def production_problems(config: Mapping) -> list[str]:
    """Every production setting that is unsafe, as sentences that say what to set instead."""
    problems = [secret_key_problem(config.get("SECRET_KEY")), password_hash_problem(config.get("PASSWORD_HASH_METHOD"))]
    for number, key in enumerate(config.get("SECRET_KEY_FALLBACKS") or (), start=1):
        problems.append(secret_key_problem(key, name=f"SECRET_KEY_FALLBACKS entry {number}"))
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if (
        config.get("RATELIMIT_ENABLED")
        and storage.startswith("memory://")
        and not config.get("RATELIMIT_SINGLE_PROCESS")
    ):
        problems.append(
            "RATELIMIT_STORAGE_URI is memory://, which counts in each worker process on its own, so with 4 workers "
            "a limit of 10 sign-in attempts lets through 40. Set RATELIMIT_STORAGE_URI=redis://HOST:6379/0, a Redis "
            "shared by every worker and app server; or, if exactly one worker process serves the app "
            "(gunicorn --workers 1, with --threads as you like), set RATELIMIT_SINGLE_PROCESS=1."
        )
    if not config.get("RATELIMIT_ENABLED") and not config.get("ALLOW_NO_RATE_LIMITS"):
        problems.append(
            "RATELIMIT_ENABLED is 0, which switches off every rate limit, so anyone could guess at passwords, "
            "personal links and scanner tokens as fast as the server answers. Remove RATELIMIT_ENABLED (or set it "
            "to 1); or, if something in front of the app limits every request instead, set ALLOW_NO_RATE_LIMITS=1."
        )
    base_url = config.get("BASE_URL") or ""
    if urlsplit(base_url).scheme != "https" and not config.get("ALLOW_HTTP_BASE_URL"):
        problems.append(
            f"BASE_URL is {base_url!r}, not an https:// address, so every emailed personal link and sign-in link "
            "would travel unencrypted, and the browser would not send the secure session cookie back over it. Set "
            "BASE_URL to the https:// address people open (BASE_URL=https://newhorizons.example.org); or, if "
            "people really reach this server over plain http (a rehearsal on a closed network), set "
            "ALLOW_HTTP_BASE_URL=1."
        )
    backend = config.get("MAIL_BACKEND")
    if backend in _NON_DELIVERING_MAIL_BACKENDS and not config.get("MAIL_ALLOW_NON_DELIVERY"):
        problems.append(
            f"MAIL_BACKEND is {backend!r}, which delivers no email, so no delegate would get an invitation. "
            "Set MAIL_BACKEND=sendgrid and SENDGRID_API_KEY (or MAIL_BACKEND=notify, NOTIFY_API_KEY and "
            "NOTIFY_EMAIL_TEMPLATE_ID for GOV.UK Notify); or, if this server should really send nothing "
            "(a rehearsal, say), set MAIL_ALLOW_NON_DELIVERY=1."
        )
    elif backend == "sendgrid" and not config.get("SENDGRID_API_KEY"):
        problems.append(
            "MAIL_BACKEND is sendgrid but SENDGRID_API_KEY is not set: set it to an API key with "
            "Mail Send permission from SendGrid's settings."
        )
    elif backend == "notify":
        problems.extend(notify_problems(config))
        notify_url = config.get("NOTIFY_BASE_URL") or ""
        if urlsplit(notify_url).scheme != "https":
            problems.append(
                f"NOTIFY_BASE_URL is {notify_url!r}, not an https:// address, so every email, personal links and all, "
                f"would travel to Notify unencrypted: remove it (Notify's own address, {NOTIFY_PRODUCTION_URL}, is "
                "the default)."
            )
    problems.extend(oidc_problems(config))
    for name in ("GOOGLE_WALLET_API_URL", "GOOGLE_WALLET_TOKEN_URL"):
        url = config.get(name) or ""
        if config.get("GOOGLE_WALLET_ISSUER_ID") and urlsplit(url).scheme != "https":
            problems.append(
                f"{name} is {url!r}, not an https:// address, so the service account's token would travel to "
                "Google unencrypted: remove it (Google's own address is the default)."
            )
    return [problem for problem in problems if problem]


_TENANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def oidc_problems(config: Mapping) -> list[str]:
    """Why signing in with a council account is half set up (some of OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and
    OIDC_ALLOWED_TENANTS set, not all), or set up unsafely, as sentences; none when it is off or whole."""
    client_id = (config.get("OIDC_CLIENT_ID") or "").strip()
    secret = (config.get("OIDC_CLIENT_SECRET") or "").strip()
    tenants = list(config.get("OIDC_ALLOWED_TENANTS") or ())
    if not (client_id or secret or tenants):
        return []
    problems = []
    where = "from the app's registration in Microsoft Entra ID (see the README's “Signing in with a council account”)"
    if not client_id:
        problems.append(
            f"OIDC_CLIENT_SECRET or OIDC_ALLOWED_TENANTS is set but OIDC_CLIENT_ID is not: set it to the "
            f"Application (client) ID {where}, or remove the other OIDC_ settings to turn council sign-in off."
        )
    if not secret:
        problems.append(
            f"OIDC_CLIENT_ID or OIDC_ALLOWED_TENANTS is set but OIDC_CLIENT_SECRET is not: set it to a client "
            f"secret's value {where}, or remove the other OIDC_ settings to turn council sign-in off."
        )
    if not tenants:
        problems.append(
            "OIDC_CLIENT_ID is set but OIDC_ALLOWED_TENANTS is not, so no council's accounts could sign in: set it to "
            "the tenant ids of the councils whose staff may sign in, separated by commas (each council's "
            "'Tenant ID' on the Overview page of its Microsoft Entra admin centre)."
        )
    for tenant in tenants:
        if not _TENANT_ID.fullmatch(tenant):
            problems.append(
                f"OIDC_ALLOWED_TENANTS has {tenant!r}, which is not a tenant id: use the council's 'Tenant ID' (36 "
                "characters, like 72f988bf-86f1-41af-91ab-2d7cd011db47), not its domain name."
            )
    metadata_url = config.get("OIDC_METADATA_URL") or ""
    if urlsplit(metadata_url).scheme != "https":
        problems.append(
            f"OIDC_METADATA_URL is {metadata_url!r}, not an https:// address, so the keys that sign council sign-ins "
            f"could be swapped on the way: remove it (Entra's own, {ENTRA_METADATA_URL}, is the default)."
        )
    return problems


_NOTIFY_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def notify_problems(config: Mapping) -> list[str]:
    """Why GOV.UK Notify can't send with these settings (MAIL_BACKEND=notify), as sentences: refused at start in
    production, and by the mail worker anywhere."""
    problems = []
    key = (config.get("NOTIFY_API_KEY") or "").strip()
    if not key:
        problems.append(
            "MAIL_BACKEND is notify but NOTIFY_API_KEY is not set: create a live API key on Notify's API integration "
            "page (API keys, Create an API key, type 'Live') and set NOTIFY_API_KEY to it, name and all."
        )
    elif len(key) < 74 or not (_NOTIFY_ID.fullmatch(key[-73:-37]) and _NOTIFY_ID.fullmatch(key[-36:])):
        problems.append(
            "NOTIFY_API_KEY doesn't look like a GOV.UK Notify API key, which ends with the service id and the secret "
            "key (two ids of 36 characters, joined by a hyphen): copy the whole key as Notify showed it when it was made."
        )
    template = (config.get("NOTIFY_EMAIL_TEMPLATE_ID") or "").strip()
    if not template:
        problems.append(
            "MAIL_BACKEND is notify but NOTIFY_EMAIL_TEMPLATE_ID is not set: make one email template in Notify with "
            "the subject ((subject)) and the message ((body)), and set NOTIFY_EMAIL_TEMPLATE_ID to its id (shown "
            "under the template as 'Template ID')."
        )
    elif not _NOTIFY_ID.fullmatch(template):
        problems.append(
            f"NOTIFY_EMAIL_TEMPLATE_ID is {template!r}, which is not a template id: copy the 'Template ID' shown under "
            "the template in Notify (36 characters, like f33517ff-2a88-4f6e-b855-c550268ce08a)."
        )
    return problems


def texts_problems(config: Mapping) -> list[str]:
    """Why organisers can't send texts with these settings, as sentences (none: they can). Texts go only through
    GOV.UK Notify, with its one text message template."""
    if config.get("MAIL_BACKEND") != "notify":
        return [
            "Texts need GOV.UK Notify: set MAIL_BACKEND=notify (with NOTIFY_API_KEY and NOTIFY_EMAIL_TEMPLATE_ID) and "
            "NOTIFY_SMS_TEMPLATE_ID, the id of a text message template whose message is ((body))."
        ]
    template = (config.get("NOTIFY_SMS_TEMPLATE_ID") or "").strip()
    if not template:
        return [
            "Texts need NOTIFY_SMS_TEMPLATE_ID: make one text message template in Notify with the message ((body)), "
            "and set NOTIFY_SMS_TEMPLATE_ID to its id (shown under the template as 'Template ID')."
        ]
    if not _NOTIFY_ID.fullmatch(template):
        return [
            f"NOTIFY_SMS_TEMPLATE_ID is {template!r}, which is not a template id: copy the 'Template ID' shown under "
            "the text message template in Notify (36 characters)."
        ]
    return notify_problems(config)


CONFIGS = {"development": DevelopmentConfig, "testing": TestingConfig, "production": ProductionConfig}


def settings_of(config_class: type[Config]) -> dict:
    """A config class's settings (its upper-case names) as a dict, to change some before create_app is given them."""
    return {name: getattr(config_class, name) for name in dir(config_class) if name.isupper()}


def config_from_env() -> type[Config]:
    """The configuration APP_ENV names. Unset means production, with every production check: only an explicit
    APP_ENV=development runs with the public development key, so a forgotten variable can't open the app."""
    name = os.environ.get("APP_ENV", "").strip() or "production"
    if name == "testing":
        raise RuntimeError(
            "APP_ENV is 'testing', the test suite's own configuration (CSRF off, a public key, a database in "
            "memory), which is not for running the app: set APP_ENV=production, or APP_ENV=development on your "
            "own machine."
        )
    if name not in CONFIGS:
        raise RuntimeError(f"APP_ENV is {name!r}; set it to production, or to development on your own machine.")
    return CONFIGS[name]
