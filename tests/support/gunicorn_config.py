"""gunicorn's settings for the tests' servers (tests/support/servers.py passes `--config python:` this module).

A stopped server's processes leave without tearing down their interpreters: a worker forked from the preloaded
app would otherwise touch, and so copy, every page of the heap it shares with the master just to free it. That
cost over half a second of CPU for each worker, and 2 to 5 seconds of waiting for a server of 4, at every stop.
A worker forked just as its server stops still hears the stop (post_worker_init).
"""

import logging
import os
import queue
import signal
import sys

# The control socket is one path in $HOME for every gunicorn on the machine: the tests' servers, several at a
# time, would only take it from each other. Nothing in the tests uses it.
control_socket_disable = True


def _leave_now() -> None:
    logging.shutdown()  # what the interpreter's exit would have flushed: the log lines
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def post_fork(server, worker) -> None:
    """Keep the master's signal queue, as this worker's copy: see post_worker_init."""
    worker.signals_before_its_own = server.SIG_QUEUE


def post_worker_init(worker) -> None:
    """A stop the master had not handled yet when it forked this worker, or one that reached the worker before
    its own signal handlers, is in this process's copy of the master's queue, where nobody reads it: the master
    would wait out its 30 s graceful timeout for a worker that never heard (a server stopped just after it replaced
    a killed worker did). Such a stop is given again, to the worker's own handlers."""
    stops = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}
    while True:
        try:
            received = worker.signals_before_its_own.get_nowait()
        except queue.Empty:
            return
        if received in stops:
            os.kill(os.getpid(), received)
            return


def worker_exit(server, worker) -> None:
    """Run on the way out of every worker; a clean exit (the server stopping) is cut short, any other keeps its
    status, so that a worker that can't boot still stops the server."""
    leaving = sys.exc_info()[1]
    if isinstance(leaving, SystemExit) and leaving.code in (0, None):
        _leave_now()


def on_exit(server) -> None:
    """Run by the master's halt(): after a SIGTERM or SIGINT (whose handlers raise StopIteration or
    KeyboardInterrupt) it leaves at once; a halt for a failure (HaltServer) keeps its exit status."""
    if isinstance(sys.exc_info()[1], (StopIteration, KeyboardInterrupt)):
        _leave_now()
