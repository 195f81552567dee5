"""The access policy: what each role gets on each route (anonymous visitors, a delegate's link, stewards, leaders,
organisers), and a value for each parameter a route names. tests/integration/test_route_roles.py tries every route
as every role against it; a route added to the app without an entry here fails there, so nobody can add a page
without deciding who may use it.
"""

from __future__ import annotations

from tests.support.busy_summit import BusySummit

ROLES = ("anonymous", "delegate", "steward", "leader", "organiser")
PUBLIC = {r: "allow" for r in ROLES}
ORGANISER = {"anonymous": "signin", "delegate": "signin", "steward": "deny", "leader": "deny", "organiser": "allow"}
LEADER = {"anonymous": "signin", "delegate": "signin", "steward": "deny", "leader": "allow", "organiser": "deny"}
LEADER_PAGE = {**LEADER, "organiser": "allow"}
DOOR = {"anonymous": "signin", "delegate": "signin", "steward": "allow", "leader": "deny", "organiser": "allow"}
# The scanner page's own JSON calls (session + CSRF): a 401 in JSON, not a redirect, when signed out.
DOOR_JSON = {**DOOR, "anonymous": "unauthorised", "delegate": "unauthorised"}
# Printing a badge again from the scanner's person card: organisers only (a badge admits its holder).
DOOR_JSON_ORGANISER = {**DOOR_JSON, "steward": "deny"}
STAFF = {"anonymous": "signin", "delegate": "signin", "steward": "allow", "leader": "allow", "organiser": "allow"}
# A personal link: only its token opens it (the others here hold no token and get the same 404 as a wrong one).
LINK = {
    "anonymous": "notfound",
    "delegate": "allow",
    "steward": "notfound",
    "leader": "notfound",
    "organiser": "notfound",
}
# The bearer-token API: no token is 401; a leader's token is 403.
API_DOOR = {
    "anonymous": "unauthorised",
    "delegate": "unauthorised",
    "steward": "allow",
    "leader": "deny",
    "organiser": "allow",
}
API_ORGANISER = {**API_DOOR, "steward": "deny"}
SIGNED = {r: "deny" for r in ROLES}  # SendGrid's webhook: only a valid signature gets in
BEARER = {r: "unauthorised" for r in ROLES}  # GOV.UK Notify's delivery receipts: only its bearer token gets in
# A leader's emailed sign-in link: only its own token opens it; any other is the same 404 for everyone.
SIGN_IN_LINK = {r: "notfound" for r in ROLES}
# Signing in with a council account: a 404 for everyone where the OIDC_ settings don't set it up, as here
# (tests/integration/test_council_sign_in.py tries it set up).
COUNCIL_SIGN_IN = {r: "notfound" for r in ROLES}

POLICY: dict[str, dict[str, str]] = {
    "static": PUBLIC,
    "main.index": PUBLIC,
    "main.privacy": PUBLIC,
    "main.accessibility": PUBLIC,
    "main.favicon": PUBLIC,
    "main.healthz": PUBLIC,
    "main.ping": PUBLIC,
    "auth.sign_in": PUBLIC,
    "auth.request_link": PUBLIC,
    "auth.link_sign_in": SIGN_IN_LINK,
    "auth.forgotten_password": PUBLIC,
    "auth.council_sign_in": COUNCIL_SIGN_IN,
    "auth.council_callback": COUNCIL_SIGN_IN,
    "auth.join": SIGN_IN_LINK,  # a staff invitation: only its own token opens it
    "auth.reset_password": SIGN_IN_LINK,  # a password-reset link: the same
    "recovery.lost_link": PUBLIC,
    "calendar.summit": PUBLIC,
    "calendar.fringe_event": PUBLIC,
    "calendar.feed": LINK,  # the person's calendar feed: only its own token opens it
    "badges.service_worker": PUBLIC,
    "checkin.decoder_file": PUBLIC,
    "checkin.service_worker": PUBLIC,
    "mail_webhook.sendgrid_events": SIGNED,
    "mail_notify.delivery_receipt": BEARER,
    # A text's stop link: only its own short token opens it (a personal link's token is no stop token).
    "texts.stop": SIGN_IN_LINK,
    **{f"texts.{name}": ORGANISER for name in ("index", "preview", "send")},
    "auth.sign_out": STAFF,
    **{f"account.{name}": STAFF for name in ("account", "change_password", "sign_out_everywhere")},
    "main.staff_home": STAFF,
    "dashboards.leader_home": LEADER_PAGE,
    **{f"dashboards.{name}": LEADER for name in ("nudge", "nudge_now", "note", "dont_chase", "chase_again")},
    **{
        f"dashboards.{name}": ORGANISER
        for name in ("leaders", "leader_view", "breakdown", "assign_champion", "champions", "export")
    },
    "checkin.scanner": DOOR,
    **{f"checkin_door.{name}": DOOR_JSON for name in ("scan", "undo", "search", "counts", "expected")},
    **{f"checkin.{name}": ORGANISER for name in ("overview", "not_arrived_csv", "scan_log_csv", "door_list")},
    "checkin_door.reprint": DOOR_JSON_ORGANISER,
    **{f"checkin_api.{name}": API_DOOR for name in ("checkin", "undo", "search", "counts", "events")},
    "checkin_api.scan_log": API_ORGANISER,
}
for prefix in (
    "organiser.",
    "sending.",
    "mail.",
    "audit.",
    "fringe_organiser.",
    "badge_admin.",
    "team.",
    "wording.",
    "questions.",
):
    POLICY[prefix] = ORGANISER
for prefix in ("invitations.", "badges.", "fringe."):
    POLICY[prefix] = LINK


def policy_for(endpoint: str) -> dict[str, str] | None:
    if endpoint in POLICY:
        return POLICY[endpoint]
    for key, value in POLICY.items():
        if key.endswith(".") and endpoint.startswith(key):
            return value
    return None


def all_endpoints() -> list[tuple[str, str, frozenset]]:
    from app.factory import create_app
    from config import settings_of
    from tests.support.apps import TestingConfig

    config = settings_of(TestingConfig)
    application = create_app(config)
    return sorted(
        (rule.endpoint, rule.rule, frozenset(rule.methods - {"HEAD", "OPTIONS"}))
        for rule in application.url_map.iter_rules()
    )


ENDPOINTS = all_endpoints()


def route_values(busy: BusySummit) -> dict[str, object]:
    """A value for each parameter a route names, from the busy summit: the link is a registered delegate's, and the
    invitee a leader's routes name is that leader's own."""
    return {
        "token": busy.tokens["ada"],
        "feed_token": busy.tokens["feed"],
        "invitation_id": busy.people["ivy"].id,
        "event_id": busy.events["upcoming"].id,
        "slug": busy.events["upcoming"].slug,
        "event": "summit",
        "message_id": busy.message_id,
        "leader_id": busy.staff["leader"].id,
        "user_id": busy.staff["steward"].id,
        "name": "delegates",
        "kind_name": "invitation",
        "by": "organisation",
        "filename": "barcode-detector/ponyfill.js",
        "preview_id": "a-preview-nobody-kept",
        "question_id": busy.questions["team"].id,
        "kind": "reminder",
        "scheduled_id": busy.scheduled_id,
    }
