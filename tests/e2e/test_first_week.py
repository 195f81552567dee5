"""An organiser's first week, in a real browser against a real server, with no command after the two a server
starts with (`db upgrade`, and `users create` for the first organiser).

The server runs as `make run` runs it (gunicorn serving wsgi:app under APP_ENV=development, and a `mail worker`
writing each email as a file), on a fresh SQLite database. The organiser signs in and sets the summit up, invites
a leader and a steward from the Team page; the steward accepts from the emailed link and chooses a password; the
organiser adds a workshop question with limited places, imports an .xlsx and a Windows-1252 CSV, rewords the
invitation, previews it for one invitee and sends a test, then sends the invitations; a delegate registers from
their emailed link on a phone; the steward signs in and checks them in by name search; the organiser schedules a
reminder and downloads the door list.

Each step is saved as a screenshot at 1280 px (the delegate's register page also at 360 px) into the folder named
by FIRST_WEEK_SCREENSHOTS, by default the test's own temporary folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pypdfium2 as pdfium
import pytest
from playwright.sync_api import Page, expect

from tests.support import factories as f
from tests.support.browser import BROWSER_TIMEOUT_MS, PHONE
from tests.support.servers import ROOT, free_port, wait_until_serving

PATIENCE_SECONDS = 60
DESK = dict(viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="Europe/London")
ORGANISER = ("olive.organiser@suffolk.example.org", "Olive Organiser", "a long organiser password")
LEADER = ("lena.leader@council.example.org", "Lena Leader")
STEWARD = ("sam.steward@council.example.org", "Sam Steward", "a long steward password")


@dataclass
class Site:
    url: str
    mail: Path
    shots: Path

    def emails(self, to: str, kind: str, count: int = 1) -> list[dict]:
        """The emails of this kind the mail worker has written to this address, once there are `count`."""
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            found = []
            for path in sorted(self.mail.glob("*.json")) if self.mail.exists() else []:
                email = json.loads(path.read_text())
                if email["to"] == to and email["kind"] == kind:
                    found.append(email)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no {kind} email to {to} within {PATIENCE_SECONDS} s (found {len(found)})")
            time.sleep(0.1)

    def link(self, email: dict, path_pattern: str) -> str:
        match = re.search(re.escape(self.url) + path_pattern, email["text"])
        assert match, email["text"]
        return match.group(0)

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def _command(env: dict, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


@pytest.fixture
def site(tmp_path):
    """A fresh server as an operator starts one: the schema, the first organiser, then the app and a mail worker."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    shots = Path(os.environ.get("FIRST_WEEK_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'newhorizons.sqlite3'}",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "BASE_URL": url,
        "MAIL_BACKEND": "file",
        "MAIL_FILE_DIR": str(tmp_path / "outbox"),
        "INSTANCE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    assert "Created the database" in _command(env, "db", "upgrade")
    email, name, password = ORGANISER
    _command(env, "users", "create", email, "--role", "organiser", "--name", name, stdin=password + "\n")

    server_log, worker_log = tmp_path / "server.log", tmp_path / "mail-worker.log"
    with server_log.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}"]
            + ["wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    with worker_log.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.5"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(f"{url}/sign-in", server, server_log)
        yield Site(url=url, mail=tmp_path / "outbox", shots=shots)
    finally:
        _stop(worker)
        _stop(server)


def _context(browser, **options):
    context = browser.new_context(**options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context


def _sign_in(page: Page, site: Site, email: str, password: str) -> None:
    page.goto(f"{site.url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def _flash(page: Page, text: str) -> None:
    expect(page.locator(".flash--success")).to_contain_text(text)


def _workbook() -> bytes:
    """The county council's list, as Excel saves it: its own headings, a blank row, a stray space."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Email address", "Full name", "Council", "Role", "Champion"])
    sheet.append(["ada.lovelace@suffolk.example.org", "Ada Lovelace", "Suffolk County Council", "Head of Data", None])
    sheet.append([None, None, None, None, None])
    sheet.append(
        [" grace.hopper@suffolk.example.org", "Grace Hopper", "Suffolk County Council", "Chief Digital Officer", None]
    )
    sheet.append(["mary.somerville@suffolk.example.org", "Mary Somerville", "Suffolk County Council", "", LEADER[0]])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# A district council's list, saved by Excel as "CSV (Comma delimited)": Windows-1252, so Siân and Zoë are one byte
# a letter, and the "é" in Café.
DISTRICT_CSV = (
    "email,name,organisation,job_title,champion_email\r\n"
    f"sian.evans@babergh.example.org,Siân Evans,Babergh District Council,Café project lead,{LEADER[0]}\r\n"
    f"zoe.brook@babergh.example.org,Zoë Brook,Babergh District Council,Community officer,{LEADER[0]}\r\n"
).encode("cp1252")


def _upload(page: Page, site: Site, name: str, content: bytes, mime: str) -> None:
    _nav(page, "Invitations")
    page.get_by_role("link", name="Import a spreadsheet").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import invitees")
    page.get_by_label("Spreadsheet (.xlsx) or CSV file").set_input_files(
        {"name": name, "mimeType": mime, "buffer": content}
    )
    page.get_by_role("button", name="Check the file").click()


def test_an_organisers_first_week(browser, site):
    desk = _context(browser, **DESK)
    page = desk.new_page()

    # Monday. The first organiser signs in on a fresh server and lands on the set-up.
    _sign_in(page, site, ORGANISER[0], ORGANISER[2])
    expect(page).to_have_url(re.compile(r"/organiser/set-up$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up the summit")
    site.shot(page, "01-set-up")
    page.get_by_label("Starts (UK time)").fill("2027-03-17T09:30")
    page.get_by_label("Ends (UK time)").fill("2027-03-17T16:30")
    page.get_by_label("Capacity (places)").fill("320")
    page.get_by_label("Target").fill("280")
    page.get_by_label("Who signs the emails: name").fill(ORGANISER[1])
    page.get_by_label("Their role").fill("Programme Manager, Suffolk County Council")
    page.get_by_role("button", name="Set up the summit").click()
    _flash(page, "is set up. Next, add your invitees and fringe events.")
    expect(page.get_by_role("heading", level=1)).to_have_text("The Lives we Lead: New Horizons")
    site.shot(page, "02-dashboard-after-set-up")

    # The team: a leader (a champion) and a steward for the door, each emailed a link to join.
    _nav(page, "Team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")
    for email, name, role in ((LEADER[0], LEADER[1], "leader"), (STEWARD[0], STEWARD[1], "steward")):
        page.get_by_label("Email address").fill(email)
        page.get_by_label("Name", exact=True).fill(name)
        page.locator(f"input[name=role][value={role}]").check()
        page.get_by_role("button", name="Invite", exact=True).click()
        _flash(page, f"{name} is invited as")
    team = page.get_by_role("table")
    expect(team.get_by_role("row", name=re.compile("Lena Leader"))).to_contain_text("Invited")
    expect(team.get_by_role("row", name=re.compile("Sam Steward"))).to_contain_text("Invited")
    site.shot(page, "03-team-invited")
    assert "/sign-in/join/" in site.emails(LEADER[0], "staff_invitation")[0]["text"]

    # The steward opens the emailed link on their own computer and chooses a password.
    [joining] = site.emails(STEWARD[0], "staff_invitation")
    steward = _context(browser, **DESK).new_page()
    steward.goto(site.link(joining, r"/sign-in/join/[A-Za-z0-9_-]+"))
    expect(steward.get_by_role("heading", level=1)).to_have_text("Join the team, Sam Steward")
    site.shot(steward, "04-steward-joins")
    steward.get_by_label("Choose a password").fill(STEWARD[2])
    steward.get_by_label("The password again").fill(STEWARD[2])
    steward.get_by_role("button", name="Set my password and sign in").click()
    expect(steward.locator(".flash--success")).to_contain_text("Welcome, Sam Steward: you're signed in.")
    steward.get_by_role("button", name="Sign out").click()
    steward.context.close()
    page.reload()
    expect(page.get_by_role("table").get_by_role("row", name=re.compile("Sam Steward"))).to_contain_text("Active")

    # Tuesday. A workshop question with limited places.
    _nav(page, "Questions")
    page.get_by_role("link", name="Add a question").click()
    page.get_by_label("The question").fill("Which theme's workshop would you like to join?")
    page.get_by_label("One choice").check()
    page.get_by_label("Delegates must answer this question").check()
    for n, (label, places) in enumerate((("Net zero", "2"), ("Health and care", "90"), ("Digital inclusion", "")), 1):
        page.locator(f"input[name=option_{n}_label]").fill(label)
        page.locator(f"input[name=option_{n}_places]").fill(places)
    site.shot(page, "05-question-form")
    page.get_by_role("button", name="Add the question").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registration questions")
    expect(page.locator("main")).to_contain_text("Which theme's workshop would you like to join?")
    expect(page.locator("main")).to_contain_text("Net zero")
    site.shot(page, "06-questions")

    # Wednesday. The councils' lists: an Excel workbook, then a Windows-1252 CSV.
    _upload(
        page,
        site,
        "Suffolk County Council.xlsx",
        _workbook(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    expect(page.locator("main")).to_contain_text("Suffolk County Council.xlsx looks good")
    expect(page.locator("main")).to_contain_text("3 new")
    site.shot(page, "07-import-xlsx-preview")
    page.get_by_role("button", name="Import 3 rows").click()
    _flash(page, "Imported: 3 new invitations, 0 updated, 0 unchanged.")

    _upload(page, site, "Babergh.csv", DISTRICT_CSV, "text/csv")
    expect(page.locator("main")).to_contain_text("Read as CSV in Windows-1252")
    expect(page.locator("main")).to_contain_text("Babergh.csv looks good")
    site.shot(page, "08-import-csv-preview")
    page.get_by_role("button", name="Import 2 rows").click()
    _flash(page, "Imported: 2 new invitations, 0 updated, 0 unchanged.")
    expect(page.locator("main")).to_contain_text("Siân Evans")
    expect(page.locator("main")).to_contain_text("Zoë Brook")
    site.shot(page, "09-invitations")

    # Thursday. The invitation in the organisers' own words, previewed for one invitee, and a test.
    _nav(page, "Emails")
    page.get_by_role("link", name="Invitation", exact=True).click()
    body = page.get_by_label("Message")
    body.fill(
        body.input_value().replace("We would like", "Suffolk's partners would value your voice. We would like", 1)
    )
    page.get_by_role("button", name="Save the wording").click()
    _flash(page, "")
    expect(page.locator("main")).to_contain_text("Edited")
    site.shot(page, "10-wording-edited")
    page.get_by_role("link", name="Preview and test").click()
    page.get_by_label("As this invitee gets it").select_option(label="Siân Evans (Babergh District Council)")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("main .facts")).to_contain_text("Siân Evans")
    expect(page.locator("pre.mail-text")).to_contain_text("Suffolk's partners would value your voice.")
    expect(page.locator("pre.mail-text")).to_contain_text("Siân")
    site.shot(page, "11-wording-preview")
    page.get_by_role("button", name="Send me a test").click()
    _flash(page, f"A test of this email is queued to {ORGANISER[0]}.")
    [test_email] = site.emails(ORGANISER[0], "invitation")
    assert test_email["subject"].startswith("Test: ")
    assert "Suffolk's partners would value your voice." in test_email["text"] and "Siân" in test_email["text"]

    # Friday morning. The invitations go.
    _nav(page, "Invitations")
    page.get_by_role("link", name="Send invitations", exact=True).click()
    expect(page.locator("#group-count")).to_contain_text("5 invitations would go now.")
    expect(page.frame_locator("iframe.mail-preview").locator("body")).to_contain_text("Dear Ada")
    page.get_by_label("A covering note (optional)").fill("The chief executives hope you can come, ((first_name)).")
    site.shot(page, "12-send-invitations")
    page.get_by_role("button", name="Send 5 invitations…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send 5 invitations?")
    expect(page.locator("main")).to_contain_text("Your covering note goes above the invitation")
    site.shot(page, "13-send-confirm")
    page.get_by_role("button", name="Yes, send 5 invitations").click()
    _flash(page, "5 invitations are queued to send.")

    # Zoë opens hers on her phone and registers, choosing a workshop.
    [invitation] = site.emails("zoe.brook@babergh.example.org", "invitation")
    assert "Suffolk's partners would value your voice." in invitation["text"]
    assert "The chief executives hope you can come, Zoë." in invitation["text"]
    phone = _context(browser, **PHONE).new_page()
    phone.goto(site.link(invitation, r"/i/[A-Za-z0-9_.-]+"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("Hello Zoë")
    phone.get_by_role("link", name="Register for my place").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Register for your place")
    expect(phone.locator("main")).to_contain_text("Which theme's workshop would you like to join?")
    expect(phone.locator("main")).to_contain_text("Net zero (2 places left)")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    site.shot(phone, "14-delegate-register-360")
    phone.get_by_label("Net zero").check()
    phone.get_by_label("I agree that the organisers may use these details").check()
    phone.get_by_role("button", name="Register for my place").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("You're registered for")
    site.shot(phone, "15-delegate-registered-360")
    phone.context.close()

    # The steward practises at the door: a name search, and a check-in (the summit isn't today, so it asks).
    door = _context(browser, **DESK).new_page()
    _sign_in(door, site, STEWARD[0], STEWARD[2])
    expect(door).to_have_url(re.compile(r"/checkin"))
    expect(door.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(door.get_by_role("alert")).to_contain_text("Nothing is on now or later today.")
    door.get_by_label("Change the event").select_option("summit")
    expect(door.locator("#event-title")).to_have_text("The Lives we Lead: New Horizons")
    door.get_by_text("Find someone by name", exact=True).click()
    door.get_by_label("Name", exact=True).fill("Brook")
    expect(door.locator("#search-results")).to_contain_text("Zoë Brook")
    site.shot(door, "16-steward-name-search")
    door.get_by_role("button", name="Check in Zoë Brook").click()
    confirm = door.locator("#event-confirm")
    expect(confirm).to_contain_text("not today")
    door.get_by_role("button", name="Yes, check in to this event").click()
    result = door.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Checked in")
    expect(result).to_contain_text("Zoë Brook")
    site.shot(door, "17-steward-checked-in")
    door.context.close()

    # Friday afternoon. A reminder for next week, for those who haven't answered.
    page.goto(f"{site.url}/organiser/reminders")
    expect(page.get_by_role("heading", level=1)).to_have_text("Send reminders")
    expect(page.get_by_label("Who")).to_have_value("not_answered")
    page.get_by_label("Send at (UK time)").fill("2027-01-11T09:00")
    site.shot(page, "18-reminders")
    page.get_by_role("button", name="Schedule the reminders").click()
    _flash(page, "Scheduled: the reminders will go at the time you chose.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Scheduled sends")
    expect(page.locator("main table")).to_contain_text("Monday 11 January")
    expect(page.locator("main table")).to_contain_text("Reminders")
    site.shot(page, "19-scheduled-sends")

    # And the door list, to print.
    _nav(page, "Summit")
    expect(page.locator("main")).to_contain_text("1 place is taken")
    door_list = page.get_by_role("link", name="Door list (PDF)")
    expect(door_list).to_be_visible()
    site.shot(page, "20-summit-page")
    pdf = page.request.get(site.url + door_list.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf.body())
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    assert "Zoë Brook" in text or "Brook, Zoë" in text, text[:500]
    desk.close()


def test_the_organisers_menu_and_the_reminders_filter_fit_a_phone(live_server, page):
    """At 360 px an organiser's header is two rows (the name, and Menu), the menu opens without a script, and
    each option of the reminders' Who filter shows whole."""
    with live_server.app.app_context():
        organiser = f.user(email="olive@staff.example.org", name="Olive Organiser")
        email = organiser.email
    page.goto(f"{live_server.url}/sign-in?next=%2Forganiser%2Freminders")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send reminders")

    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= 2 * 52, f"the header is {header} at 360 px"
    team = page.get_by_role("navigation", name="Main").get_by_role("link", name="Team")
    expect(team).to_be_hidden()
    page.get_by_text("Menu", exact=True).click()
    expect(team).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    # The Who filter's options show whole at every width (beside the other filters they were cut short).
    for width in (360, 480, 768, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        cut_short = page.evaluate(
            """() => { const select = document.getElementById('state'); const style = getComputedStyle(select);
            const pen = document.createElement('canvas').getContext('2d'); pen.font = style.font;
            const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
            return [...select.options].filter(o => pen.measureText(o.text).width > room).map(o => o.text); }"""
        )
        assert cut_short == [], f"cut short at {width} px"

    # Wide, the links are in sight with no Menu button.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    page.get_by_text("Menu", exact=True).evaluate("summary => summary.parentElement.open = false")
    expect(team).to_be_visible()
