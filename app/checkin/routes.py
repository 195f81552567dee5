"""The scanner page and its session-authenticated twins of the API, the QR decoder's files, and the organisers' overview.

Why twins: the page runs in a steward's signed-in browser, so it authenticates with the session cookie and a
CSRF token in a header (X-CSRFToken), instead of minting a long-lived bearer token on every page load that
would then sit in the browser. The twins call exactly the handlers the bearer API uses.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.badges import routes as badge_routes
from app.badges import rules as badge_rules
from app.badges.door_list import door_list_pdf
from app.checkin import api, door, offline, paper, scans
from app.checkin import overview as checkin_overview
from app.core.auth.decorators import mark, organiser_required, roles_required
from app.core.auth.models import Role
from app.core.csv_export import to_csv
from app.core.db import db
from app.core.downloads import download
from app.core.timefmt import clock, local

bp = Blueprint("checkin", __name__)
# The page's JSON twins of the API live apart, so their errors (CSRF, 429, …) can be answered in JSON.
door_bp = Blueprint("checkin_door", __name__, url_prefix="/checkin")

# The camera's decoder where the browser has no BarcodeDetector: npm's barcode-detector ponyfill and the
# ZXing-C++ WebAssembly it runs (zxing-wasm, the version barcode-detector pins), as `npm ci` installed them.
# The scanner page alone may compile WebAssembly (the decoder); every other page keeps the app's policy.
SCANNER_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; "
    "style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


def session_roles(*roles: Role, refused: str = "This account can't check people in."):
    """As roles_required, but answers JSON (401/403) instead of redirecting: these are called by the page's script."""

    def decorator(view):
        view.allowed_roles = frozenset(roles)

        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return api.json_error(401, "You're signed out. Sign in again to keep checking people in.")
            if current_user.role not in roles:
                return api.json_error(403, refused)
            return view(*args, **kwargs)

        return wrapped

    return decorator


@door_bp.errorhandler(CSRFError)
def _csrf_error(error):
    db.session.rollback()
    # "reload": the page keeps the scan in its queue (a page saved for offline use may hold an old token).
    response = jsonify(
        {"error": "This page has expired. Reload it to carry on (saved scans are kept).", "reload": True}
    )
    response.status_code = 400
    return response


door_bp.register_error_handler(HTTPException, api.http_error_json)
door_bp.register_error_handler(Exception, api.unexpected_error_json)


# --- the scanner page ----------------------------------------------------------------------------


@bp.get("/checkin")
@roles_required(*api.DOOR_ROLES)
def scanner():
    events = door.door_events()
    wanted = request.args.get("event")
    # The event asked for, else the one on now or next today; with nothing today, the steward chooses.
    current = wanted if any(e.name == wanted for e in events) else door.today_event(events)
    page = render_template(
        "checkin/scanner.html",
        events=events,
        current=current,
        ponyfill_url=url_for(".decoder_file", filename="barcode-detector/ponyfill.js"),
        wasm_url=url_for(".decoder_file", filename="zxing-wasm/zxing_reader.wasm"),
    )
    return Response(page, headers={"Content-Security-Policy": SCANNER_CSP})


@bp.get("/checkin-sw.js")
def service_worker():
    """The scanner's offline copy. Served from the root so that its scope can be /checkin, the page itself."""
    return Response(offline.worker_script(), mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


@door_bp.post("/scan")
@api.door_limit()
@session_roles(*api.DOOR_ROLES)
def scan():
    return api.handle_scan(current_user)


@door_bp.post("/undo")
@api.door_limit()
@session_roles(*api.DOOR_ROLES)
def undo():
    return api.handle_undo(current_user)


@door_bp.get("/search")
@api.door_limit()
@session_roles(*api.DOOR_ROLES)
def search():
    return api.handle_search(current_user)


@door_bp.get("/expected")
@api.door_limit()
@session_roles(*api.DOOR_ROLES)
def expected():
    """The event's expected list for the name search offline: names and organisations only, no codes."""
    event, error = api.event_or_error()
    if error:
        return error
    people = door.expected_people(event)
    return {"event": request.args["event"], "people": people}


@door_bp.post("/reprint")
@api.door_limit()
@session_roles(Role.ORGANISER, refused="Only organisers can print a badge again.")
def reprint():
    """One badge again, from the scanner's person card: body {"code": …} or {"ref": "p12"} (the expected list's
    reference); answers the badge's PDF and records the reprint on the invitation's page."""
    payload = request.get_json(force=True, silent=True)
    payload = payload if isinstance(payload, dict) else {}
    code, ref = payload.get("code"), payload.get("ref")
    if code is None and ref is not None:
        code = door.code_for_ref(ref)
    if not isinstance(code, str) or not code.strip():
        return api.json_error(400, "Send the badge's code, or the person's reference from the expected list.")
    invitation = scans.find_by_code(code.strip())
    if invitation is None or not badge_rules.has_badge(invitation):
        return api.json_error(404, "That isn't a live badge, so there is nothing to print. Find them by name instead.")
    return badge_routes.reprinted(invitation, via="scanner")


@door_bp.after_request
def _not_kept(response):
    # Names, needs and codes: never kept by the browser's or anyone's HTTP cache.
    response.headers["Cache-Control"] = "no-store"
    return response


@door_bp.get("/counts")
@api.door_limit()
@session_roles(*api.DOOR_ROLES)
def counts():
    return api.handle_counts(current_user)


@bp.get("/checkin/vendor/<path:filename>")
def decoder_file(filename: str):
    """The decoder's files, as `npm ci` installed them (package-lock.json pins them): served from node_modules,
    never copied into the repository, and the .wasm from this site rather than the package's default CDN."""
    if filename not in offline.DECODER_FILES:
        abort(404)
    path, mimetype = offline.DECODER_FILES[filename]
    folder = Path(current_app.root_path).parent / "node_modules"
    if not (folder / path).is_file():
        abort(404)
    return send_from_directory(folder, path, mimetype=mimetype, max_age=3600)


# --- the organisers' overview ------------------------------------------------------------------


def _overview_event():
    events = door.door_events()
    name = request.args.get("event") or door.default_event(events)
    event = scans.usable_event(name)
    if event is None:
        abort(404)
    return events, name, event


def arrival_buckets(times: list[datetime], minutes: int = 15) -> list[dict]:
    """Arrivals per quarter hour (London time), every bucket between the first and last shown, even empty ones."""
    if not times:
        return []

    def floor(value: datetime) -> datetime:
        value = local(value)
        return value.replace(minute=value.minute - value.minute % minutes, second=0, microsecond=0)

    counts: dict[datetime, int] = {}
    for t in times:
        counts[floor(t)] = counts.get(floor(t), 0) + 1
    start, end = min(counts), max(counts)
    buckets, total, at = [], 0, start
    while at <= end:
        n = counts.get(at, 0)
        total += n
        buckets.append(
            {
                "start": at,
                "label": f"{clock(at)}–{clock(at + timedelta(minutes=minutes))}",
                "arrived": n,
                "total": total,
            }
        )
        at += timedelta(minutes=minutes)
    return buckets


@bp.get("/organiser/checkin")
@organiser_required
def overview():
    events, name, event = _overview_event()
    figures = door.counts(event)
    buckets = arrival_buckets(checkin_overview.arrivals(event))
    statuses = checkin_overview.status_counts(event.key)
    refused = sum(n for status, n in statuses.items() if status not in scans.ADMITTED and status != scans.UNDONE)
    return render_template(
        "checkin/overview.html",
        events=events,
        current=name,
        event=event,
        figures=figures,
        buckets=buckets,
        peak=max((b["arrived"] for b in buckets), default=0),
        statuses=statuses,
        refused=refused,
        missing=checkin_overview.not_arrived(event),
        log=checkin_overview.scan_log_rows(event.key, limit=200),
        needs_of=scans.needs_of,
    )


@bp.get("/organiser/checkin/scan-log.csv")
@organiser_required
def scan_log_csv():
    name = request.args.get("event") or None
    event_key = None
    if name:
        event = scans.usable_event(name)
        event_key = event.key if event else name
    rows = checkin_overview.scan_log_rows(event_key)
    body = to_csv(
        ["time (UK)", "event", "status", "method", "code scanned", "name", "organisation", "steward"],
        (
            [
                local(r.at).strftime("%Y-%m-%d %H:%M:%S"),
                r.event_key,
                r.status,
                r.method,
                r.code,
                r.person,
                r.organisation,
                r.steward,
            ]
            for r in rows
        ),
    )
    return download(body, "text/csv", f"scan-log-{name or 'all'}.csv")


@bp.get("/organiser/door-list/<event>.pdf")
@organiser_required
def door_list(event: str):
    """The event's door list on A4, by surname: the summit ("summit") or a fringe event (its slug)."""
    ref = scans.usable_event(event)
    if ref is None:
        abort(404)
    body = door_list_pdf(paper.door_list_for(ref))
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="door-list-{event}.pdf"', "Cache-Control": "no-store"},
    )


@bp.get("/organiser/checkin/not-arrived.csv")
@organiser_required
def not_arrived_csv():
    _, name, event = _overview_event()
    body = to_csv(
        ["name", "organisation", "email", "dietary", "access"],
        (
            [
                i.name,
                i.organisation,
                i.email,
                *(
                    next((n["text"] for n in scans.needs_of(i) if n["kind"] == kind), "")
                    for kind in ("dietary", "access")
                ),
            ]
            for i in checkin_overview.not_arrived(event)
        ),
    )
    return download(body, "text/csv", f"not-arrived-{name}.csv")


mark(decoder_file, allowed_roles=None)  # public: a library's files
mark(service_worker, allowed_roles=None)  # public, like the static files it lists
