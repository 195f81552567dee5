"""Deterministic, fictional demo data for The Lives we Lead: New Horizons summit (pure data, stdlib only)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from app.core.demo_names import FIRST_NAMES, LAST_NAMES


@dataclass(frozen=True)
class DemoLeader:
    email: str
    name: str
    job_title: str
    organisation: str


@dataclass(frozen=True)
class DemoInvitee:
    email: str
    name: str
    organisation: str
    job_title: str
    sector: str
    champion_email: str
    state: str


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    sector: str
    domain: str
    weight: int
    leader_emails: tuple[str, ...] = ()
    job_titles: tuple[str, ...] = ()


SECTORS = ("Local government", "Police and fire", "Health", "Voluntary and community", "Business", "Education")

INVITEE_STATES = ("not_sent", "sent", "opened", "registered", "declined", "waitlisted")
SUMMIT_CAPACITY = 350
MAX_REGISTERED = 280
MIN_PER_CHAMPION = 8
MAX_PER_CHAMPION = 35
_SAME_ORG_CAP = 30

_SUFFIX = ".example.org.uk"

# Organisation name -> fictional email domain.
_D = {
    "Suffolk County Council": "suffolkcc",
    "Babergh District Council": "babergh",
    "Forest Heath District Council": "forestheath",
    "Ipswich Borough Council": "ipswich",
    "Mid Suffolk District Council": "midsuffolk",
    "St Edmundsbury District Council": "stedmundsbury",
    "Suffolk Coastal District Council": "suffolkcoastal",
    "Waveney District Council": "waveney",
    "Government Office for the East of England": "go-east",
    "Improvement East": "improvementeast",
    "Suffolk Constabulary": "suffolkpolice",
    "Suffolk Fire and Rescue Service": "suffolkfire",
    "Suffolk PCT": "suffolkpct",
    "Ipswich Hospital NHS Trust": "ipswichhospital",
    "West Suffolk Hospital NHS Trust": "wsh",
    "Suffolk Mental Health Partnership NHS Trust": "smhp",
    "Out and About": "outandabout",
    "ISCRE": "iscre",
    "Suffolk Family Carers": "suffolkfamilycarers",
    "The Suffolk Foundation": "suffolkfoundation",
    "RSPB - East of England": "rspb-east",
    "Suffolk ACRE": "suffolkacre",
    "Age Concern Suffolk": "ageconcernsuffolk",
    "Citizens Advice Ipswich": "citizensadviceipswich",
    "BT Adastral Park": "bt-adastral",
    "Suffolk Chamber of Commerce": "suffolkchamber",
    "Choose Suffolk": "choosesuffolk",
    "Suffolk Development Agency": "suffolkdevelopment",
    "Orwell Digital Ltd": "orwelldigital",
    "Deben Valley Engineering Ltd": "debenvalley",
    "Gipping Software Co-operative": "gippingsoftware",
    "Stour Estuary Consulting": "stourestuary",
    "Felixstowe Freight Logistics": "felixstowefreight",
    "University Campus Suffolk": "ucs",
    "Suffolk New College": "suffolknewcollege",
    "West Suffolk College": "westsuffolkcollege",
    "Learning and Skills Council (Suffolk)": "lsc-suffolk",
    "Otley College": "otleycollege",
}


def _domain(organisation: str) -> str:
    return _D[organisation] + _SUFFIX


def _slug(text: str) -> str:
    return re.sub(r"[^a-z-]", "", text.lower().replace(" ", "-"))


def _email_local(name: str) -> str:
    first, _, last = name.partition(" ")
    return f"{_slug(first)}.{_slug(last)}"


def _person(name: str, job_title: str, organisation: str, domain_org: str | None = None) -> DemoLeader:
    email = f"{_email_local(name)}@{_domain(domain_org or organisation)}"
    return DemoLeader(email=email, name=name, job_title=job_title, organisation=organisation)


# The Leadership Collaborative (report appendix). Organisation strings follow the report;
# domain_org maps each to the organisation record used for invitees.
LEADERS: tuple[DemoLeader, ...] = (
    _person("Steve Allman", "Chief Executive", "Out and About"),
    _person("Simon Ash", "Chief Constable", "Suffolk Constabulary"),
    _person("Andrew Bacon", "Market Development - Local Government/Public Sector", "BT", "BT Adastral Park"),
    _person("Stephen Baker", "Chief Executive", "Suffolk Coastal District Council"),
    _person("Jane Basham", "Chief Executive", "ISCRE"),
    _person("David Burnip", "Chief Executive", "Forest Heath District Council"),
    _person("Mike Dawson", "Corporate Director for Community", "St Edmundsbury District Council"),
    _person("Andrew Good", "Chief Executive", "Mid Suffolk District Council"),
    _person("Steve Green", "Suffolk Lead", "Government Office for the East of England"),
    _person("James Hehir", "Chief Executive", "Ipswich Borough Council"),
    _person("Julian Herbert", "Director of Finance & Performance", "Suffolk PCT"),
    _person("Andrea Hill", "Chief Executive", "Suffolk County Council"),
    _person("Celia Hodson", "Chief Executive", "Suffolk Development Agency"),
    _person("Richard Lister", "LEAP projects", "Suffolk University", "University Campus Suffolk"),
    _person("Jacqui Martin", "Chief Executive", "Suffolk Family Carers"),
    _person(
        "Judith Mobbs", "Area Director", "Suffolk Learning & Skills Council", "Learning and Skills Council (Suffolk)"
    ),
    _person("Richard Powell", "Director", "RSPB - East of England"),
    _person("Geoff Rivers", "Chief Executive", "St Edmundsbury District Council"),
    _person("Pat Rockall", "Chief Executive", "Babergh District Council"),
    _person("Stephen Singleton", "Chief Executive", "The Suffolk Foundation"),
    _person("Cecilia Tredget", "Director", "Improvement East"),
    _person("Andy Wright", "Head of Community & Economic Services", "Suffolk Coastal District Council"),
)

# The Cluster Support Group (report appendix), used as summit organisers.
ORGANISERS: tuple[DemoLeader, ...] = (
    _person("Michael Attwood", "Strategy Officer", "Suffolk County Council"),
    _person("Paul Banjo", "Policy Officer", "Mid Suffolk District Council"),
    _person("Jayne Brown", "Strategy Officer", "Suffolk County Council"),
    _person("Simon Pickering", "Youth and Community Development Officer", "St Edmundsbury District Council"),
    _person("Kevin Rodger", "Corporate Policy Officer", "Forest Heath District Council"),
)

# Invented check-in steward for the day.
STEWARD: DemoLeader = _person("Lucy Kettleburgh", "Events and Engagement Assistant", "Suffolk County Council")


def _L(*names: str) -> tuple[str, ...]:
    by_name = {leader.name: leader.email for leader in LEADERS}
    return tuple(by_name[n] for n in names)


_T_COUNCIL = (
    "Head of Policy and Performance",
    "Corporate Director",
    "Assistant Director, Adult Care",
    "Head of Children's Services",
    "Community Development Officer",
    "Head of Planning",
    "Economic Development Manager",
    "Partnership Manager",
    "Head of Housing",
    "Transformation Programme Manager",
    "Head of Customer Services",
    "Locality Manager",
    "Head of Finance",
    "Environmental Services Manager",
    "Democratic Services Manager",
    "Policy Officer",
    "Head of Strategic Procurement",
    "Councillor",
)
_T_POLICE = (
    "Assistant Chief Constable",
    "Chief Superintendent",
    "Superintendent",
    "Chief Inspector",
    "Inspector",
    "Safer Neighbourhood Team Sergeant",
    "Head of Corporate Development",
    "Community Safety Partnership Manager",
    "Police Community Support Officer Coordinator",
)
_T_FIRE = (
    "Chief Fire Officer",
    "Deputy Chief Fire Officer",
    "Area Manager",
    "Group Manager",
    "Station Manager",
    "Community Fire Safety Manager",
    "Watch Manager",
)
_T_HEALTH = (
    "Director of Public Health",
    "Director of Commissioning",
    "Consultant in Public Health",
    "Head of Health Improvement",
    "Service Improvement Lead",
    "Associate Director of Nursing",
    "Clinical Director",
    "Modern Matron",
    "Head of Partnerships",
    "Social Marketing Lead",
    "Consultant Geriatrician",
    "Patient Experience Manager",
)
_T_VOLUNTARY = (
    "Chief Executive",
    "Director",
    "Development Manager",
    "Volunteer Coordinator",
    "Community Engagement Officer",
    "Projects Manager",
    "Trustee",
    "Fundraising Manager",
    "Outreach Worker",
    "Operations Manager",
)
_T_BUSINESS = (
    "Managing Director",
    "Director",
    "Head of Innovation",
    "Business Development Manager",
    "Partner",
    "Operations Director",
    "Research Manager",
    "Marketing Manager",
    "Corporate Responsibility Manager",
    "Founder",
)
_T_EDUCATION = (
    "Principal",
    "Vice-Principal",
    "Dean of Faculty",
    "Head of Curriculum",
    "Senior Lecturer",
    "Head of Work-Based Learning",
    "Apprenticeships Manager",
    "Partnerships Director",
    "Research Fellow",
    "Student Services Manager",
)
_SECTOR_TITLES = {
    "Local government": _T_COUNCIL,
    "Police and fire": _T_POLICE,
    "Health": _T_HEALTH,
    "Voluntary and community": _T_VOLUNTARY,
    "Business": _T_BUSINESS,
    "Education": _T_EDUCATION,
}


def _org(
    name: str, sector: str, weight: int, leaders: tuple[str, ...] = (), titles: tuple[str, ...] = ()
) -> DemoOrganisation:
    return DemoOrganisation(name, sector, _domain(name), weight, leaders, titles or _SECTOR_TITLES[sector])


_LG, _PF, _HE, _VC, _BU, _ED = SECTORS

ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    _org("Suffolk County Council", _LG, 42, _L("Andrea Hill")),
    _org("Ipswich Borough Council", _LG, 22, _L("James Hehir")),
    _org("Babergh District Council", _LG, 13, _L("Pat Rockall")),
    _org("Forest Heath District Council", _LG, 11, _L("David Burnip")),
    _org("Mid Suffolk District Council", _LG, 13, _L("Andrew Good")),
    _org("St Edmundsbury District Council", _LG, 16, _L("Geoff Rivers", "Mike Dawson")),
    _org("Suffolk Coastal District Council", _LG, 16, _L("Stephen Baker", "Andy Wright")),
    _org("Waveney District Council", _LG, 14),
    _org("Government Office for the East of England", _LG, 5, _L("Steve Green")),
    _org("Improvement East", _LG, 4, _L("Cecilia Tredget")),
    _org("Suffolk Constabulary", _PF, 24, _L("Simon Ash"), _T_POLICE),
    _org("Suffolk Fire and Rescue Service", _PF, 12, (), _T_FIRE),
    _org("Suffolk PCT", _HE, 20, _L("Julian Herbert")),
    _org("Ipswich Hospital NHS Trust", _HE, 12),
    _org("West Suffolk Hospital NHS Trust", _HE, 10),
    _org("Suffolk Mental Health Partnership NHS Trust", _HE, 9),
    _org("Out and About", _VC, 5, _L("Steve Allman")),
    _org("ISCRE", _VC, 6, _L("Jane Basham")),
    _org("Suffolk Family Carers", _VC, 6, _L("Jacqui Martin")),
    _org("The Suffolk Foundation", _VC, 5, _L("Stephen Singleton")),
    _org("RSPB - East of England", _VC, 4, _L("Richard Powell")),
    _org("Suffolk ACRE", _VC, 7),
    _org("Age Concern Suffolk", _VC, 7),
    _org("Citizens Advice Ipswich", _VC, 6),
    _org("BT Adastral Park", _BU, 14, _L("Andrew Bacon")),
    _org("Suffolk Chamber of Commerce", _BU, 6),
    _org("Choose Suffolk", _BU, 5),
    _org("Suffolk Development Agency", _BU, 5, _L("Celia Hodson")),
    _org("Orwell Digital Ltd", _BU, 3),
    _org("Deben Valley Engineering Ltd", _BU, 3),
    _org("Gipping Software Co-operative", _BU, 3),
    _org("Stour Estuary Consulting", _BU, 2),
    _org("Felixstowe Freight Logistics", _BU, 3),
    _org("University Campus Suffolk", _ED, 10, _L("Richard Lister")),
    _org("Suffolk New College", _ED, 7),
    _org("West Suffolk College", _ED, 6),
    _org("Learning and Skills Council (Suffolk)", _ED, 5, _L("Judith Mobbs")),
    _org("Otley College", _ED, 4),
)

# Leaders who plausibly champion invitees from organisations without a leader of their own.
_SECTOR_CHAMPIONS: dict[str, tuple[str, ...]] = {
    _LG: _L("Stephen Baker", "Andy Wright", "Andrea Hill", "Steve Green", "Cecilia Tredget", "James Hehir"),
    _PF: _L("Simon Ash", "Andrea Hill", "Andy Wright", "David Burnip"),
    _HE: _L("Julian Herbert", "Jacqui Martin", "Mike Dawson", "Geoff Rivers", "Steve Allman"),
    _VC: _L("Stephen Singleton", "Jacqui Martin", "Jane Basham", "Steve Allman", "Richard Powell", "Mike Dawson"),
    _BU: _L("Andrew Bacon", "Celia Hodson", "Andy Wright", "Cecilia Tredget", "Richard Powell"),
    _ED: _L("Richard Lister", "Judith Mobbs", "Pat Rockall", "Steve Green", "Andrew Good"),
}

# Share of invitees per state; "registered" takes the remainder (capped at MAX_REGISTERED,
# overflow becomes "opened"). "waitlisted" is never used: the summit is not full.
_STATE_SHARES = (("not_sent", 0.05), ("sent", 0.16), ("opened", 0.17), ("declined", 0.10))


def _state_plan(count: int) -> list[str]:
    plan: list[str] = []
    for state, share in _STATE_SHARES:
        plan += [state] * round(count * share)
    plan = plan[:count]
    registered = count - len(plan)
    overflow = max(0, registered - MAX_REGISTERED)
    plan += ["registered"] * (registered - overflow) + ["opened"] * overflow
    return plan


def generate_invitees(count: int = 420, seed: int = 2009) -> list[DemoInvitee]:
    """Return ``count`` fictional invitees, identical for the same ``count`` and ``seed``."""
    rng = random.Random(seed)
    weights = [org.weight for org in ORGANISATIONS]
    load = {leader.email: 0 for leader in LEADERS}
    used = {p.email for p in (*LEADERS, *ORGANISERS, STEWARD)}
    states = _state_plan(count)
    rng.shuffle(states)

    invitees: list[DemoInvitee] = []
    for i in range(count):
        if i < len(SECTORS):  # guarantee every sector appears
            pool = [o for o in ORGANISATIONS if o.sector == SECTORS[i]]
            org = rng.choices(pool, [o.weight for o in pool])[0]
        else:
            org = rng.choices(ORGANISATIONS, weights)[0]
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        name = f"{first} {last}"
        base = _email_local(name)
        local, n = base, 1
        while f"{local}@{org.domain}" in used:
            n += 1
            local = f"{base}{n}"
        email = f"{local}@{org.domain}"
        used.add(email)

        own = [e for e in org.leader_emails if load[e] < _SAME_ORG_CAP]
        if own:
            champion = min(own, key=lambda e: load[e])
        else:
            candidates = _SECTOR_CHAMPIONS[org.sector]
            lowest = min(load[e] for e in candidates)
            champion = rng.choice([e for e in candidates if load[e] == lowest])
        load[champion] += 1

        invitees.append(
            DemoInvitee(
                email=email,
                name=name,
                organisation=org.name,
                job_title=rng.choice(org.job_titles),
                sector=org.sector,
                champion_email=champion,
                state=states[i],
            )
        )
    return invitees
