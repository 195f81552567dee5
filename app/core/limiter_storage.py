"""The in-process rate-limit store: the `limits` package's memory store without its expiry thread.

Upstream's store starts a `threading.Timer` whenever the last one has finished, which under steady traffic
is about one new thread per request. This one sweeps expired counters on the way instead, at most once a
second. Importing this module makes it what `memory://` means. Several worker processes each count on their
own with it, so production uses Redis (`RATELIMIT_STORAGE_URI=redis://…`), or one process (see README).
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

from limits.storage import MemoryStorage
from limits.storage.base import Storage

SWEEP_SECONDS = 1.0


class InProcessStorage(MemoryStorage):
    STORAGE_SCHEME = ["memory"]  # noqa: RUF012  (how limits registers a scheme)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        # The upstream attributes, without the timer the upstream constructor starts.
        self.storage = Counter()
        self.locks = defaultdict(threading.RLock)
        self.expirations = {}
        self.events = {}
        self._next_sweep = 0.0
        self._sweeping = threading.Lock()
        Storage.__init__(self, uri, wrap_exceptions=wrap_exceptions, **options)

    def __getstate__(self):  # pragma: no cover - only used if the store were pickled
        state = self.__dict__.copy()
        del state["locks"], state["_sweeping"]
        return state

    def __setstate__(self, state) -> None:  # pragma: no cover
        self.__dict__.update(state)
        self.locks = defaultdict(threading.RLock)
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self) -> None:
        """Called by every hit: drop expired counters now and then, in the caller's thread."""
        now = time.monotonic()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]
        finally:
            self._sweeping.release()
