"""The audit log (app/core/audit.py, its page app/dashboards/audit_log.py): every action kind the code records has a
sentence of its own, people are names linked to their pages, and nothing shows as a code, a bare number or raw JSON;
the page filters, and is for organisers only."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from app.dashboards.audit_log import SENTENCES, Names, sentence
from invitations import chasing
from invitations.models import Invitation
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.organiser import summit_form

ROOT = Path(__file__).resolve().parents[2]
_CALL = re.compile(r"audit\.record\(\s*(?P<first>[^,]+),")
_KIND = re.compile(r"\"([a-z_]+\.[a-z_]+)\"")


def kinds_the_code_records() -> set[str]:
    """Every action kind passed to audit.record in the application: string literals in the first argument
    (a conditional names two), or a module constant it names."""
    kinds: set[str] = set()
    for path in [*ROOT.glob("app/**/*.py"), *ROOT.glob("invitations/*.py"), *ROOT.glob("fringe_events/*.py")]:
        source = path.read_text()
        for call in _CALL.finditer(source):
            first = call.group("first").strip()
            found = set(_KIND.findall(first))
            if not found and re.fullmatch(r"[A-Z_]+", first):
                constant = re.search(rf"^{first} = \"([a-z_.]+)\"", source, re.MULTILINE)
                assert constant, f"{path}: {first} is not a constant in that module"
                found = {constant.group(1)}
            assert found, f"{path}: can't tell the action kind of audit.record({first}, …)"
            kinds |= found
    return kinds


def test_every_action_kind_the_code_records_has_a_sentence():
    kinds = kinds_the_code_records()
    assert len(kinds) >= 30 and {"leader.dont_chase", "summit.configured", "badges.printed"} <= kinds
    assert sorted(kinds - set(SENTENCES)) == []
    assert sorted(set(SENTENCES) - kinds) == []  # and no sentence for a kind nobody writes


def words(parts) -> str:
    return "".join(p if isinstance(p, str) else p.text for p in parts)


def test_each_sentence_reads_as_words_with_sample_details(app):
    f.summit()
    ann = f.user(Role.ORGANISER, name="Ann Smith")
    jane = f.invitation(name="Jane Doe")
    samples = {
        "invitation.updated": {
            "before": {"name": "Jane D", "champion_id": None},
            "after": {"name": "Jane Doe", "champion_id": ann.id},
        },
        "invitation.revoked": {"before": "registered", "after": "revoked"},
        "invitation.reminded": {"group": "not_opened"},
        "invitation.champion_assigned": {"champion_id": ann.id, "how": "bulk"},
        "invitation.handed_on": {"to_invitation": jane.id, "before": "invited"},
        "invitations.imported": {"created": 3, "updated": 1},
        "summit.configured": {"settings": [["capacity", "350", "320"]], "changes": [], "notified": 0},
        "summit.counter_repaired": {"before": 3, "after": 2},
        "question.changed": {"change": "moved up", "question": "Which workshop?"},
        "question.counter_repaired": {"option": "Net zero", "before": 3, "after": 2},
        "privacy.anonymised": {"count": 12, "older_than_days": 90},
        "mail.retried": {"message_id": 1},
        "texts.sent": {
            "text_send_id": 1,
            "audience_label": "everyone registered for the summit",
            "recipients": 30,
            "fragments": 2,
        },
        "badge.role_changed": {"before": "delegate", "after": "speaker"},
        "badges.printed": {"filter": "new", "layout": "a6-2x2", "count": 4},
        "badge.reprinted": {"via": "scanner", "printed": {"1": "abc"}},
        "badges.no_place_printed": {"count": 3, "bands": {"staff": 2, "speaker": 1}, "layout": "a6-2x2"},
        "checkin.undone": {"event": "summit"},
        "fringe.changed": {"event_id": 999, "title": "Gone", "changes": [["When", "Mon", "Tue"]], "notified": 2},
        "fringe.cancelled": {"event_id": 999, "title": "Gone", "reason": "Snow", "notified": 1},
        "fringe.counter_repaired": {"event_id": 999, "slug": "gone", "before": 3, "after": 2},
        "staff.invited": {"user_id": ann.id, "role": "steward"},
        "staff.invitation_resent": {"user_id": ann.id},
        "staff.joined": {"user_id": ann.id, "with_password": True},
        "staff.role_changed": {
            "user_id": ann.id,
            "before": "organiser",
            "after": "steward",
            "signed_out": True,
            "tokens_revoked": 1,
        },
        "staff.password_reset": {"user_id": ann.id, "tokens_revoked": 0},
    }
    events = [
        AuditEvent(
            action=kind, actor_id=ann.id, actor_label="Ann Smith", invitation_id=jane.id, details=samples.get(kind, {})
        )
        for kind in SENTENCES
    ]
    names = Names.for_events(events)
    with app.test_request_context():
        said_all = {event.action: words(sentence(event, names)) for event in events}
    for event in events:
        said = said_all[event.action]
        assert said.endswith((".", "”")), (event.action, said)
        assert event.action not in said and "{" not in said and "None" not in said and "#" not in said, (
            event.action,
            said,
        )
        assert "Ann Smith" in said or "Jane Doe" in said or event.action == "privacy.anonymised", (event.action, said)


def test_an_unknown_action_still_reads_as_words_not_json(app):
    event = AuditEvent(action="summit.something_new", actor_label="Ann Smith", details={"count": 3, "deep": {"x": 1}})
    said = words(sentence(event, Names.for_events([event])))
    assert said == "Ann Smith — summit: something new. count: 3." and "{" not in said


def test_the_audit_page_speaks_in_sentences_with_names_and_links(app, client):
    f.summit(capacity=350)
    ann = f.user(Role.ORGANISER, name="Ann Smith")
    leo = f.user(Role.LEADER, name="Leo Leader")
    jane = f.invitation(name="Jane Doe", champion=leo)
    chasing.set_dont_chase(jane, leo, True)
    db.session.commit()
    f.sign_in(client, ann)
    assert client.post("/organiser/summit", data=summit_form(capacity="320", target="300")).status_code == 302
    event = ff.event("Digital by default")
    audit.record("fringe.created", actor=ann, event_id=event.id, title=event.title)
    db.session.commit()

    html = client.get("/organiser/audit/").get_data(as_text=True).replace("&#39;", "'")

    assert "Ann Smith changed the capacity from 350 to 320; the target from 300 to 300" not in html
    assert "Ann Smith changed the capacity from 350 to 320" in html
    assert (
        f'<a href="/organiser/leaders/{leo.id}">Leo Leader</a> stopped chasing '
        f'<a href="/organiser/invitations/{jane.id}">Jane Doe</a>.' in html
    )
    assert f'Ann Smith added the fringe event <a href="/organiser/fringe/{event.id}">Digital by default</a>.' in html
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "leader.dont_chase" not in body and f"#{jane.id}" not in body and '{"' not in body
    assert 'data-label="When"' in body and 'data-label="What happened"' in body
    # The filter speaks in words too, and still filters.
    assert '<option value="leader.">Leaders\' chasing</option>' in html
    filtered = client.get("/organiser/audit/?action=leader.").get_data(as_text=True)
    assert "stopped chasing" in filtered and "changed the capacity" not in filtered
    # The person's own page tells their history in the same sentences.
    page = client.get(f"/organiser/invitations/{jane.id}").get_data(as_text=True)
    assert "stopped chasing" in page
    settings = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "summit.configured")).one().details
    assert settings["settings"][0] == ["capacity", "350", "320"]


def test_an_edit_of_the_summits_line_on_why_it_matters_is_said_not_lost(app, client):
    """The audit policy lives in the service (summit_changes.edit_summit): an edit of the text alone is a change."""
    f.summit(capacity=200, target=180, tagline="Shaping Suffolk's innovation strategy.")
    ann = f.user(Role.ORGANISER, name="Ann Smith")
    db.session.commit()
    f.sign_in(client, ann)
    form = summit_form(tagline="Where Suffolk's public services meet the people most likely to innovate.")
    assert client.post("/organiser/summit", data=form).status_code == 302
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "summit.configured"))
    assert [
        "line on why it matters",
        "Shaping Suffolk's innovation strategy.",
        "Where Suffolk's public services meet the people most likely to innovate.",
    ] in event.details["settings"]
    html = client.get("/organiser/audit/").get_data(as_text=True)
    assert "without changing them" not in html
    assert "the line on why it matters from Shaping Suffolk&#39;s innovation strategy. to Where" in html


def test_the_audit_page_lists_and_filters_actions(app, client):
    f.summit()
    organiser = f.user(name="Olive Organiser")
    f.sign_in(client, organiser)
    client.post(
        "/organiser/invitations/new",
        data={"email": "new@example.org", "name": "New Person", "organisation": "Babergh", "champion_id": "0"},
    )
    inv = db.session.scalars(select(Invitation)).one()
    client.post(
        f"/organiser/invitations/{inv.id}/edit",
        data={"email": "new@example.org", "name": "Renamed Person", "organisation": "Babergh", "champion_id": "0"},
    )
    page = client.get("/organiser/audit/?action=invitation.updated").get_data(as_text=True)
    assert "Olive Organiser" in page and "Renamed Person" in page and "New Person" in page  # before and after
    assert "invitation.created" not in page.split("<tbody>")[1]
    assert client.get("/organiser/audit/?invitation=abc").status_code == 400


def test_audit_page_is_for_organisers_only(app, client):
    from app.core.auth.models import Role

    leader = f.user(role=Role.LEADER)
    f.sign_in(client, leader)
    assert client.get("/organiser/audit/").status_code == 403
