"""Check-in, as the scanner routes and the API call it: one name for each piece, wherever it lives.

- app.checkin.scans: what a scanned code means at an event (the statuses DESIGN.md specifies), the
  attendance it writes, the scan log, nonce replays and undo;
- app.checkin.door: the events a door can admit to and the one on today, the expected list, counts and the
  name search;
- app.checkin.overview: the organisers' overview (the scan log, arrivals, who has not arrived).
"""

from app.checkin.door import (
    DoorEvent,
    code_for_ref,
    counts,
    default_event,
    door_events,
    expected_people,
    expected_query,
    is_today,
    search,
    today_event,
)
from app.checkin.overview import LogRow, arrivals, not_arrived, scan_log_query, scan_log_rows, status_counts
from app.checkin.scans import (
    ADMITTED,
    ALREADY,
    CANCELLED,
    INCOMPLETE,
    INVALID,
    NOT_REGISTERED,
    OK,
    UNDONE,
    WRONG_EVENT,
    MalformedScan,
    NonceTaken,
    Scan,
    check_in,
    find_by_code,
    looks_like_code,
    needs_of,
    parse_scan,
    person_of,
    replay,
    undo,
    usable_event,
)

__all__ = [
    "ADMITTED",
    "ALREADY",
    "CANCELLED",
    "INCOMPLETE",
    "INVALID",
    "NOT_REGISTERED",
    "OK",
    "UNDONE",
    "WRONG_EVENT",
    "DoorEvent",
    "LogRow",
    "MalformedScan",
    "NonceTaken",
    "Scan",
    "arrivals",
    "check_in",
    "code_for_ref",
    "counts",
    "default_event",
    "door_events",
    "expected_people",
    "expected_query",
    "find_by_code",
    "is_today",
    "looks_like_code",
    "needs_of",
    "not_arrived",
    "parse_scan",
    "person_of",
    "replay",
    "scan_log_query",
    "scan_log_rows",
    "search",
    "status_counts",
    "today_event",
    "undo",
    "usable_event",
]
