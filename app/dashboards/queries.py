"""Read models for the leader's page, the organisers' dashboard and the exports, in one place: each lives
in the module of its page (leader_page, organiser_page, exports, and the shared measures) and is named here.
"""

from __future__ import annotations

from app.dashboards.exports import NOTE_WORDS, attendance_rows, delegates_rows, follow_up_rows, needs_rows  # noqa: F401
from app.dashboards.leader_page import (  # noqa: F401
    GROUPS,
    Group,
    HistoryEntry,
    LeaderPage,
    Person,
    leader_history,
    leader_page,
    leaders,
)
from app.dashboards.measures import arrived_query, percent, share_of_target, warmed_up_query  # noqa: F401
from app.dashboards.organiser_page import (  # noqa: F401
    FUNNEL,
    Bounce,
    Breakdown,
    ChampionRow,
    Day,
    FringeRow,
    Overview,
    bounces,
    breakdown,
    champions,
    fringe_attendance,
    organiser_overview,
    registrations_per_day,
    state_and_funnel,
)
