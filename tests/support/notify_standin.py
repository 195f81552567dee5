"""A stand-in for GOV.UK Notify's POST /v2/notifications/email and /v2/notifications/sms on 127.0.0.1: checks the client's signed token as
Notify does (HS256 with the API key's secret part, `iss` the service id, `iat` within 30 seconds), checks and
records what it is sent, answers as Notify answers, and fails on demand."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import jwt

from tests.support import PATIENCE_SECONDS
from tests.support.apps import make_app
from tests.support.servers import JsonHandler, RecordingStandIn

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-456d-8c7a-28f4d6e8d6b8"
API_KEY = f"new_horizons_test-{SERVICE_ID}-{SECRET}"
TEMPLATE_ID = "f33517ff-2a88-4f6e-b855-c550268ce08a"
SMS_TEMPLATE_ID = "7c0f2c4e-5d1b-4b63-9a3e-1f6f0f2d9b11"
CALLBACK_TOKEN = "notify-callback-token-for-tests-only"
TOKEN_BOUND_SECONDS = 30  # how far from now Notify accepts a token's `iat`, either way
# Notify's own words for a recipient a team-only (or trial) key can't send to: a 400, not worth trying again.
TEAM_ONLY = "Can't send to this recipient using a team-only API key"


def token_problem(header: str | None, now: float | None = None) -> str | None:
    """Why Notify would refuse this Authorization header (its own words), or None when it would let it in."""
    if not header or not header.startswith("Bearer "):
        return "Unauthorized: authentication token must be provided"
    token = header.removeprefix("Bearer ")
    try:
        claims = jwt.decode(
            token, key=SECRET, algorithms=["HS256"], options={"verify_iat": False, "require": ["iss", "iat"]}
        )
    except jwt.InvalidAlgorithmError:
        return "Invalid token: algorithm used is not HS256"
    except jwt.MissingRequiredClaimError as error:
        return f"Invalid token: {error.claim} field not provided"
    except jwt.InvalidTokenError:
        return "Invalid token: signature, api token not found"
    if jwt.get_unverified_header(token).get("alg") != "HS256":
        return "Invalid token: algorithm used is not HS256"
    if claims["iss"] != SERVICE_ID:
        return "Invalid token: service not found"
    now = time.time() if now is None else now
    if abs(now - int(claims["iat"])) > TOKEN_BOUND_SECONDS:
        return "Error: Your system clock must be accurate to within 30 seconds"
    return None


class StandIn(RecordingStandIn):
    """Notify's email API as tests/servers.RecordingStandIn records it: each accepted body with "notification_id"
    (Notify's id) added."""

    ACCEPTED = 201
    NAME = "notify-stand-in"

    def references(self) -> Counter:
        """How many times each outbox message (its `reference`) was accepted."""
        return Counter(int(body["reference"]) for body in self.accepted)

    def texts(self) -> list[dict]:
        """The texts accepted (each body has "phone_number"), in the order they came."""
        return [body for body in self.accepted if "phone_number" in body]

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def _error(self, status: int, kind: str, message: str, headers: dict | None = None):
                standin.rejected.append((status, message))
                body = {"status_code": status, "errors": [{"error": kind, "message": message}]}
                return self._answer(status, body, headers)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with standin.lock:
                    standin.requests += 1
                    number = standin.requests
                if self.path not in ("/v2/notifications/email", "/v2/notifications/sms"):
                    return self._error(404, "NotFound", "Not Found")
                is_text = self.path.endswith("/sms")
                problem = token_problem(self.headers.get("Authorization"))
                if problem:
                    return self._error(403, "AuthError", problem)
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self._error(400, "BadRequestError", "Invalid JSON supplied in POST data")
                problem = check_text_body(body) if is_text else check_body(body)
                if problem:
                    return self._error(400, "BadRequestError", problem)
                status = standin.plan(number)
                if status == 429:
                    return self._error(
                        429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"
                    )
                if status >= 500:
                    return self._error(status, "Exception", "Internal server error")
                notification_id = str(uuid.uuid4())
                with standin.lock:
                    standin.accepted.append({**body, "notification_id": notification_id})
                personalisation = body["personalisation"]
                if is_text:
                    return self._answer(
                        201,
                        {
                            "id": notification_id,
                            "reference": body.get("reference"),
                            "content": {"body": personalisation["body"], "from_number": "NewHorizons"},
                            "uri": f"{standin.url}/v2/notifications/{notification_id}",
                            "template": {
                                "id": SMS_TEMPLATE_ID,
                                "version": 1,
                                "uri": f"{standin.url}/templates/{SMS_TEMPLATE_ID}",
                            },
                            "scheduled_for": None,
                        },
                    )
                return self._answer(
                    201,
                    {
                        "id": notification_id,
                        "reference": body.get("reference"),
                        "content": {
                            "subject": personalisation["subject"],
                            "body": personalisation["body"],
                            "from_email": "new.horizons@notifications.service.gov.uk",
                        },
                        "uri": f"{standin.url}/v2/notifications/{notification_id}",
                        "template": {"id": TEMPLATE_ID, "version": 1, "uri": f"{standin.url}/templates/{TEMPLATE_ID}"},
                        "scheduled_for": None,
                    },
                )

        return Handler


def check_body(body: dict) -> str | None:
    """What Notify checks of a request to send an email with the one template (in its own words); None if fine."""
    if not isinstance(body, dict):
        return "Invalid JSON supplied in POST data"
    for field in ("email_address", "template_id"):
        if not body.get(field):
            return f"{field} is a required property"
    if body["template_id"] != TEMPLATE_ID:
        return "Template not found"
    address = body["email_address"]
    if "@" not in address or address != address.strip():
        return "email_address Not a valid email address"
    personalisation = body.get("personalisation") or {}
    missing = [name for name in ("body", "subject") if not personalisation.get(name)]
    if missing:
        return f"Missing personalisation: {', '.join(missing)}"
    if "reference" in body and not isinstance(body["reference"], str):
        return "reference is not a string"
    if address.endswith("@reject.example"):
        return TEAM_ONLY
    return None


def check_text_body(body: dict) -> str | None:
    """What Notify checks of a request to send a text with the one text template (in its own words); None if fine."""
    if not isinstance(body, dict):
        return "Invalid JSON supplied in POST data"
    for field in ("phone_number", "template_id"):
        if not body.get(field):
            return f"{field} is a required property"
    if body["template_id"] != SMS_TEMPLATE_ID:
        return "Template not found"
    number = body["phone_number"]
    if not (number.startswith("+447") and number[1:].isdigit() and len(number) == 13):
        return "phone_number Not a UK mobile number"
    personalisation = body.get("personalisation") or {}
    if not personalisation.get("body"):
        return "Missing personalisation: body"
    if len(personalisation["body"]) > 918:
        return "Text messages cannot be longer than 918 characters"
    if "reference" in body and not isinstance(body["reference"], str):
        return "reference is not a string"
    return None


def notify_app(kind, tmp_path, standin, **overrides):
    # A client timeout on a loaded machine would send again what the stand-in had already accepted: be patient.
    settings = dict(
        MAIL_BACKEND="notify",
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_EMAIL_TEMPLATE_ID=TEMPLATE_ID,
        NOTIFY_BASE_URL=standin.url,
        NOTIFY_CALLBACK_TOKEN=CALLBACK_TOKEN,
        NOTIFY_TIMEOUT=PATIENCE_SECONDS,
        MAIL_RETRY_BASE_SECONDS=0.001,
        MAIL_RETRY_MAX_SECONDS=0.01,
    )
    settings.update(overrides)
    return make_app(kind, tmp_path, **settings)


def post_receipt(client, body, token: str | None = CALLBACK_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.post("/webhooks/notify", data=json.dumps(body), content_type="application/json", headers=headers)
