"""A stand-in for SendGrid's v3 mail-send API on 127.0.0.1: checks and records payloads, fails on demand."""

from __future__ import annotations

import json
from collections import Counter

from tests.support.servers import JsonHandler, RecordingStandIn

API_KEY = "SG.test-key"


class StandIn(RecordingStandIn):
    """`plan` decides each request's status: a callable (request number -> status), default always 202."""

    ACCEPTED = 202
    NAME = "sendgrid-stand-in"

    def outbox_ids(self) -> Counter:
        return Counter(int(p["custom_args"]["outbox_id"]) for p in self.accepted)

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with standin.lock:
                    standin.requests += 1
                    number = standin.requests
                if self.path != "/v3/mail/send":
                    return self._answer(404, {"errors": [{"message": "not found"}]})
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self._answer(401, {"errors": [{"message": "bad key"}]})
                try:
                    payload = json.loads(raw)
                    problem = check_payload(payload)
                except ValueError:
                    problem = "body is not JSON"
                if problem:
                    standin.rejected.append((400, problem))
                    return self._answer(400, {"errors": [{"message": problem}]})
                status = standin.plan(number)
                if status == 202:
                    with standin.lock:
                        standin.accepted.append(payload)
                    return self._answer(202, None, {"X-Message-Id": f"sgmsg{number}"})
                standin.rejected.append((status, "planned failure"))
                headers = {"Retry-After": "0"} if status == 429 else {}
                return self._answer(status, {"errors": [{"message": f"planned {status}"}]}, headers)

        return Handler


def check_payload(payload: dict) -> str | None:
    """The parts of SendGrid's v3 schema we rely on; None when the payload is acceptable."""
    try:
        to = payload["personalizations"][0]["to"][0]["email"]
        sender = payload["from"]["email"]
        subject = payload["subject"]
        content_types = [c["type"] for c in payload["content"]]
    except (KeyError, IndexError, TypeError) as error:
        return f"missing field: {error}"
    if "@" not in to or "@" not in sender:
        return "bad address"
    if not subject:
        return "empty subject"
    if content_types[:2] != ["text/plain", "text/html"]:
        return f"content must be text/plain then text/html, got {content_types}"
    if "outbox_id" not in payload.get("custom_args", {}):
        return "custom_args.outbox_id missing"
    for item in payload.get("attachments", []):
        if not item.get("content") or not item.get("filename"):
            return "attachment without content or filename"
    if to.endswith("@reject.example"):
        return "does not accept mail for this domain"
    return None
