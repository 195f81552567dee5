"""Staff signing in with their council's Microsoft 365 account: OpenID Connect with Microsoft Entra ID, through
Authlib, and which ID tokens, and whose accounts, are accepted.

It is the authorization code flow with PKCE. The browser goes to Entra carrying a state, a nonce and a code
challenge, which Authlib keeps in this browser's signed session; Entra sends it back with a code, which the server
exchanges (with the client secret and the code verifier) for an ID token. The token is accepted only when its
signature checks out against the provider's published keys, it was issued to this app (`aud`), it is in date, it
carries the nonce this browser was given, its tenant (`tid`) is on OIDC_ALLOWED_TENANTS, and its issuer (`iss`) is
that tenant's own. Entra's multi-tenant metadata names its issuer with a placeholder,
`https://login.microsoftonline.com/{tenantid}/v2.0`: the tenant's own issuer is that with the `tid` put in.

Then only an existing staff account with the token's address signs in: an active one, or one an organiser has
invited and that hasn't joined yet (which this accepts). A sign-in alone makes no account, and a deactivated
account is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, session
from joserfc.errors import JoseError
from sqlalchemy import update

from app.core import audit
from app.core.auth import credentials, staff_links
from app.core.auth.models import StaffLinkPurpose, User
from app.core.db import db
from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.errors import DomainError

CLIENT = "council"
TENANT_PLACEHOLDER = "{tenantid}"
_EXTENSION = "authlib.integrations.flask_client"  # where Authlib's OAuth keeps itself on the app
_PENDING_PREFIX = f"_state_{CLIENT}_"  # Authlib's session keys for sign-ins under way (state, nonce, PKCE verifier)
# Sign-ins under way kept in one browser's session: each is about 200 bytes of a cookie that can't pass 4 KB, and a
# person with more tabs than this at Microsoft at once finishes the newest ones.
MAX_PENDING = 3


class CouncilSignInRefused(DomainError):
    """The council sign-in didn't sign anyone in. `reason` says why, for tests and the log (never the address)."""

    status = 403

    def __init__(self, message: str, *, reason: str, status: int = 403):
        super().__init__(message)
        self.reason = reason
        self.status = status


AGAIN = "Please try again, or sign in with your email and password."
_INCOMPLETE = (
    "Signing in with your council account didn't finish: the page may have been opened twice, in another tab, or "
    "after a long wait. " + AGAIN
)
_NOT_PROVEN = "Microsoft's answer couldn't be checked, so nobody was signed in. " + AGAIN
_OTHER_TENANT = (
    "That Microsoft account belongs to an organisation whose accounts can't sign in here. Sign in with your "
    "council's Microsoft 365 account, or with your email and password."
)


@dataclass(frozen=True)
class CouncilIdentity:
    """Who Entra says signed in: their address, their tenant, and their name as Entra has it."""

    email: str
    tenant: str
    name: str


def enabled(config: Mapping | None = None) -> bool:
    """Whether council sign-in is set up: a client id, its secret and at least one tenant."""
    config = current_app.config if config is None else config
    return bool(
        config.get("OIDC_CLIENT_ID") and config.get("OIDC_CLIENT_SECRET") and config.get("OIDC_ALLOWED_TENANTS")
    )


def init_app(app: Flask) -> None:
    """Register the council's OpenID Connect client on this app, when it is set up. Each app has its own registry
    (and its own copy of the provider's metadata and keys, fetched on first use)."""
    if not enabled(app.config):
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_METADATA_URL"],
        client_kwargs={
            "scope": "openid email profile",
            "code_challenge_method": "S256",  # PKCE
            "default_timeout": app.config["OIDC_TIMEOUT"],
        },
    )


def _client() -> Any:
    return current_app.extensions[_EXTENSION].create_client(CLIENT)


def _unreachable() -> CouncilSignInRefused:
    return CouncilSignInRefused(
        "We couldn't reach Microsoft to sign you in just now. Please try again in a minute, or sign in with your "
        "email and password.",
        reason="unreachable",
        status=503,
    )


def redirect_to_provider(redirect_uri: str):
    """The redirect to Entra's sign-in, with a fresh state, nonce and PKCE challenge kept in this browser's session.
    `prompt=select_account`: on a shared laptop, the person picks their own account rather than the last one."""
    pending = sorted(
        (key for key in session if key.startswith(_PENDING_PREFIX)), key=lambda k: session[k].get("exp", 0)
    )
    for key in pending[: max(0, len(pending) - (MAX_PENDING - 1))]:
        session.pop(key)
    try:
        return _client().authorize_redirect(redirect_uri, prompt="select_account")
    except requests.RequestException:
        raise _unreachable() from None


def expected_issuer(metadata_issuer: str, tenant: str) -> str:
    """The issuer a tenant's tokens must carry: the metadata's, with the tenant put in for Entra's placeholder."""
    return metadata_issuer.replace(TENANT_PLACEHOLDER, tenant)


def identity_from_callback() -> CouncilIdentity:
    """Finish the sign-in Entra sent the browser back from: check the state, exchange the code, check the ID token
    and the tenant. Raises CouncilSignInRefused, with a sentence for the person, when anything is not as it must be."""
    client = _client()
    config = current_app.config
    claims_options = {
        "iss": {"essential": True},
        "aud": {"essential": True, "values": [config["OIDC_CLIENT_ID"]]},
        "tid": {"essential": True},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
    except MismatchingStateError:
        raise CouncilSignInRefused(_INCOMPLETE, reason="state", status=400) from None
    except OAuthError as error:
        if error.error == "access_denied":
            raise CouncilSignInRefused(
                "Signing in with your council account was cancelled, so nobody was signed in. " + AGAIN,
                reason="cancelled",
                status=400,
            ) from None
        raise CouncilSignInRefused(_NOT_PROVEN, reason=f"provider:{error.error}", status=400) from None
    except requests.RequestException:
        raise _unreachable() from None
    except (JoseError, AuthlibBaseError, ValueError) as error:
        # A bad signature, another app's token (aud), an expired one, a nonce that isn't this browser's, a claim missing.
        claim = getattr(error, "claim", None)
        reason = f"token:{type(error).__name__}" + (f":{claim}" if claim else "")
        raise CouncilSignInRefused(_NOT_PROVEN, reason=reason, status=400) from None
    claims = token.get("userinfo")
    if not claims:  # no ID token in the answer
        raise CouncilSignInRefused(_NOT_PROVEN, reason="no-id-token", status=400)
    tenant = str(claims.get("tid") or "").lower()
    if tenant not in config["OIDC_ALLOWED_TENANTS"]:
        raise CouncilSignInRefused(_OTHER_TENANT, reason="tenant")
    issuer = str(client.load_server_metadata().get("issuer") or "")
    if not issuer or claims.get("iss") != expected_issuer(issuer, tenant):
        raise CouncilSignInRefused(_NOT_PROVEN, reason="issuer", status=400)
    return CouncilIdentity(email=_address(claims), tenant=tenant, name=str(claims.get("name") or ""))


def _address(claims: Mapping) -> str:
    """The person's email address: Entra's `email` claim, else their sign-in name when it is an address (in most
    councils it is the same). Entra doesn't check that a tenant owns the domain of the addresses its administrators
    give accounts; where the app registration asks for the optional claim `xms_edov` ("email domain owner
    verified"), an address whose domain the tenant hasn't verified is refused."""
    if str(claims.get("xms_edov", "")).lower() in ("false", "0"):
        raise CouncilSignInRefused(
            "Your council's Microsoft account has an email address in a domain your council hasn't verified, so we "
            "can't tell which staff account is yours. Sign in with your email and password instead, or ask your "
            "council's IT team to verify the domain.",
            reason="unverified-domain",
        )
    for claim in ("email", "preferred_username", "upn"):
        value = str(claims.get(claim) or "").strip()
        if not value:
            continue
        try:
            return normalise_address(value)
        except InvalidAddress:
            continue
    raise CouncilSignInRefused(
        "Your council's Microsoft account didn't tell us your email address, so we can't tell which staff account "
        "is yours. Sign in with your email and password instead, or ask your council's IT team to give the account "
        "an email address.",
        reason="no-address",
    )


def sign_in_account(identity: CouncilIdentity) -> User:
    """The staff account this identity may sign in to: an active one with its address, or one invited and not yet
    joined, which joins now (their council has proved the address is theirs). No account is made, and a deactivated
    one is refused. Records it in the audit log; the caller starts the session and commits."""
    db.will_write()
    user = credentials.find_user(identity.email)
    if user is None:
        raise CouncilSignInRefused(
            f"You signed in to Microsoft as {identity.email}, but there is no staff account here for that address, "
            "so nobody was signed in. Staff accounts are made by invitation: ask an organiser to invite that "
            "address from their Team page.",
            reason="no-account",
        )
    if user.invitation_pending:
        joined = db.session.execute(
            update(User)
            .where(User.id == user.id, User.invitation_pending.is_(True))
            .values(active=True, invitation_pending=False)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(user)
        if getattr(joined, "rowcount", 0) == 1:
            staff_links.end_all(user, StaffLinkPurpose.INVITATION)  # the emailed invitation has done its work
            audit.record("staff.joined", actor=user, user_id=user.id, with_council_account=True)
    if not user.active:
        raise CouncilSignInRefused(
            f"The staff account for {user.email} has been deactivated, so it can't sign in. If you still need it, "
            "ask an organiser to reactivate it on their Team page.",
            reason="deactivated",
        )
    audit.record("staff.signed_in_with_council_account", actor=user, user_id=user.id, tenant=identity.tenant)
    return user
