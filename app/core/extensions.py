"""Flask extensions, created unbound and bound in create_app()."""

import hashlib
import time

from flask import current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from app.core.email_addresses import InvalidAddress, normalise_address

csrf = CSRFProtect()
login_manager = LoginManager()
import app.core.limiter_storage  # noqa: E402, F401  (memory:// without a thread per request)

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


def typed_address() -> str:
    """The key for a limit per address: the address a form was sent with, as it is looked up, hashed (the
    limiter logs its keys, and an address is personal data)."""
    raw = (request.form.get("email") or "").strip()
    try:
        address = normalise_address(raw)
    except InvalidAddress:
        address = raw.lower()
    return "address:" + hashlib.sha256(address.encode()).hexdigest()[:24]


def email_link_limits(scope: str):
    """Per address typed and per client, on POST only: the same for an address with an account or without."""
    message = (
        "We've had several requests for that address or from this device in the last few minutes, so we've "
        "paused sending. Please check your inbox (and junk folder) for the link we sent, or try again in 15 minutes."
    )

    def decorate(view):
        view = limiter.limit(
            lambda: current_app.config["EMAIL_LINK_RATE_LIMIT"],
            key_func=typed_address,
            methods=["POST"],
            scope=f"{scope}-address",
            error_message=message,
        )(view)
        return limiter.limit(
            lambda: current_app.config["EMAIL_LINK_CLIENT_RATE_LIMIT"],
            methods=["POST"],
            scope=f"{scope}-client",
            error_message=message,
        )(view)

    return decorate


__all__ = [
    "csrf",
    "email_link_limits",
    "failed_lookup",
    "limiter",
    "login_manager",
    "personal_link_limit",
    "request",
    "retry_after_seconds",
]
