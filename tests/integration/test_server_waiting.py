"""Waiting for a server to start: slow, silent or dying servers are told apart, never mistaken for each other."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading

import pytest

from tests.support.servers import free_port, wait_until_serving


def python(code: str, log_path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=log, stderr=subprocess.STDOUT)


def test_a_server_that_is_slow_to_listen_is_waited_for(tmp_path):
    port = free_port()
    server = python(
        f"""
        import time
        from http.server import BaseHTTPRequestHandler, HTTPServer
        time.sleep(2)  # booting: connections are refused meanwhile
        class Ok(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
        HTTPServer(("127.0.0.1", {port}), Ok).serve_forever()
    """,
        tmp_path / "slow.log",
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", server, tmp_path / "slow.log")
        assert server.poll() is None
    finally:
        server.kill()
        server.wait()


def test_a_server_that_accepts_but_answers_late_is_waited_for_not_timed_out(tmp_path):
    """A loaded machine's server takes the connection and answers after the client's timeout: try again."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held, answered = [], threading.Event()

    def serve():
        while not answered.is_set():
            connection, _ = listener.accept()
            if len(held) < 2:  # the first two attempts get no answer at all
                held.append(connection)
                continue
            connection.recv(65536)
            answered.set()  # before the answer: the client may return, and the test look, before this thread runs on
            connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    process = python("import time; time.sleep(60)", tmp_path / "late.log")  # stands for the server's process
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", process, tmp_path / "late.log", attempt_seconds=0.5)
        assert answered.is_set() and len(held) == 2
    finally:
        process.kill()
        process.wait()
        for connection in held:
            connection.close()
        listener.close()


def test_a_server_that_dies_fails_at_once_with_what_it_logged(tmp_path):
    server = python(
        "import sys; print('cannot bind: address in use', file=sys.stderr); sys.exit(3)", tmp_path / "dead.log"
    )
    with pytest.raises(RuntimeError, match=r"exited with 3(.|\n)*cannot bind: address in use"):
        wait_until_serving(f"http://127.0.0.1:{free_port()}/", server, tmp_path / "dead.log")


def test_a_server_that_never_answers_fails_after_the_deadline_with_its_log(tmp_path):
    server = python("print('still booting…', flush=True); import time; time.sleep(60)", tmp_path / "mute.log")
    try:
        with pytest.raises(RuntimeError, match=r"did not answer within 2 s(.|\n)*still booting"):
            wait_until_serving(f"http://127.0.0.1:{free_port()}/", server, tmp_path / "mute.log", deadline_seconds=2)
    finally:
        server.kill()
        server.wait()
