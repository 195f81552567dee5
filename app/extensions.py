"""Flask extensions, created unbound and bound in create_app()."""

import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
import app.limiter_storage  # noqa: E402, F401  (memory:// without a thread per request)

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def retry_after_seconds() -> int:
    """For a 429's Retry-After: seconds until the limit this request broke lets it through again. Only a refusal
    asks (RATELIMIT_HEADERS_ENABLED is off, so an allowed request costs the store one hit and no second read)."""
    broken = limiter.current_limit
    return max(1, int(broken.reset_at - time.time())) if broken is not None else 60


def failed_lookup(response) -> bool:
    """Only a miss counts against the link look-up limit, so a delegate's own clicks never lock them out."""
    return response.status_code == 404


def personal_link_limit():
    """One budget of failed look-ups per address across every page under /i/<token> (delegate pages,
    fringe pages, badges), so that spreading guesses over several pages buys an attacker nothing."""
    return limiter.shared_limit(
        lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"], scope="personal-link", deduct_when=failed_lookup
    )


__all__ = ["csrf", "failed_lookup", "limiter", "login_manager", "personal_link_limit", "request", "retry_after_seconds"]
