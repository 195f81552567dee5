"""The check-in API for scanners: POST /api/v1/checkin and its companions, with bearer tokens (no cookies, no CSRF).

The scanner page uses the same handlers through session-authenticated twins in routes.py.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_limiter.util import get_remote_address
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from app.checkin import door, hot_path, overview, scans
from app.checkin.scans import MalformedScan, NonceTaken
from app.core.auth import credentials
from app.core.auth.credentials import ApiCaller, api_token_works, caller_for_api_token
from app.core.auth.models import Role, User
from app.core.db import db
from app.core.errors import Conflict
from app.core.extensions import counts_its_own_limits, csrf, hit_limit, limiter, retry_after_seconds
from app.core.security import hash_api_token
from fringe_events.models import SUMMIT_EVENT_KEY

bp = Blueprint("checkin_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

DOOR_ROLES = (Role.STEWARD, Role.ORGANISER)


def json_error(status: int, message: str, **headers):
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def http_error_json(error: HTTPException):
    # Scanners read JSON: never the HTML error page.
    db.session.rollback()
    messages = {
        429: "Too many requests from this scanner. Wait a moment and send it again.",
        404: "No such API endpoint.",
        405: "That method isn't allowed here.",
    }
    headers = {"Retry-After": str(retry_after_seconds())} if error.code == 429 else {}
    return json_error(error.code or 500, messages.get(error.code or 500, error.description or error.name), **headers)


def unexpected_error_json(error: Exception):
    if isinstance(error, HTTPException):
        return http_error_json(error)
    current_app.logger.exception("Unhandled error in the check-in API")
    db.session.rollback()
    return json_error(500, "Something went wrong on our side. Send the scan again; it is safe to repeat.")


def conflict_json(error: Exception):
    # Lost a race (the same person changed a moment ago, or a constraint refused a second copy): a sentence, 409.
    db.session.rollback()
    message = getattr(error, "message", None) or "That was done a moment ago elsewhere, so nothing was saved twice."
    return json_error(409, message)


bp.register_error_handler(HTTPException, http_error_json)
bp.register_error_handler(Conflict, conflict_json)
bp.register_error_handler(IntegrityError, conflict_json)
bp.register_error_handler(Exception, unexpected_error_json)


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def client_key() -> str:
    """Rate limits count per scanner: the API token's hash, else the signed-in user, else the address."""
    token = bearer_token()
    if token:
        return "token:" + hash_api_token(token)
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return "addr:" + (get_remote_address() or "")


def door_limit():
    return limiter.shared_limit(lambda: current_app.config["CHECKIN_RATE_LIMIT"], scope="checkin", key_func=client_key)


def _working_token() -> bool:
    token = bearer_token()
    return token is not None and api_token_works(token)


# A bad token is a failed look-up of a secret: those count per address, like failed personal links. A working
# token is not a guess, so its requests skip this limit: however many guesses others behind the same address
# (a venue's wifi) have made, a real scanner is answered. A token this process checked a moment ago costs no
# look-up here; any other costs one indexed look-up of its hash, which the view then reuses.
bad_token_limit = limiter.shared_limit(
    lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"],
    scope="checkin-bad-token",
    key_func=get_remote_address,
    deduct_when=lambda response: response.status_code == 401,
    exempt_when=_working_token,
)


def bearer_roles(*roles: Role):
    """The API's own sign-in: `Authorization: Bearer <token>`. 401 without a working token, 403 for the wrong role."""

    def decorator(view):
        view.allowed_roles = frozenset(roles)

        @wraps(view)
        def wrapped(*args, **kwargs):
            token = bearer_token()
            challenge = {"WWW-Authenticate": 'Bearer realm="check-in"'}
            if not token:
                return json_error(401, "Send an API token: 'Authorization: Bearer <token>'.", **challenge)
            user = caller_for_api_token(token)
            if user is None:
                db.session.rollback()
                return json_error(401, "That API token doesn't work. Ask an organiser for a new one.", **challenge)
            if user.role not in roles:
                db.session.rollback()
                return json_error(403, "This account can't use this part of the check-in API.")
            g.door_user = user
            return view(*args, **kwargs)

        return wrapped

    return decorator


# --- the handlers, shared with the scanner page's session twins ---------------------------------


def scan_payload():
    """The request's body, with the code of the person a reference (`ref`) names when it has a reference instead
    of a code: someone found by the name search or on the expected list, neither of which hands out codes."""
    payload = request.get_json(force=True, silent=True)
    if isinstance(payload, dict) and "code" not in payload and "ref" in payload:
        payload = {**payload, "code": door.code_for_ref(payload["ref"]), "method": "manual"}
    return payload


def handle_scan(user: User | ApiCaller):
    try:
        scan = scans.parse_scan(scan_payload())
    except MalformedScan as error:
        return json_error(400, str(error))
    try:
        answer = scans.check_in(user, scan)
        db.session.commit()
    except NonceTaken:
        # This nonce was answered before (a retry, perhaps racing its original): answer as the first time.
        db.session.rollback()
        replayed = scans.replay(user, scan.nonce)
        if replayed is None:
            raise
        answer = replayed
    return jsonify(answer)


def handle_undo(user: User | ApiCaller):
    try:
        scan = scans.parse_scan(scan_payload())
    except MalformedScan as error:
        return json_error(400, str(error))
    answer = scans.undo(user, scan)
    db.session.commit()
    return jsonify(answer)


def event_or_error():
    name = (request.args.get("event") or "").strip()
    if not name:
        return None, json_error(400, "Say which event: ?event=summit or a fringe event's slug.")
    event = scans.usable_event(name)
    if event is None:
        return None, json_error(404, f"There is no event '{name[:80]}' to check people in to.")
    return event, None


def handle_search(user: User | ApiCaller):
    event, error = event_or_error()
    if error:
        return error
    try:
        results = door.search(event, request.args.get("q", ""))
    except MalformedScan as message:
        return json_error(400, str(message))
    db.commit_if_written()  # a GET: commits only a token's last use
    return jsonify({"event": request.args["event"], "results": results})


def handle_counts(user: User | ApiCaller):
    event, error = event_or_error()
    if error:
        return error
    result = door.counts(event)
    db.commit_if_written()  # a GET: commits only a token's last use
    return jsonify(result)


# --- the bearer-token routes ---------------------------------------------------------------------


@bp.post("/checkin")
@counts_its_own_limits  # one call to the limiter's store a scan, and none of the limiter's own work
def checkin():
    token = bearer_token()
    counted = False
    token_hash = hash_api_token(token) if token else ""
    if token and credentials.seen_working(token, token_hash):
        # A token this process saw work a moment ago: its door limit is counted before any transaction begins (on
        # SQLite the look-up takes the write lock, which nothing else should hold it for).
        if not hit_limit("CHECKIN_RATE_LIMIT", "checkin", "token:" + token_hash):
            return too_many()
        counted = True
        scan = summit_scan()
        if scan is not None:
            answer = hot_path.check_in(token_hash, scan, DOOR_ROLES)
            if answer is not None:
                return jsonify(answer)
    user = door_caller(counted=counted)
    if not isinstance(user, ApiCaller):
        return user  # the refusal
    return handle_scan(user)


def summit_scan() -> scans.Scan | None:
    """The body as a scan of a badge at the summit, for the hot path; None for anything else (a fringe event, a
    reference, a body the API refuses), which the general path answers."""
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict) or payload.get("event") != SUMMIT_EVENT_KEY or "code" not in payload:
        return None
    try:
        return scans.parse_scan(payload)
    except MalformedScan:
        return None


def door_caller(counted: bool = False):
    """The check-in's sign-in and limits, as the decorators on the other routes do them, at a scan's cost: the
    token asked of the database (every request, so a revoked one is refused on its next), then one call to the
    limiter's store (none if `counted`: the caller counted it). A working token counts against its scanner's door
    limit (CHECKIN_RATE_LIMIT, shared with the other routes); a missing or wrong one against the address's failed
    look-ups (LINK_LOOKUP_RATE_LIMIT), so a real scanner is never refused for others' guesses. Returns the caller,
    or the response that refuses."""
    token = bearer_token()
    user = caller_for_api_token(token) if token else None
    if user is None:
        db.session.rollback()
        if not hit_limit("LINK_LOOKUP_RATE_LIMIT", "checkin-bad-token", get_remote_address() or ""):
            return too_many()
        challenge = {"WWW-Authenticate": 'Bearer realm="check-in"'}
        if not token:
            return json_error(401, "Send an API token: 'Authorization: Bearer <token>'.", **challenge)
        return json_error(401, "That API token doesn't work. Ask an organiser for a new one.", **challenge)
    assert token is not None  # a caller was found for it
    if not counted and not hit_limit("CHECKIN_RATE_LIMIT", "checkin", "token:" + hash_api_token(token)):
        db.session.rollback()
        return too_many()
    if user.role not in DOOR_ROLES:
        db.session.rollback()
        return json_error(403, "This account can't use this part of the check-in API.")
    return user


def too_many():
    return json_error(
        429,
        "Too many requests from this scanner. Wait a moment and send it again.",
        **{"Retry-After": str(retry_after_seconds())},
    )


checkin.allowed_roles = frozenset(DOOR_ROLES)


@bp.post("/checkin/undo")
@bad_token_limit
@door_limit()
@bearer_roles(*DOOR_ROLES)
def undo():
    return handle_undo(g.door_user)


@bp.get("/checkin/search")
@bad_token_limit
@door_limit()
@bearer_roles(*DOOR_ROLES)
def search():
    return handle_search(g.door_user)


@bp.get("/checkin/counts")
@bad_token_limit
@door_limit()
@bearer_roles(*DOOR_ROLES)
def counts():
    return handle_counts(g.door_user)


@bp.get("/checkin/events")
@bad_token_limit
@door_limit()
@bearer_roles(*DOOR_ROLES)
def events():
    result = [
        {"event": e.name, "title": e.title, "starts_at": e.starts_at.isoformat() if e.starts_at else None}
        for e in door.door_events()
    ]
    db.commit_if_written()  # a GET: commits only a token's last use
    return jsonify({"events": result})


@bp.get("/checkin/scan-log")
@bad_token_limit
@door_limit()
@bearer_roles(Role.ORGANISER)
def scan_log():
    """Organisers only: the latest scans, refused ones included."""
    event = (request.args.get("event") or "").strip() or None
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), 1000)
    rows = overview.scan_log_rows(event, limit)
    db.commit_if_written()  # a GET: commits only a token's last use
    return jsonify(
        {
            "scans": [
                {
                    "at": row.at.isoformat(),
                    "event": row.event_key,
                    "status": row.status,
                    "method": row.method,
                    "code": row.code,
                    "person": row.person or None,
                    "organisation": row.organisation or None,
                    "steward": row.steward or None,
                }
                for row in rows
            ]
        }
    )
