"""Google Wallet: a badge's "Save to Google Wallet" link (a JWT signed with the issuer's service-account key), and
Google's Wallet API, through which a pass is marked inactive.

The link carries the event ticket class and the person's object; Google makes them when the pass is first saved.
The API is called with an OAuth token got from the same service account (a signed JWT grant).
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from joserfc import jwt
from joserfc.jwk import RSAKey

from app.badges.wallet import PassFacts
from app.core.timefmt import local

log = logging.getLogger(__name__)

SETTINGS = ("GOOGLE_WALLET_ISSUER_ID", "GOOGLE_WALLET_KEY_FILE")
SAVE_URL = "https://pay.google.com/gp/v/save/"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
OBJECT_PATH = "/walletobjects/v1/eventTicketObject/"
LANGUAGE = "en-GB"
TEAL = "#0b5563"


class WalletUnavailable(Exception):
    """The key file can't sign (missing, unreadable, not a service account's key)."""


class TemporaryFailure(Exception):
    """Google didn't answer, or answered that it can't now (5xx, 429): try again later."""


class PermanentFailure(Exception):
    """Google refused the request for a reason trying again won't mend (a wrong issuer, a key without the role)."""


def configured(config: Mapping) -> bool:
    return all(config.get(name) for name in SETTINGS)


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    key_id: str
    key: RSAKey


@lru_cache(maxsize=4)
def _account(path: str, _stamp: tuple) -> ServiceAccount:
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
        return ServiceAccount(
            client_email=data["client_email"],
            key_id=data.get("private_key_id", ""),
            key=RSAKey.import_key(data["private_key"]),
        )
    except OSError as error:
        raise WalletUnavailable(
            f"GOOGLE_WALLET_KEY_FILE names {path}, which can't be read ({error.strerror})."
        ) from None
    except (ValueError, KeyError, TypeError):
        raise WalletUnavailable(
            f"GOOGLE_WALLET_KEY_FILE names {path}, which is not a service account's JSON key (it needs "
            "client_email and private_key): create a key for the service account and download it as JSON."
        ) from None


def account_from(config: Mapping) -> ServiceAccount:
    path = config["GOOGLE_WALLET_KEY_FILE"]
    try:
        stat = os.stat(path)
        stamp: tuple = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = ()
    return _account(path, stamp)


def available(config: Mapping) -> bool:
    if not configured(config):
        return False
    try:
        account_from(config)
    except WalletUnavailable as error:
        log.warning("Save to Google Wallet is not offered: %s", error)
        return False
    return True


def warnings(config: Mapping) -> list[str]:
    """For the dashboard and `summit check`: a key file that can't sign."""
    if not configured(config):
        return []
    try:
        account_from(config)
    except WalletUnavailable as error:
        return [f"Save to Google Wallet is not offered: {error}"]
    return []


# --- ids, the class and the object ------------------------------------------------------------


def object_id(issuer_id: str, serial: str) -> str:
    return f"{issuer_id}.{serial}"


def class_id(config: Mapping) -> str:
    return f"{config['GOOGLE_WALLET_ISSUER_ID']}.{config['GOOGLE_WALLET_CLASS_SUFFIX']}"


def _text(value: str) -> dict:
    return {"defaultValue": {"language": LANGUAGE, "value": value}}


def ticket_class(facts: PassFacts, config: Mapping) -> dict:
    """The summit, as Google's event ticket class: every badge's pass belongs to it."""
    return {
        "id": class_id(config),
        "issuerName": facts.event,
        "eventName": _text(facts.event),
        "venue": {"name": _text(facts.venue), "address": _text(facts.address)},
        "dateTime": {"start": local(facts.starts_at).isoformat(), "end": local(facts.ends_at).isoformat()},
        "hexBackgroundColor": TEAL,
        "reviewStatus": "UNDER_REVIEW",
    }


def ticket_object(facts: PassFacts, config: Mapping) -> dict:
    """The person's pass: their name, and the badge's QR payload as its barcode."""
    return {
        "id": object_id(config["GOOGLE_WALLET_ISSUER_ID"], facts.serial),
        "classId": class_id(config),
        "state": "ACTIVE",
        "ticketHolderName": facts.name,
        "barcode": {"type": "QR_CODE", "value": facts.code, "alternateText": facts.code},
        "hexBackgroundColor": TEAL,
        "textModulesData": [
            {"id": "when", "header": "Date and time", "body": f"{facts.date}, {facts.time}"},
            {"id": "organisation", "header": "Organisation", "body": facts.organisation},
            {"id": "role", "header": "Badge", "body": facts.role_label},
        ],
    }


def save_claims(facts: PassFacts, config: Mapping, account: ServiceAccount, now: float | None = None) -> dict:
    return {
        "iss": account.client_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(now if now is not None else time.time()),
        "origins": [config["BASE_URL"]],
        "payload": {
            "eventTicketClasses": [ticket_class(facts, config)],
            "eventTicketObjects": [ticket_object(facts, config)],
        },
    }


def save_link(facts: PassFacts, config: Mapping, now: float | None = None) -> str:
    """https://pay.google.com/gp/v/save/<JWT>: opening it offers to save the pass in Google Wallet."""
    account = account_from(config)
    header = {"alg": "RS256", "typ": "JWT", **({"kid": account.key_id} if account.key_id else {})}
    return SAVE_URL + jwt.encode(header, save_claims(facts, config, account, now), account.key, algorithms=["RS256"])


# --- the Wallet API ---------------------------------------------------------------------------


def _call(request: urllib.request.Request, timeout: float) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # the URL is a setting, never input
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        body = error.read()[:2000].decode("utf-8", "replace")
        if error.code == 429 or error.code >= 500:
            raise TemporaryFailure(f"Google answered {error.code}: {body}") from None
        return error.code, {"error": body}
    except (OSError, ValueError) as error:  # refused, timed out, reset, a body that isn't JSON
        raise TemporaryFailure(f"Google didn't answer: {error}") from None


class WalletApi:
    """Google's Wallet API as the service account: one token, asked for when needed and kept until near its end."""

    def __init__(self, config: Mapping):
        self.base = config["GOOGLE_WALLET_API_URL"].rstrip("/")
        self.token_url = config["GOOGLE_WALLET_TOKEN_URL"]
        self.timeout = float(config["GOOGLE_WALLET_TIMEOUT"])
        self.account = account_from(config)
        self._token: tuple[str, float] | None = None

    def _grant(self, now: float) -> str:
        claims = {
            "iss": self.account.client_email,
            "scope": SCOPE,
            "aud": self.token_url,
            "iat": int(now),
            "exp": int(now) + 3600,
        }
        header = {"alg": "RS256", "typ": "JWT", **({"kid": self.account.key_id} if self.account.key_id else {})}
        return jwt.encode(header, claims, self.account.key, algorithms=["RS256"])

    def token(self) -> str:
        now = time.time()
        if self._token is not None and self._token[1] > now + 60:
            return self._token[0]
        body = urllib.parse.urlencode(
            {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": self._grant(now)}
        ).encode()
        request = urllib.request.Request(
            self.token_url, data=body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        status, answer = _call(request, self.timeout)
        if status != 200 or "access_token" not in answer:
            # Tried again later, with the backoff: a key replaced or a clock put right mends it, and the queue waits.
            raise TemporaryFailure(
                f"Google refused the service account's token ({status}): {answer.get('error', answer)}"[:2000]
            )
        self._token = (answer["access_token"], now + float(answer.get("expires_in", 3600)))
        return self._token[0]

    def set_state(self, object_id: str, state: str) -> str:
        """PATCH the event ticket object's state. Returns "done", or "absent" when Google has no such object (the
        person never saved the pass, so there is nothing to mark); raises TemporaryFailure or PermanentFailure."""
        url = self.base + OBJECT_PATH + urllib.parse.quote(object_id, safe="")
        for attempt in (1, 2):
            request = urllib.request.Request(
                url,
                data=json.dumps({"state": state}).encode(),
                method="PATCH",
                headers={"Authorization": f"Bearer {self.token()}", "Content-Type": "application/json"},
            )
            status, answer = _call(request, self.timeout)
            if 200 <= status < 300:
                return "done"
            if status == 404:
                return "absent"
            if status == 401 and attempt == 1:
                self._token = None  # revoked or expired early: a new token, once
                continue
            raise PermanentFailure(
                f"Google refused to mark {object_id} {state} ({status}): {answer.get('error', answer)}"[:2000]
            )
        raise PermanentFailure(f"Google refused the service account's token for {object_id}")
