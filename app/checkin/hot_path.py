"""A scanner's summit check-in at the door, the hot path of POST /api/v1/checkin: Core statements on the session's
connection, no ORM objects and no unit of work.

One SELECT asks the token (a revoked token, or a deactivated or signed-out account, is refused on its very next
scan) and finds the person with their registration, their attendance and who checked them in, and the summit's
dates; then the attendance and the scan log, each one `INSERT … ON CONFLICT DO NOTHING RETURNING`; then the commit.
The rules and the answers are scans.py's own (scans.admit, scans.log_scan): two doors scanning one badge at once get
one `ok` between them (the unique constraint decides), a nonce already in the log replays its first answer and
writes nothing, and every scan is logged. Anything else (a fringe event, a reference instead of a code, a body the
API refuses, a token that doesn't work) takes the general path in api.py.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, bindparam

from app.checkin import scans
from app.checkin.scans import NonceTaken, Scan
from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from fringe_events.models import SUMMIT_EVENT_KEY
from invitations.models import Invitation

_INVITATION = Invitation.__table__
# Built once. The token's row and its account's, then the person with the code (no row: the token doesn't work; a
# row without a person: no invitation has the code).
_STATEMENT = credentials.caller_select(
    *scans.look_up_columns(fringe=False),
    joined=lambda base: scans.person_joins(base.outerjoin(_INVITATION, _INVITATION.c.code == bindparam("code"))),
)


def _look_up(connection: Connection, token_hash: str, code: str | None):
    """One statement (_STATEMENT): no row if the token doesn't work; a row without a person if no one has the code."""
    return connection.execute(
        _STATEMENT, {"token_hash": token_hash, "code": code, "event_key": SUMMIT_EVENT_KEY}
    ).first()


def check_in(token_hash: str, scan: Scan, roles: Collection[Role]) -> dict | None:
    """Answer one summit scan and log it, committed: the answer, or None when the token (its hash given) doesn't
    work or its account has none of `roles` (nothing is written then, and the caller refuses as the general path
    does). The caller has counted the scanner's rate limit. A nonce this steward sent before gets its first answer
    again."""
    now = utcnow()
    code = scan.code if scans.looks_like_code(scan.code) else None  # not one of ours: no person to look for
    session = db.session
    connection = session.connection()  # on SQLite its BEGIN IMMEDIATE takes the write lock: a POST
    row = _look_up(connection, token_hash, code)
    if row is None or row.caller_role not in roles:
        session.rollback()
        return None
    caller = credentials.caller_from_row(row, token_hash, connection)
    if row.id is None:
        answer, invitation_id = scans.answer_for_unknown(scan.code), None
    else:
        answer, invitation_id = scans.admit(connection, caller, row, scans.SUMMIT_REF, scan, now), row.id
    logged = scans.log_scan(
        caller,
        scan,
        answer["status"],
        invitation_id,
        SUMMIT_EVENT_KEY,
        answer,
        nonce=scan.nonce,
        now=now,
        connection=connection,
    )
    if logged:
        session.commit()
        return answer
    session.rollback()
    # This nonce was answered before (a retry, perhaps racing its original): answer as the first time.
    replayed = scans.replay(caller, scan.nonce)
    if replayed is None:
        raise NonceTaken(scan.nonce)
    return replayed
