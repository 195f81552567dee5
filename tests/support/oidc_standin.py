"""A stand-in for Microsoft Entra ID's multi-tenant OpenID Connect endpoints on 127.0.0.1: the discovery document
(with Entra's `{tenantid}` placeholder in its issuer), the signing keys, an authorize endpoint that signs in whoever
the test says and sends the browser back with a code, and a token endpoint that checks the client's secret, the
redirect URI and the PKCE verifier as Entra does, and answers with a signed ID token carrying the request's nonce.

`who` is the person the next sign-in is for (their claims); `tamper` changes the next ID token's claims (another
audience, an expired token, another tenant's issuer, a wrong nonce …) or `sign_with` signs it with another key."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.servers import InThread, JsonHandler

CLIENT_ID = "5b0ad9e2-7a4c-4a38-9c52-0f1c2e7a9d11"
CLIENT_SECRET = "stand-in-client-secret-for-tests-only"
COUNCIL_TENANT = "0c7e3a6e-4f7b-4c1e-9a53-6b2d8f1e2a01"  # a council on the allow-list
OTHER_TENANT = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"  # a Microsoft 365 organisation that isn't
METADATA_PATH = "/organizations/v2.0/.well-known/openid-configuration"


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})


class StandIn:
    def __init__(self):
        self.key = new_key("stand-in-key-1")
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.reset()

    def reset(self) -> None:
        """Forget every sign-in: the next one is for Ann Officer of the council on the allow-list, untampered."""
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.who = person("ann.officer@suffolk.example.gov.uk", "Ann Officer")
        self.tamper: dict = {}
        self.sign_with: RSAKey | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    def issuer(self, tenant: str) -> str:
        return f"{self.url}/{tenant}/v2.0"

    def metadata(self) -> dict:
        return {
            "issuer": f"{self.url}/{{tenantid}}/v2.0",  # as Entra's multi-tenant document has it
            "authorization_endpoint": f"{self.url}/organizations/oauth2/v2.0/authorize",
            "token_endpoint": f"{self.url}/organizations/oauth2/v2.0/token",
            "jwks_uri": f"{self.url}/organizations/discovery/v2.0/keys",
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "email", "tid", "oid"],
        }

    def start(self):
        self.stop = InThread(self.server, name="oidc-stand-in")
        return self

    def id_token(self, grant: dict) -> str:
        now = int(time.time())
        who = grant["who"]
        claims = {
            "iss": self.issuer(who["tid"]),
            "aud": CLIENT_ID,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "nonce": grant["nonce"],
            "ver": "2.0",
            **who,
            **grant["tamper"],
        }
        claims = {name: value for name, value in claims.items() if value is not None}  # None: leave the claim out
        key = grant["sign_with"] or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def _error(self, status: int, error: str, description: str):
                return self._answer(status, {"error": error, "error_description": description})

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path == METADATA_PATH:
                    return self._answer(200, standin.metadata())
                if parts.path == urlsplit(standin.metadata()["jwks_uri"]).path:
                    return self._answer(200, {"keys": [standin.key.as_dict(private=False)]})
                if parts.path == urlsplit(standin.metadata()["authorization_endpoint"]).path:
                    return self._authorize({k: v[0] for k, v in parse_qs(parts.query).items()})
                return self._error(404, "not_found", self.path)

            def _authorize(self, query: dict):
                """Whoever the test chose signs in at once, and the browser goes back to the app with a code."""
                with standin.lock:
                    standin.authorize_requests.append(query)
                if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
                    return self._error(400, "invalid_request", "unknown client or response type")
                code = secrets.token_urlsafe(24)
                with standin.lock:
                    standin.codes[code] = {
                        "redirect_uri": query["redirect_uri"],
                        "nonce": query.get("nonce"),
                        "challenge": query.get("code_challenge"),
                        "who": dict(standin.who),
                        "tamper": dict(standin.tamper),
                        "sign_with": standin.sign_with,
                    }
                back = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
                self.send_response(302)
                self.send_header("Location", back)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self):
                if self.path != urlsplit(standin.metadata()["token_endpoint"]).path:
                    return self._error(404, "not_found", self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                with standin.lock:
                    standin.token_requests.append(form)
                    grant = standin.codes.pop(form.get("code", ""), None)  # a code works once
                if not _client_authenticated(self.headers.get("Authorization"), form):
                    return self._error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.")
                if form.get("grant_type") != "authorization_code" or grant is None:
                    return self._error(400, "invalid_grant", "AADSTS70008: The provided authorization code is expired.")
                if form.get("redirect_uri") != grant["redirect_uri"]:
                    return self._error(400, "invalid_grant", "AADSTS500112: redirect_uri mismatch.")
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if grant["challenge"] and challenge != grant["challenge"]:
                    return self._error(400, "invalid_grant", "AADSTS501481: The Code_Verifier does not match.")
                return self._answer(
                    200,
                    {
                        "token_type": "Bearer",
                        "scope": "openid email profile",
                        "expires_in": 3600,
                        "access_token": secrets.token_urlsafe(32),
                        "id_token": standin.id_token(grant),
                    },
                )

        return Handler


def _client_authenticated(header: str | None, form: dict) -> bool:
    if header and header.startswith("Basic "):
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    return client_id == CLIENT_ID and secrets.compare_digest(secret, CLIENT_SECRET)


def person(email: str, name: str, tenant: str = COUNCIL_TENANT) -> dict:
    """An Entra account's claims in an ID token (v2.0, with the email scope)."""
    return {
        "sub": secrets.token_urlsafe(16),
        "oid": "00000000-0000-0000-0000-" + secrets.token_hex(6),
        "tid": tenant,
        "name": name,
        "email": email,
        "preferred_username": email,
    }
