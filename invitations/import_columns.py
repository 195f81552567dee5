"""Which column of an invitee list holds which field: matched by the headings' meaning ("Email address", "Full
name", "Council"), or as an organiser chose, and the choice remembered for the next file with those headings."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from app.core.db import db, utcnow
from invitations.models import ImportLayout

FIELDS = ("email", "name", "organisation", "job_title", "champion_email")
REQUIRED = ("email", "name", "organisation")
IGNORE = "ignore"
LABELS = {
    "email": "email",
    "name": "name",
    "organisation": "organisation",
    "job_title": "job title",
    "champion_email": "champion email",
    IGNORE: "ignore",
}

# Headings with case, spaces and punctuation taken out.
_MEANINGS = {
    "email": {"email", "emailaddress", "mail", "emailaddr", "workemail", "contactemail", "inviteeemail"}
    | {"delegateemail", "emails", "emailid"},
    "name": {"name", "fullname", "delegatename", "inviteename", "contactname", "attendeename", "attendee"}
    | {"delegate", "invitee", "person", "firstnameandsurname", "nameandsurname", "names"},
    "organisation": {"organisation", "organization", "org", "council", "authority", "localauthority"}
    | {"organisationname", "organizationname", "company", "employer", "agency", "councilname", "partner"},
    "job_title": {"jobtitle", "role", "position", "jobrole", "post", "designation", "roletitle"},
    "champion_email": {"championemail", "champion", "championsemail", "championemailaddress", "leaderemail"}
    | {"leader", "leadersemail", "invitedby", "sponsoremail", "champions"},
}
_BY_KEY = {key: name for name, keys in _MEANINGS.items() for key in keys}


def heading_key(heading: str) -> str:
    return re.sub(r"[\W_]+", "", heading.casefold())


def meaning_of(heading: str) -> str:
    return _BY_KEY.get(heading_key(heading), IGNORE)


@dataclass
class Columns:
    """One choice per column (a field or IGNORE), and what keeps the file from being read."""

    choices: list[str]
    how: str  # "headings", "chosen" (for this file) or "remembered" (from an earlier file with these headings)
    problems: list[str] = field(default_factory=list)

    def position(self, name: str) -> int | None:
        return self.choices.index(name) if name in self.choices else None


def layout_key(headings: list[str]) -> str:
    return hashlib.sha256("\x1f".join(heading_key(h) for h in headings).encode()).hexdigest()


def column_name(index: int) -> str:
    """A, B, … Z, AA: as the spreadsheet names the column."""
    name = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        name = chr(65 + remainder) + name
    return name


def describe(index: int, headings: list[str]) -> str:
    heading = headings[index].strip() if index < len(headings) else ""
    return f"column {column_name(index)} “{heading}”" if heading else f"column {column_name(index)} (no heading)"


def decide(headings: list[str], chosen: list[str] | None, remembered: list[str] | None) -> Columns:
    """The columns as chosen for this file, else as remembered for these headings, else by the headings' meaning."""
    if chosen is not None and len(chosen) == len(headings):
        columns = Columns(list(chosen), "chosen")
    elif remembered is not None and len(remembered) == len(headings):
        columns = Columns(list(remembered), "remembered")
    else:
        columns = Columns([meaning_of(h) for h in headings], "headings")
    for name in FIELDS:
        where = [i for i, choice in enumerate(columns.choices) if choice == name]
        if len(where) > 1:
            listed = " and ".join(describe(i, headings) for i in where)
            columns.problems.append(f"Both {listed} could be the {LABELS[name]}: choose one.")
        elif not where and name in REQUIRED:
            columns.problems.append(f"No column is the {LABELS[name]}: choose which one is.")
    return columns


def remembered_columns(headings: list[str]) -> list[str] | None:
    layout = db.session.get(ImportLayout, layout_key(headings))
    if layout is None or not isinstance(layout.columns, list):
        return None
    return [choice if choice in LABELS else IGNORE for choice in layout.columns]


def remember_columns(headings: list[str], choices: list[str], user_id: int | None) -> None:
    """Keep an organiser's choice for every later file with these headings (for every organiser)."""
    key = layout_key(headings)
    layout = db.session.scalars(select(ImportLayout).where(ImportLayout.key == key).with_for_update()).first()
    if layout is None:
        layout = ImportLayout(key=key)
        db.session.add(layout)
    layout.headings = [h.strip()[:200] for h in headings]
    layout.columns = list(choices)
    layout.chosen_by_id = user_id
    layout.chosen_at = utcnow()
    db.session.flush()
