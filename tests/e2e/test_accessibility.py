"""Every page state, in headless Chromium at phone size: axe-core for WCAG 2.2 AA, and the Nu HTML checker.

The states come from the URL map, as the route × role test's do: every route that answers a page has its
states here (empty, busy, with form errors, a full summit, offered, waitlisted, cancelled, handed on…), each
visited as every role that may see it (the route × role policy says who). A route added without an entry
here fails `test_every_page_route_has_its_states`. axe runs on each page as the browser renders it (and checks
again at desktop width any contrast it couldn't settle at phone width) and fails the test on any serious or
critical violation; the HTML each page was served is saved, and the Nu checker reads them all in one Java run
at the end and fails it on any error. Both name the page state. One browser, one context, and each database
seeded once.

axe-core and vnu-jar are npm packages pinned in package-lock.json (`make setup` installs them); the checker
needs Java 11 or later.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from app.core.db import db
from invitations import import_previews, links
from tests.support import factories as f
from tests.support import notify_standin
from tests.support.apps import make_app
from tests.support.browser import BROWSER_TIMEOUT_MS, PHONE, REQUIRE_BROWSER
from tests.support.busy_summit import STAFF, busy_summit, make_staff
from tests.support.route_policy import ENDPOINTS, ROLES, policy_for
from tests.support.servers import InThread
from tests.support.wallet_support import wallet_files

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# WCAG 2.2 at level AA: every A and AA rule of 2.0, 2.1 and 2.2 that axe has.
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 800}
# Every page's footer: the privacy notice and, beside it, the accessibility statement.
FOOTER_LINKS = re.compile(
    r'<footer class="site-footer">.*<a href="/privacy">Privacy notice</a> · '
    r'<a href="/accessibility">Accessibility statement</a>.*</footer>',
    re.DOTALL,
)

# Routes that answer something other than a page: files, JSON, redirects, the API.
NOT_PAGES = {
    "static": "files",
    "main.healthz": "JSON",
    "main.ping": "text",
    "main.favicon": "an icon",
    "badges.png": "an image",
    "badges.pdf": "a PDF",
    "badges.pkpass": "an Apple Wallet pass",
    "badges.service_worker": "a script",
    "badge_admin.preview": "a PDF",
    "calendar.summit": "a calendar file",
    "calendar.fringe_event": "a calendar file",
    "fringe.calendar": "a calendar file",
    "calendar.feed": "a calendar file",
    "checkin.decoder_file": "a script or WebAssembly",
    "checkin.service_worker": "a script",
    "checkin_door.expected": "JSON",
    "checkin.not_arrived_csv": "CSV",
    "checkin.door_list": "a PDF",
    "checkin.scan_log_csv": "CSV",
    "checkin_door.counts": "JSON",
    "checkin_door.search": "JSON",
    "dashboards.export": "CSV",
    "invitations.my_data": "JSON",
    "organiser.export_invitations": "CSV",
    "auth.council_sign_in": "a redirect to Microsoft's sign-in",
}
# Council sign-in set up on every walked server, so the sign-in page shows its button. Nothing here goes to the
# provider (no state follows the button), so its address answers nothing.
COUNCIL_SIGN_IN = dict(
    OIDC_CLIENT_ID="5b0ad9e2-7a4c-4a38-9c52-0f1c2e7a9d11",
    OIDC_CLIENT_SECRET="not-a-secret",
    OIDC_ALLOWED_TENANTS=["0c7e3a6e-4f7b-4c1e-9a53-6b2d8f1e2a01"],
    OIDC_METADATA_URL="http://127.0.0.1:9/.well-known/openid-configuration",
)


# --- the seeded databases -------------------------------------------------------------------------------


def seed_empty() -> dict:
    """A summit open for registration with one invitee nobody has written to, and the staff: the empty pages."""
    f.summit(capacity=350, target=300)
    staff = make_staff()
    nia = f.invitation(name="Nia Newcomer", email="nia@example.org")
    # An invitee list kept between its check and its confirm: odd headings, then an unknown champion.
    kept = import_previews.keep_preview(staff["organiser"].id, "council.csv", ODD_HEADINGS_CSV.encode())
    db.session.commit()
    return dict(
        tokens={"invited": links.token_for(nia)},
        ids={"invitation": nia.id, "leader": staff["leader"].id, "invitee": nia.id, "import_preview": kept},
    )


def seed_busy() -> dict:
    """A full summit with someone in every state, fringe events in every state, scans, emails and notes."""
    busy = busy_summit()
    return dict(tokens=busy.tokens, ids=busy.ids, slugs=busy.slugs)


def seed_fresh() -> dict:
    """A fresh server: the staff accounts and no summit yet, so an organiser's pages lead to the set-up."""
    make_staff()
    return dict(tokens={}, ids={})


def seed_wallet() -> dict:
    """Apple and Google Wallet set up (the app's settings, below), the pass certificate running out in 20 days: a
    registered delegate's badge with both wallet buttons, and the organisers' dashboard with its warning."""
    f.summit(capacity=350, target=300)
    make_staff()
    ada = f.registered(name="Ada Lovelace", email="ada@example.org")
    return dict(tokens={"ada": links.token_for(ada)}, ids={})


SEEDS = {"empty": seed_empty, "busy": seed_busy, "fresh": seed_fresh, "wallet": seed_wallet}


# The empty database is served with GOV.UK Notify set up for texts (nothing is delivered: no worker runs), so the
# texts page offers its form; the busy one with the tests' own mail, where the page says texts need Notify.
SETTINGS: dict[str, dict] = {
    "empty": dict(
        MAIL_BACKEND="notify",
        NOTIFY_API_KEY=notify_standin.API_KEY,
        NOTIFY_EMAIL_TEMPLATE_ID=notify_standin.TEMPLATE_ID,
        NOTIFY_SMS_TEMPLATE_ID=notify_standin.SMS_TEMPLATE_ID,
    )
}


def app_settings(db_name: str, folder: Path) -> dict:
    """A database's own settings: Notify for the empty one (above); the wallet database's app has both wallets set
    up, with a test chain and key."""
    if db_name != "wallet":
        return SETTINGS.get(db_name, {})
    return wallet_files(folder / "wallet-files", pass_certificate_days=20).settings


# A comma-separated list of endpoints, or their beginnings (A11Y_ONLY=badges.page or A11Y_ONLY=texts.,mail.), walks
# their states alone, for a quick look at a few pages; every route still needs its states, and the whole walk runs
# without it.
ONLY = tuple(name.strip() for name in os.environ.get("A11Y_ONLY", "").split(",") if name.strip())


def chosen(state) -> bool:
    return not ONLY or state.endpoint.startswith(ONLY)


# --- the page states ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    """One page in one state: its address (filled in from the seeded values), and what makes the state."""

    endpoint: str
    name: str
    db: str
    path: str
    roles: tuple[str, ...] | None = None  # None: every role the route × role policy lets see the page
    act: Callable | None = None  # the step on the loaded page that makes the state (a form sent, say)
    status: int = 200
    changes: bool = False  # it changes the database, so it runs after every other state on it
    unsandboxed: bool = False  # served in a CSP sandbox, where no script runs (axe included): lift it here


def submit(selector: str = "main form.stack", fill: dict[str, str] | None = None, empty: bool = True):
    """Send the page's form, its text fields emptied first (for a page with errors) and some filled in."""

    def act(page):
        form = page.locator(selector).first
        if empty:
            for text_field in form.locator(
                "input[type=text], input[type=email], input[type=password], input[type=number], "
                "input[type=datetime-local], textarea"
            ).all():
                text_field.fill("")
            for box in form.locator("input[type=checkbox]").all():
                box.uncheck()
        for name, value in (fill or {}).items():
            target = form.locator(f"[name={name}]")
            if target.get_attribute("type") == "checkbox":
                target.check()
            else:
                target.fill(value)
        with page.expect_navigation() as navigation:
            form.locator("button[type=submit], input[type=submit]").last.click()
        return navigation.value

    return act


def upload(csv_text: str):
    def act(page):
        page.set_input_files(
            "input[type=file]", files=[{"name": "invitees.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}]
        )
        with page.expect_navigation() as navigation:
            page.locator("main form button[type=submit]").first.click()
        return navigation.value

    return act


D = ("delegate",)
ORG = ("organiser",)
REGISTER = submit(empty=False, fill={"consent": "y"})  # the registration form as given, consent ticked


def with_errors(endpoint: str, db: str, path: str, roles: tuple[str, ...], act: Callable | None = None) -> State:
    """The form sent back with its mistakes shown (422): by default with every text field emptied."""
    return State(endpoint, "with errors", db, path, roles=roles, act=act or submit(), status=422)


BAD_CSV = "email,name,organisation,job_title,champion_email\nnot-an-email,,Suffolk County Council,Officer,\n"
ODD_HEADINGS_CSV = "Contact,Who,Body\nann@example.org,Ann Smith,Suffolk County Council\n"
UNKNOWN_CHAMPION_CSV = (
    "Email address,Full name,Council,Champion email\n"
    "ann@example.org,Ann Smith,Suffolk County Council,jo.smith@council.example.org\n"
    "bob@example.org,Bob Jones,Suffolk County Council,jo.smith@council.example.org\n"
)
GOOD_CSV = "email,name,organisation,job_title,champion_email\nnew.person@example.org,New Person,Suffolk County Council,Officer,\n"

STATES: list[State] = [
    # Public pages, signed out, and the landing page as staff too (its header differs; an organiser's is the dashboard).
    State("main.index", "the landing page", "empty", "/", roles=("anonymous",)),
    State("main.index", "the landing page", "busy", "/", roles=("anonymous", "steward", "leader")),
    State("main.privacy", "the privacy notice", "busy", "/privacy", roles=("anonymous",)),
    State("main.accessibility", "the accessibility statement", "busy", "/accessibility", roles=("anonymous",)),
    State("auth.sign_in", "empty, with the council account button", "busy", "/sign-in", roles=("anonymous",)),
    State(
        "auth.sign_in",
        "with errors",
        "busy",
        "/sign-in",
        roles=("anonymous",),
        act=submit("main form", fill={"email": "olive.organiser@staff.example.org", "password": "wrong password"}),
        status=401,
    ),
    State(
        "auth.council_callback",
        "a sign-in that didn't finish",
        "busy",
        "/sign-in/council/callback?code=a-code&state=not-this-browsers",
        roles=("anonymous",),
        status=400,
    ),
    State("main.staff_home", "staff home", "busy", "/staff", roles=("steward", "organiser")),  # a leader's is /leader
    # Every staff member's own account page; the organisers' Team page and its confirmations.
    State("account.account", "empty", "empty", "/account"),
    State("account.account", "busy", "busy", "/account"),
    with_errors("account.account", "busy", "/account", ("steward",)),
    State("team.team", "empty", "empty", "/organiser/team/", roles=("organiser",)),
    State("team.team", "busy", "busy", "/organiser/team/", roles=("organiser",)),
    State("team.deactivate", "asks first", "busy", "/organiser/team/{steward}/deactivate", roles=("organiser",)),
    State("team.reactivate", "asks first", "busy", "/organiser/team/{departed}/reactivate", roles=("organiser",)),
    State("team.withdraw_invitation", "asks first", "busy", "/organiser/team/{invited}/withdraw", roles=("organiser",)),
    with_errors("team.team", "busy", "/organiser/team/", ORG, act=submit("#invite-form")),
    State("team.change_role", "the role page", "busy", "/organiser/team/{steward}/role", roles=("organiser",)),
    # Joining the team from an invitation, and a forgotten password.
    State("auth.join", "the invitation's form", "busy", "/sign-in/join/{join}", ("anonymous",)),
    with_errors("auth.join", "busy", "/sign-in/join/{join}", ("anonymous",), act=submit("main form.stack")),
    State(
        "auth.join", "a link that doesn't work (404)", "busy", "/sign-in/join/" + "B" * 44, ("anonymous",), status=404
    ),
    State("auth.forgotten_password", "empty", "busy", "/sign-in/forgotten-password", roles=("anonymous",)),
    with_errors(
        "auth.forgotten_password", "busy", "/sign-in/forgotten-password", ("anonymous",), act=submit("main form")
    ),
    State(
        "auth.forgotten_password",
        "sent",
        "busy",
        "/sign-in/forgotten-password",
        roles=("anonymous",),
        act=submit("main form", fill={"email": "someone@example.org"}),
    ),
    State("auth.reset_password", "the form", "busy", "/sign-in/reset/{reset}", ("anonymous",)),
    State(
        "auth.reset_password",
        "a link that doesn't work (404)",
        "busy",
        "/sign-in/reset/" + "B" * 44,
        ("anonymous",),
        status=404,
    ),
    # Getting a link by email: a leader's sign-in link, a delegate's lost personal link.
    State("auth.request_link", "empty", "busy", "/sign-in/email-link", roles=("anonymous",)),
    with_errors("auth.request_link", "busy", "/sign-in/email-link", ("anonymous",), act=submit("main form")),
    State(
        "auth.request_link",
        "sent",
        "busy",
        "/sign-in/email-link",
        roles=("anonymous",),
        act=submit("main form", fill={"email": "someone@example.org"}),
    ),
    State(
        "auth.link_sign_in",
        "a link that doesn't work (404)",
        "busy",
        "/sign-in/link/" + "B" * 44,
        ("anonymous",),
        status=404,
    ),
    State("auth.link_sign_in", "the button that signs in", "busy", "/sign-in/link/{sign_in_link}", ("anonymous",)),
    State("recovery.lost_link", "empty", "busy", "/lost-link", roles=("anonymous",)),
    with_errors("recovery.lost_link", "busy", "/lost-link", ("anonymous",), act=submit("main form")),
    # Error pages.
    State("invitations.home", "a wrong link (404)", "busy", "/i/" + "A" * 44, roles=("anonymous",), status=404),
    State("organiser.dashboard", "refused to a steward (403)", "busy", "/organiser/", roles=("steward",), status=403),
    State("invitations.register", "handed on (410)", "busy", "/i/{cara}/register", roles=D, status=410),
    # The delegate's own pages, in each state.
    State("invitations.home", "invited, places left", "empty", "/i/{invited}", roles=D),
    *[
        State("invitations.home", state, "busy", f"/i/{{{key}}}", roles=D)
        for state, key in (
            ("registered", "ada"),
            ("invited, summit full", "ivy"),
            ("offered", "waiting"),
            ("waitlisted", "will"),
            ("cancelled", "dan"),
            ("declined", "dora"),
            ("handed on", "cara"),
            ("handed on to (the colleague)", "colleague"),
        )
    ],
    State("invitations.register", "empty", "empty", "/i/{invited}/register", roles=D),
    with_errors("invitations.register", "empty", "/i/{invited}/register", D),
    State("invitations.register", "offered", "busy", "/i/{waiting}/register", roles=D),
    State("invitations.register", "waitlisted", "busy", "/i/{will}/register", roles=D),
    State("invitations.register", "full summit: the way to the waiting list", "busy", "/i/{ivy}/register", roles=D),
    State("invitations.home", "just registered", "empty", "/i/{invited}/register", D, REGISTER, changes=True),
    State("invitations.details", "registered", "busy", "/i/{ada}/details", roles=D),
    with_errors("invitations.details", "busy", "/i/{ada}/details", D),
    State("invitations.colleague", "empty", "busy", "/i/{ivy}/colleague", roles=D),
    with_errors("invitations.colleague", "busy", "/i/{ivy}/colleague", D),
    State("invitations.decline", "invited", "busy", "/i/{ivy}/decline", roles=D),
    State("invitations.decline", "waitlisted", "busy", "/i/{will}/decline", roles=D),
    State("invitations.cancel", "registered", "busy", "/i/{ada}/cancel", roles=D),
    State("invitations.erase", "registered", "busy", "/i/{ada}/erase", roles=D),
    State("invitations.erase", "erased", "busy", "/i/{bob}/erase", roles=D, act=submit("main form"), changes=True),
    State("badges.page", "registered", "busy", "/i/{ada}/badge", roles=D),
    State("badges.page", "no summit place", "busy", "/i/{ivy}/badge", roles=D),
    State("badges.page", "registered, with Apple and Google Wallet", "wallet", "/i/{ada}/badge", roles=D),
    State("organiser.dashboard", "wallet passes need attention", "wallet", "/organiser/", roles=ORG),
    State("fringe.programme", "none yet", "empty", "/i/{invited}/fringe", roles=D),
    State("fringe.programme", "signed up", "busy", "/i/{ada}/fringe", roles=D),
    *[
        State("fringe.event", state, "busy", f"/i/{{{who}}}/fringe/{{{slug}}}", roles=D)
        for state, who, slug in (
            ("open", "ivy", "upcoming"),
            ("signed up", "ada", "upcoming"),
            ("full", "ivy", "full"),
            ("attended", "ada", "past"),
            ("cancelled", "ada", "cancelled"),
        )
    ],
    # Leaders.
    State("dashboards.leader_home", "no invitees", "empty", "/leader", roles=("leader",)),
    State("dashboards.leader_home", "invitees in every state", "busy", "/leader", roles=("leader",)),
    State("dashboards.nudge", "empty", "busy", "/leader/invitees/{nudgeable}/nudge", roles=("leader",)),
    State("dashboards.nudge", "nudged lately", "busy", "/leader/invitees/{invitee}/nudge", roles=("leader",)),
    with_errors("dashboards.nudge", "busy", "/leader/invitees/{nudgeable}/nudge", ("leader",), act=submit("main form")),
    State("dashboards.note", "empty", "busy", "/leader/invitees/{nudgeable}/note", roles=("leader",)),
    with_errors("dashboards.note", "busy", "/leader/invitees/{nudgeable}/note", ("leader",), act=submit("main form")),
    # Organisers.
    *[
        State(endpoint, state, db, path, roles=ORG)
        for endpoint, path in (
            ("organiser.dashboard", "/organiser/"),
            ("organiser.invitations", "/organiser/invitations"),
            ("organiser.waiting_list", "/organiser/waiting-list"),
            ("sending.send_all", "/organiser/invitations/send"),
            ("sending.reminders", "/organiser/reminders"),
            ("sending.scheduled", "/organiser/scheduled"),
            ("dashboards.leaders", "/organiser/leaders"),
            ("dashboards.breakdown", "/organiser/breakdown/organisation"),
            ("dashboards.leader_view", "/organiser/leaders/{leader}"),
            ("dashboards.champions", "/organiser/champions"),
            ("fringe_organiser.index", "/organiser/fringe/"),
            ("mail.outbox", "/organiser/mail/"),
            ("audit.audit_log", "/organiser/audit/"),
            ("checkin.overview", "/organiser/checkin"),
            ("badge_admin.index", "/organiser/badges"),
        )
        for db, state in (("empty", "empty"), ("busy", "busy"))
    ],
    State(
        "checkin.overview", "the summit, with arrivals and scans", "busy", "/organiser/checkin?event=summit", roles=ORG
    ),
    State("organiser.invitations", "filtered, nothing found", "busy", "/organiser/invitations?q=nobody", roles=ORG),
    State(
        "organiser.invitation", "registered, badge reprinted", "busy", "/organiser/invitations/{invitation}", roles=ORG
    ),
    with_errors("badge_admin.index", "busy", "/organiser/badges", ORG, act=submit("main form[action$='/no-place']")),
    State("organiser.invitation", "invited, nudged", "busy", "/organiser/invitations/{invitee}", roles=ORG),
    State(
        "organiser.revoke_invitation", "asked first", "busy", "/organiser/invitations/{invitation}/revoke", roles=ORG
    ),
    State("organiser.reissue_link", "asked first", "busy", "/organiser/invitations/{invitation}/new-link", roles=ORG),
    State(
        "badge_admin.reissue_code",
        "asked first",
        "busy",
        "/organiser/badges/{invitation}/reissue-code?back=invitation",
        roles=ORG,
    ),
    State("organiser.new_invitation", "empty", "empty", "/organiser/invitations/new", roles=ORG),
    with_errors("organiser.new_invitation", "empty", "/organiser/invitations/new", ORG),
    State("organiser.edit_invitation", "filled in", "busy", "/organiser/invitations/{invitation}/edit", roles=ORG),
    with_errors("organiser.edit_invitation", "busy", "/organiser/invitations/{invitation}/edit", ORG),
    State("organiser.import_invitations", "empty", "empty", "/organiser/invitations/import", roles=ORG),
    with_errors("organiser.import_invitations", "empty", "/organiser/invitations/import", ORG, act=upload(BAD_CSV)),
    State(
        "organiser.import_invitations",
        "preview",
        "empty",
        "/organiser/invitations/import",
        roles=ORG,
        act=upload(GOOD_CSV),
    ),
    State(
        "organiser.import_invitations",
        "an unknown champion, to invite as a leader",
        "empty",
        "/organiser/invitations/import",
        roles=ORG,
        act=upload(UNKNOWN_CHAMPION_CSV),
        status=422,
    ),
    State(
        "organiser.import_preview",
        "columns to choose",
        "empty",
        "/organiser/invitations/import/{import_preview}",
        roles=ORG,
    ),
    State("organiser.summit_setup", "a fresh server's first page", "fresh", "/organiser/set-up", roles=ORG),
    State("organiser.summit_setup", "reached from the dashboard", "fresh", "/organiser/", roles=ORG),
    with_errors("organiser.summit_setup", "fresh", "/organiser/set-up", ORG),
    State("questions.index", "none yet", "empty", "/organiser/questions", roles=ORG),
    State("questions.index", "every kind, one option full, one hidden", "busy", "/organiser/questions", roles=ORG),
    State("questions.new", "empty", "empty", "/organiser/questions/new", roles=ORG),
    with_errors("questions.new", "empty", "/organiser/questions/new", ORG),
    State("questions.edit", "filled in, with limits", "busy", "/organiser/questions/{question}", roles=ORG),
    with_errors("questions.edit", "busy", "/organiser/questions/{question}", ORG),
    State("organiser.summit_settings", "filled in", "busy", "/organiser/summit", roles=ORG),
    with_errors("organiser.summit_settings", "busy", "/organiser/summit", ORG),
    State("wording.index", "every email at its default", "empty", "/organiser/emails/", roles=ORG),
    State("wording.index", "every email at its default", "busy", "/organiser/emails/", roles=ORG),
    State(
        "wording.edit",
        "just saved, with back to the default",
        "busy",
        "/organiser/emails/reminder",
        roles=ORG,
        act=submit("main form", fill={"subject": "Come", "body": "Hello.\n\n[Reply](((personal_link)))"}, empty=False),
        changes=True,
    ),
    State("wording.edit", "the default wording", "busy", "/organiser/emails/invitation", roles=ORG),
    with_errors("wording.edit", "busy", "/organiser/emails/invitation", ORG, act=submit("main form")),
    State(
        "wording.edit",
        "a required placeholder left out",
        "busy",
        "/organiser/emails/invitation",
        roles=ORG,
        act=submit("main form", fill={"subject": "Hello", "body": "Hello ((nickname))."}, empty=False),
        status=422,
    ),
    State("wording.preview", "for the first invitee", "busy", "/organiser/emails/invitation/preview", roles=ORG),
    State("wording.preview", "nobody to preview it for", "empty", "/organiser/emails/invitation/preview", roles=ORG),
    State(
        "wording.preview_html",
        "an invitation",
        "busy",
        "/organiser/emails/invitation/preview.html",
        roles=ORG,
        unsandboxed=True,
    ),
    State("mail.message", "an invitation", "busy", "/organiser/mail/{message}", roles=ORG),
    State("mail.preview", "an invitation", "busy", "/organiser/mail/{message}/preview", roles=ORG, unsandboxed=True),
    State(
        "sending.preview", "a reminder", "busy", "/organiser/reminder/preview?state=not_answered", ORG, unsandboxed=True
    ),
    State(
        "sending.reminders",
        "a group due, its preview, the summit full",
        "busy",
        "/organiser/reminders?state=not_answered",
        roles=ORG,
    ),
    with_errors(
        "sending.schedule",
        "busy",
        "/organiser/reminders?state=not_answered",
        ORG,
        act=submit("main form[action$='/schedule']"),
    ),
    State(
        "sending.send_reminders",
        "asked first",
        "busy",
        "/organiser/reminders?state=not_answered",
        roles=ORG,
        act=submit("main form[action$='/reminders']", empty=False),
    ),
    State("fringe_organiser.event", "upcoming", "busy", "/organiser/fringe/{event}", roles=ORG),
    State("fringe_organiser.event", "cancelled", "busy", "/organiser/fringe/{cancelled_event}", roles=ORG),
    State("fringe_organiser.new_event", "empty", "empty", "/organiser/fringe/new", roles=ORG),
    with_errors("fringe_organiser.new_event", "empty", "/organiser/fringe/new", ORG),
    State("fringe_organiser.edit_event", "filled in", "busy", "/organiser/fringe/{event}/edit", roles=ORG),
    State("fringe_organiser.copy_event", "filled in", "busy", "/organiser/fringe/{event}/copy", roles=ORG),
    with_errors("fringe_organiser.copy_event", "busy", "/organiser/fringe/{event}/copy", ORG),
    State("fringe_organiser.cancel_event", "empty", "busy", "/organiser/fringe/{event}/cancel", roles=ORG),
    State("fringe_organiser.attendance", "upcoming", "busy", "/organiser/fringe/{event}/attendance", roles=ORG),
    State("fringe_organiser.attendance", "past", "busy", "/organiser/fringe/{past_event}/attendance", roles=ORG),
    State("fringe_organiser.walk_in", "empty", "busy", "/organiser/fringe/{past_event}/walk-in", roles=ORG),
    State("fringe_organiser.walk_in", "searched", "busy", "/organiser/fringe/{past_event}/walk-in?q=ivy", roles=ORG),
    # Texts on the day: the organisers' page (with Notify set up on the empty database, without on the busy one),
    # its confirmation and its mistakes; the stop link in a text, asking and done.
    State("texts.index", "the form, and no texts yet", "empty", "/organiser/texts", roles=ORG),
    State("texts.index", "texts need GOV.UK Notify", "busy", "/organiser/texts", roles=ORG),
    State(
        "texts.preview",
        "asked first, with the length and fragments",
        "empty",
        "/organiser/texts",
        roles=ORG,
        act=submit("main form.stack", fill={"body": "Doors open at 8:30 — your badge: ((badge_link))"}, empty=False),
    ),
    with_errors("texts.preview", "empty", "/organiser/texts", ORG),
    State("texts.stop", "asks first", "busy", "/texts/stop/{text_stop}", roles=D),
    State(
        "texts.stop",
        "texts stopped",
        "busy",
        "/texts/stop/{text_stop}",
        roles=D,
        act=submit("main form", empty=False),
        changes=True,
    ),
    # The door.
    State("checkin.scanner", "empty", "empty", "/checkin"),
    State("checkin.scanner", "busy", "busy", "/checkin"),
]


def page_endpoints() -> set[str]:
    every_get = {endpoint for endpoint, _, methods in ENDPOINTS if "GET" in methods}
    return {e for e in every_get if not e.startswith("checkin_api.")} - set(NOT_PAGES)  # the API answers JSON


def roles_for(state: State) -> tuple[str, ...]:
    if state.roles is not None:
        return state.roles
    policy = policy_for(state.endpoint) or {}
    # Outside a personal link a delegate is a signed-out visitor: one visit covers both.
    return tuple(role for role in ROLES if policy.get(role) == "allow" and role != "delegate")


def test_every_page_route_has_its_states():
    """A page added to the app without a state here (or a file route not named in NOT_PAGES) fails."""
    covered = {state.endpoint for state in STATES}
    assert sorted(page_endpoints() - covered) == [], "page routes with no state in STATES"
    known = {endpoint for endpoint, _, _ in ENDPOINTS}
    assert sorted((covered | set(NOT_PAGES)) - known) == [], "states or NOT_PAGES entries for routes that don't exist"
    for state in STATES:
        assert roles_for(state), f"nobody may see {state.endpoint} ({state.name})"


# --- the walk -------------------------------------------------------------------------------------------


@dataclass
class Visit:
    label: str
    html: str
    problems: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        """Several hundred requests, each answered as the test expects or reported with its page state."""


@contextmanager
def serving(app) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    stop = InThread(http, name="a11y-server")
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        stop()


def _tools_or_skip() -> str:
    java = shutil.which("java")
    missing = [str(p.relative_to(ROOT)) for p in (AXE, VNU) if not p.is_file()]
    if java is None:
        missing.append("java (for the Nu HTML checker)")
    if missing:
        message = f"missing {', '.join(missing)} (run make setup)"
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return java


def _sign_in(page, base: str, role: str) -> None:
    page.context.clear_cookies()
    if role in ("anonymous", "delegate"):
        return
    page.goto(f"{base}/sign-in")
    page.fill("input[name=email]", STAFF[role][0])
    page.fill("input[name=password]", f.PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def _without_sandbox(route) -> None:
    """The page as served, without its content security policy: the email preview's `sandbox` stops every script."""
    response = route.fetch()
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-security-policy"}
    route.fulfill(response=response, headers=headers)


# axe's verdict, cut down in the page to what the report needs (its full results are large, and slow to pass back).
AXE_RUN = """async ([tags, rules]) => {
    const result = await axe.run(document, {
        runOnly: rules ? {type: 'rule', values: rules} : {type: 'tag', values: tags}, resultTypes: ['violations']});
    return {
        violations: result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(' '))})),
        contrast_unsure: result.incomplete.some(v => v.id === 'color-contrast'),
    };
}"""


def _axe(page) -> list[dict]:
    """axe's violations on the page at phone width; where it couldn't be sure of a contrast (table cells scrolled
    out of sight at 360 px, say), the contrast again at desktop width, where they are in sight."""
    result = page.evaluate(AXE_RUN, [WCAG_22_AA, None])
    violations = result["violations"]
    if result["contrast_unsure"]:
        page.set_viewport_size(DESKTOP)
        try:
            wide = page.evaluate(AXE_RUN, [WCAG_22_AA, ["color-contrast"]])
        finally:
            page.set_viewport_size(PHONE["viewport"])
        violations += [dict(v, help=f"{v['help']} (at {DESKTOP['width']} px)") for v in wide["violations"]]
    return violations


def _describe(violation: dict) -> str:
    targets = violation["targets"]
    more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
    return f"axe {violation['id']} ({violation['impact']}): {violation['help']}, at {'; '.join(targets[:3])}{more}"


def _visit(page, base: str, state: State, values: dict, label: str) -> Visit:
    url = base + state.path.format(**values)
    if state.unsandboxed:
        page.route(url, _without_sandbox)
    response = page.goto(url)
    if state.unsandboxed:
        page.unroute(url)
    if state.act is not None:
        response = state.act(page)
    visit = Visit(label=label, html=response.text())
    if response.status != state.status:
        visit.problems.append(f"answered {response.status}, not {state.status} ({page.url})")
    if "text/html" not in (response.headers.get("content-type") or ""):
        visit.problems.append(f"not a page: {response.headers.get('content-type')}")
        return visit
    is_an_email = state.endpoint in ("mail.preview", "wording.preview_html", "sending.preview")  # an email, not a page
    if not is_an_email and not FOOTER_LINKS.search(visit.html):
        visit.problems.append("the footer has no link to the accessibility statement beside the privacy notice")
    visit.problems += [_describe(v) for v in _axe(page) if v["impact"] in FAILING_IMPACTS]
    return visit


def _walk(page, base: str, db_name: str, seeded: dict) -> list[Visit]:
    """Every state on this database, role by role (signed in once each); the ones that change it come last."""
    values = {**seeded["tokens"], **seeded["ids"], **seeded.get("slugs", {})}
    by_role: dict[str, list[State]] = {}
    for state in sorted((s for s in STATES if s.db == db_name and chosen(s)), key=lambda s: s.changes):
        for role in roles_for(state):
            by_role.setdefault(role, []).append(state)
    visits = []
    for role, states in sorted(by_role.items(), key=lambda item: any(s.changes for s in item[1])):
        _sign_in(page, base, role)
        for state in states:
            label = f"{state.endpoint} · {state.name} · {db_name} database · as {role}"
            visits.append(_visit(page, base, state, values, label))
    return visits


def _nu_check(java: str, visits: list[Visit], folder: Path) -> None:
    """One JVM over every saved page: each error goes to the page state it came from."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for n, visit in enumerate(visits):
        path = folder / f"{n:03d}-{_slug(visit.label)}.html"
        path.write_text(visit.html, encoding="utf-8")
        files[path.name] = visit
    # C1 compilation only and the serial collector start a JVM that runs for seconds in about half the time; C1's
    # frames are larger, so the checker's deep schema needs a larger stack than Java's default.
    fast_start = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xss4m"]
    command = [java, *fast_start, "-jar", str(VNU), "--errors-only", "--format", "json", str(folder)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    try:
        report = json.loads(run.stderr)  # the checker writes its JSON report to stderr
    except ValueError:
        said = (run.stdout + run.stderr)[-2000:]
        raise AssertionError(f"the Nu checker gave no report (exit {run.returncode}): {said}") from None
    for message in report["messages"]:
        name = message.get("url", "").rsplit("/", 1)[-1]
        where = f"line {message['lastLine']}" if "lastLine" in message else "the file"
        text = f"Nu checker {message['type']}: {message['message']} ({where}: {message.get('extract', '').strip()!r})"
        if name not in files:
            raise AssertionError(f"the Nu checker failed: {text}")
        files[name].problems.append(text)


@pytest.fixture(scope="module")
def seeded_databases(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Each database seeded once; the walk serves it (with CSRF on, as in production)."""
    made = {}
    for name, seed in SEEDS.items():
        if not any(state.db == name and chosen(state) for state in STATES):
            continue
        folder = tmp_path_factory.mktemp(f"a11y-{name}")
        app = make_app("sqlite", folder, WTF_CSRF_ENABLED=True, **COUNCIL_SIGN_IN, **app_settings(name, folder))
        with app.app_context():
            seeded = seed()
        with app.app_context():
            db.engine.dispose()
        made[name] = (folder, seeded)
    return made


def test_every_page_state_passes_axe_and_the_nu_checker(browser, seeded_databases, tmp_path):
    java = _tools_or_skip()
    context = browser.new_context(**PHONE)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    # axe goes into every page as it loads: sent to the browser once, and outside the page's own content security
    # policy, so each page renders as it does for real.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    visits: list[Visit] = []
    try:
        for name, (folder, seeded) in seeded_databases.items():
            app = make_app("sqlite", folder, WTF_CSRF_ENABLED=True, **COUNCIL_SIGN_IN, **app_settings(name, folder))
            with serving(app) as base:
                visits += _walk(page, base, name, seeded)
            with app.app_context():
                db.engine.dispose()
    finally:
        context.close()
    _nu_check(java, visits, Path(os.environ.get("A11Y_HTML_DIR", tmp_path / "pages")))
    failing = [visit for visit in visits if visit.problems]
    report = "\n".join(f"{visit.label}:\n  " + "\n  ".join(visit.problems) for visit in failing)
    print(f"\naccessibility: {len(visits)} page states checked, {len(failing)} with problems")
    (tmp_path / "report.txt").write_text(report, encoding="utf-8")
    if failing:
        pytest.fail(f"{len(failing)} of {len(visits)} page states have problems:\n{report}", pytrace=False)
