"""Unit tests for the pure demo data module."""

from collections import Counter

from app.core.demo_data import LEADERS, ORGANISERS, SECTORS, STEWARD, generate_invitees

ALLOWED_STATES = {"not_sent", "sent", "opened", "registered", "declined", "waitlisted"}


def test_leaders_and_organisers():
    assert len(LEADERS) == 22
    assert len(ORGANISERS) == 5
    emails = [p.email for p in (*LEADERS, *ORGANISERS, STEWARD)]
    assert len(set(emails)) == len(emails)
    assert all(e == e.lower() and e.endswith(".example.org.uk") for e in emails)
    assert "andrea.hill@suffolkcc.example.org.uk" in emails


def test_deterministic():
    assert generate_invitees() == generate_invitees()
    assert generate_invitees(50, seed=7) == generate_invitees(50, seed=7)
    assert generate_invitees(50, seed=7) != generate_invitees(50, seed=8)


def test_420_unique_lowercase_emails():
    invitees = generate_invitees()
    emails = [i.email for i in invitees]
    assert len(emails) == 420
    assert len(set(emails)) == 420
    assert all(e == e.lower() and e.endswith(".example.org.uk") for e in emails)
    staff = {p.email for p in (*LEADERS, *ORGANISERS, STEWARD)}
    assert not staff & set(emails)


def test_champions_are_leaders_with_balanced_load():
    invitees = generate_invitees()
    leader_emails = {leader.email for leader in LEADERS}
    assert all(i.champion_email in leader_emails for i in invitees)
    load = Counter(i.champion_email for i in invitees)
    for email in leader_emails:
        assert 8 <= load[email] <= 35, (email, load[email])


def test_same_org_leader_champions():
    invitees = generate_invitees()
    load = Counter(i.champion_email for i in invitees)
    by_domain = {}
    for leader in LEADERS:
        by_domain.setdefault(leader.email.split("@")[1], []).append(leader.email)
    for i in invitees:
        own = by_domain.get(i.email.split("@")[1])
        if own and i.champion_email not in own:
            # only allowed once the organisation's own leaders are full
            assert all(load[e] >= 30 for e in own), i


def test_states():
    invitees = generate_invitees()
    states = Counter(i.state for i in invitees)
    assert set(states) <= ALLOWED_STATES
    assert states["registered"] <= 280
    assert states["waitlisted"] == 0
    for s in ("not_sent", "sent", "opened", "registered", "declined"):
        assert states[s] > 0
    assert Counter(i.state for i in generate_invitees(1000))["registered"] <= 280


def test_all_sectors_used():
    sectors = {i.sector for i in generate_invitees()}
    assert sectors == set(SECTORS)
    assert {i.sector for i in generate_invitees(6, seed=1)} == set(SECTORS)
