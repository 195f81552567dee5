"""The app with a pause inside the registration transaction, for the SIGKILL fault test (run by gunicorn).

After the place is taken and before the commit, the worker writes its pid to FAULT_MARKER and sleeps,
so the test can kill it at the worst moment.
"""
import os
import time
from pathlib import Path

from app import create_app
from app.summit import services as summit_services
from config import TestingConfig

_take_place = summit_services.take_place


def _take_place_then_pause(summit_id: int) -> bool:
    taken = _take_place(summit_id)
    Path(os.environ["FAULT_MARKER"]).write_text(str(os.getpid()))
    time.sleep(30)
    return taken


summit_services.take_place = _take_place_then_pause
_config = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
_config.update(DATABASE_URL=os.environ["FAULT_DATABASE_URL"])
app = create_app(_config)
