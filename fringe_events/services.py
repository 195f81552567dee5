"""The fringe programme's services in one place, for views, commands and tests: each lives in the module
of its purpose (programme, signups, calendars, delegate_view, attendance_lists, history, notifications)
and is named here.
"""

from __future__ import annotations

from fringe_events.attendance_lists import (  # noqa: F401
    AttendanceSheet,
    SheetRow,
    attendance_sheet,
    attended_ids,
    event_ref,
    mark_attended,
    record_walk_in,
    search_invitees,
    undo,
)
from fringe_events.calendars import (  # noqa: F401
    AddLinks,
    event_add_links,
    event_url,
    fringe_calendar_event,
    google_calendar_url,
    outlook_calendar_url,
    personal_calendar,
    personal_calendar_events,
    personal_calendar_links,
    place_of,
    place_text,
    public_event_calendar,
    public_summit_calendar,
    webcal_url,
)
from fringe_events.delegate_view import Programme, ProgrammeItem, programme_for, programme_item  # noqa: F401
from fringe_events.history import EventSummary, HistoryRow, WarmUpHistory, event_summaries, warm_up_history  # noqa: F401
from fringe_events.notifications import tell_one, tell_signed_up  # noqa: F401
from fringe_events.programme import (  # noqa: F401
    EventData,
    EventUpdate,
    all_events,
    cancel_event,
    create_event,
    describe_changes,
    event_by_slug,
    event_changes,
    get_event,
    reinstate_event,
    slugify,
    update_event,
)
from fringe_events.signups import (  # noqa: F401
    FringeFull,
    cancel_signup,
    find_signup,
    is_signed_up,
    release_place,
    release_signups,
    sign_up,
    take_place,
    transfer_signups,
)
