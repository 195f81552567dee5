"""A stand-in for Google's OAuth token endpoint and the Wallet API's event ticket objects, on 127.0.0.1.

POST /token checks the service account's signed grant as Google does (RS256 with the account's key, `iss` the
account, `aud` this token URL, the Wallet scope, `exp` after `iat`) and answers with a bearer token. PATCH
/walletobjects/v1/eventTicketObject/<id> checks that token, records the change, and answers 404 for an object nobody
saved (`saved` holds the ids people saved). `plan` can answer a PATCH with an error status instead.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse

import jwt

from tests.support.servers import JsonHandler, RecordingStandIn

SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
OBJECTS = "/walletobjects/v1/eventTicketObject/"


class StandIn(RecordingStandIn):
    """`accepted` holds {"object_id", "body"} for each PATCH applied; `objects` each saved object's state."""

    NAME = "google-wallet-stand-in"

    def __init__(self, public_key_pem: bytes, client_email: str):
        self.public_key_pem, self.client_email = public_key_pem, client_email
        self.tokens: set[str] = set()
        self.grants = 0
        self.objects: dict[str, str] = {}
        super().__init__()

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def save(self, object_id: str) -> None:
        """As if the person had pressed Save to Google Wallet: Google now has the object."""
        self.objects[object_id] = "ACTIVE"

    def grant_problem(self, assertion: str) -> str | None:
        try:
            claims = jwt.decode(
                assertion,
                self.public_key_pem,
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as error:
            return f"invalid_grant: {error}"
        if claims["iss"] != self.client_email:
            return "invalid_grant: wrong issuer"
        if claims["scope"] != SCOPE:
            return "invalid_scope"
        if not claims["iat"] <= time.time() + 30 < claims["exp"] + 30:
            return "invalid_grant: token out of date"
        return None

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def _refuse(self, status: int, message: str):
                with standin.lock:
                    standin.rejected.append((status, message))
                return self._answer(status, {"error": {"code": status, "message": message}})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/token":
                    return self._refuse(404, "Not Found")
                form = urllib.parse.parse_qs(raw.decode())
                if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
                    return self._refuse(400, "unsupported_grant_type")
                problem = standin.grant_problem((form.get("assertion") or [""])[0])
                if problem:
                    return self._refuse(400, problem)
                token = "ya29." + secrets.token_urlsafe(24)
                with standin.lock:
                    standin.tokens.add(token)
                    standin.grants += 1
                return self._answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

            def do_PATCH(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with standin.lock:
                    standin.requests += 1
                    number = standin.requests
                if not self.path.startswith(OBJECTS):
                    return self._refuse(404, "Not Found")
                bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if bearer not in standin.tokens:
                    return self._refuse(401, "Request had invalid authentication credentials.")
                status = standin.plan(number)
                if status >= 400:
                    return self._refuse(status, "planned failure")
                object_id = urllib.parse.unquote(self.path[len(OBJECTS) :])
                if object_id not in standin.objects:
                    return self._refuse(404, f"Resource not found: {object_id}")
                body = json.loads(raw)
                with standin.lock:
                    standin.objects[object_id] = body.get("state", standin.objects[object_id])
                    standin.accepted.append({"object_id": object_id, "body": body})
                return self._answer(200, {"id": object_id, "state": standin.objects[object_id]})

        return Handler
