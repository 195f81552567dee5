"""Bad input gets a 4xx or a sensible answer, never a 500: page numbers, download names, control characters."""

from __future__ import annotations

from app.core import audit
from app.core.db import db
from invitations import services
from tests import factories as f
from tests.support import both_databases

# --- page numbers on the organisers' long lists ------------------------------------------------------------

# What each asks for: the last page (past the end) or the first.
BAD_PAGES = {
    "9223372036854775807": "last",
    "9223372036854775808": "last",
    "1" + "0" * 5000: "last",
    "4": "last",
    "-1": "first",
    "-9223372036854775809": "first",
    "0": "first",
    "two": "first",
    "": "first",
    "1e9": "first",
}


def fill_every_list() -> None:
    """Three pages of invitees (50 a page), two of outbox messages (50) and two of audit events (100)."""
    f.summit()
    people = [f.invitation() for _ in range(120)]
    for person in people[:60]:
        services.send_invitation(person)
    for n in range(101):
        audit.record("test.event", actor_label=f"Tester {n}")
    db.session.commit()


def shown(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


@both_databases
def test_every_organiser_pager_clamps_a_bad_page_number(app, client):
    fill_every_list()
    f.sign_in(client, f.user())
    for bad, expected in BAD_PAGES.items():
        past_the_end = expected == "last"
        invitations = shown(client, f"/organiser/invitations?page={bad}")
        assert ("Page 3 of 3" if past_the_end else "Page 1 of 3") in invitations, bad[:30]
        for path in ("/organiser/mail/", "/organiser/audit/"):
            page = shown(client, f"{path}?page={bad}")
            if past_the_end:  # the last page: a way back, none further
                assert ">Newer</a>" in page and ">Older</a>" not in page, (path, bad[:30])
            else:  # the first page
                assert ">Newer</a>" not in page and ">Older</a>" in page, (path, bad[:30])


@both_databases
def test_a_good_page_number_still_pages(app, client):
    fill_every_list()
    f.sign_in(client, f.user())
    assert "Page 2 of 3" in shown(client, "/organiser/invitations?page=2")
    assert "Page 2 of 3" in shown(client, "/organiser/invitations?page=2&state=invited")
    last = shown(client, "/organiser/mail/?page=2")
    assert ">Newer</a>" in last and ">Older</a>" not in last
