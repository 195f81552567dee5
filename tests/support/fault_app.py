"""The served test app with a pause inside the registration transaction, for the SIGKILL fault test.

After the place is taken and before the commit, the worker writes its pid to FAULT_MARKER and sleeps,
so the test can kill it at the worst moment. The pause outlasts any wait for the kill, however loaded the
machine (and stays under gunicorn's 120 s worker timeout, so only the test kills the worker).
"""

import os
import time
from pathlib import Path

from app.core.summit import capacity as summit_capacity
from tests.support.served_app import app  # noqa: F401  (what gunicorn serves; registration looks take_place up at each call)

PAUSE_SECONDS = 100
_take_place = summit_capacity.take_summit_place


def _take_place_then_pause(summit_id: int) -> bool:
    taken = _take_place(summit_id)
    marker = Path(os.environ["FAULT_MARKER"])
    partial = marker.with_name(marker.name + ".partial")
    partial.write_text(str(os.getpid()))
    partial.replace(marker)  # the test sees the marker whole, or not at all (never empty, mid-write)
    time.sleep(PAUSE_SECONDS)
    return taken


summit_capacity.take_summit_place = _take_place_then_pause
