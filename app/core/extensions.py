"""Flask extensions, created unbound and bound in create_app()."""

import hashlib
import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from limits import RateLimitItem, parse

from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.security import (
    password_reset_selector_from_token,
    selector_from_token,
    sign_in_selector_from_token,
    staff_invitation_selector_from_token,
    text_stop_selector_from_token,
)

csrf = CSRFProtect()
login_manager = LoginManager()
import app.core.limiter_storage  # noqa: E402, F401  (memory:// without a thread per request)

limiter = Limiter(key_func=get_remote_address, default_limits=[])


def counts_its_own_limits(view):
    """For a hot path that counts its limits itself (hit_limit): exempt, and spared the limiter's work before each
    request altogether (see spare_views_that_count_their_own_limits), not only found exempt once that work is done."""
    view = limiter.exempt(view)
    view.counts_its_own_limits = True
    return view


def spare_views_that_count_their_own_limits(app: Flask) -> None:
    """After limiter.init_app(app): the limiter's before-request check (which works out every limit that might apply,
    exemptions included, on each request) is skipped for views marked with counts_its_own_limits."""
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit not in hooks:
        if limiter.enabled:
            raise RuntimeError("Flask-Limiter's before-request check wasn't found: see counts_its_own_limits.")
        return  # the limiter is off (RATELIMIT_ENABLED), so it added no check
    position = hooks.index(limiter._check_request_limit)
    check = hooks[position]

    def check_request_limit() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if not getattr(view, "counts_its_own_limits", False):
            check()

    hooks[position] = check_request_limit


def retry_after_seconds() -> int:
    """For a 429's Retry-After: seconds until the limit this request broke lets it through again. Only a refusal
    asks (RATELIMIT_HEADERS_ENABLED is off, so an allowed request costs the store one hit and no second read)."""
    refused = g.get("_refused_by")
    if refused is not None:  # a limit checked by hit_limit
        reset_at = limiter.limiter.get_window_stats(*refused).reset_time
        return max(1, int(reset_at - time.time()))
    broken = limiter.current_limit
    return max(1, int(broken.reset_at - time.time())) if broken is not None else 60


_PARSED: dict[str, RateLimitItem] = {}


def hit_limit(setting: str, scope: str, key: str) -> bool:
    """Count one request against the limit in the setting `setting`, for `key` (an address, a token's hash) in
    `scope`: one call to the limiter's store, for a hot path that checks its own limit instead of through a
    decorator that works out its limits on every request. True when the request is within the limit. The store's
    keys are the decorators' own, so a route with this and a route with `shared_limit(…, scope=scope)` share one
    budget; when the store can't be reached the limiter's in-memory stand-in counts, as it does for the decorators."""
    if not limiter.enabled:
        return True
    text = current_app.config[setting]
    item = _PARSED.get(text)
    if item is None:
        item = _PARSED[text] = parse(text)
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    args = [prefix, key, scope] if prefix else [key, scope]
    try:
        allowed = limiter.limiter.hit(item, *args)
    except Exception:
        if not current_app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED") or limiter._storage_dead:
            raise
        current_app.logger.warning("Rate limit storage unreachable - falling back to in-memory storage")
        limiter._storage_dead = True  # as flask-limiter does; it looks for the store's return itself
        allowed = limiter.limiter.hit(item, *args)
    if not allowed:
        g._refused_by = (item, *args)
    return allowed


def failed_lookup(response) -> bool:
    """Only a miss counts against the link look-up limit, so a delegate's own clicks never lock them out."""
    return response.status_code == 404


def _token_in_path() -> str:
    return str((request.view_args or {}).get("token") or "")


def issued_personal_link() -> bool:
    """Whether the link in the path carries our MAC (a constant-time check, no database): a link we issued, not a
    guess. Such a request skips the failure budget, so nobody else's failures can ever refuse a real link."""
    return selector_from_token(_token_in_path()) is not None


def issued_sign_in_link() -> bool:
    """The same for a leader's emailed sign-in link."""
    return sign_in_selector_from_token(_token_in_path()) is not None


def issued_staff_link() -> bool:
    """The same for a staff invitation or a password-reset link."""
    token = _token_in_path()
    return (
        staff_invitation_selector_from_token(token) is not None or password_reset_selector_from_token(token) is not None
    )


def personal_link_limit():
    """One budget of failed look-ups per address across every page under /i/<token> (delegate pages,
    fringe pages, badges), so that spreading guesses over several pages buys an attacker nothing. Only a link
    we didn't issue is counted or refused: a real one (even a revoked or handed-on one) always gets its answer."""
    return limiter.shared_limit(
        lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"],
        scope="personal-link",
        deduct_when=failed_lookup,
        exempt_when=issued_personal_link,
    )


def issued_text_stop_link() -> bool:
    """The same for a text's stop link."""
    return text_stop_selector_from_token(_token_in_path()) is not None


def text_stop_link_limit():
    """A text's stop link shares the personal links' budget of failed look-ups: guessing stop links buys nothing."""
    return limiter.shared_limit(
        lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"],
        scope="personal-link",
        deduct_when=failed_lookup,
        exempt_when=issued_text_stop_link,
    )


def typed_address() -> str:
    """The key for a limit per address: the address a form was sent with, as it is looked up, hashed (the
    limiter logs its keys, and an address is personal data). Every form that asks for an email names it `email`."""
    raw = (request.form.get("email") or "").strip()
    try:
        address = normalise_address(raw)
    except InvalidAddress:
        address = raw.lower()
    return "address:" + hashlib.sha256(address.encode()).hexdigest()[:24]


def wrong_password(response) -> bool:
    return response.status_code == 401


def sign_in_limits(view):
    """Signing in with a password: every attempt counts against the client's address (SIGNIN_RATE_LIMIT), and,
    separately and more gently, each wrong password counts against the account typed (SIGNIN_ACCOUNT_RATE_LIMIT).
    So guesses from one address stop at that address, guesses at one account from many addresses stop at that
    account, and neither pauses anyone else's sign-in. An attempt the address limit refused costs the account
    nothing: only a password actually checked and found wrong is counted against it."""
    view = limiter.limit(
        lambda: current_app.config["SIGNIN_ACCOUNT_RATE_LIMIT"],
        key_func=typed_address,
        methods=["POST"],
        scope="account",
        deduct_when=wrong_password,
        error_message=(
            "There have been many wrong passwords for that account lately, so signing in to it is paused for a "
            "while. Please try again later; any other account can sign in as usual."
        ),
    )(view)
    return limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"], methods=["POST"])(view)


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
    "issued_personal_link",
    "issued_sign_in_link",
    "issued_staff_link",
    "limiter",
    "login_manager",
    "personal_link_limit",
    "request",
    "retry_after_seconds",
    "sign_in_limits",
]
