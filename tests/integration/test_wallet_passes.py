"""The badge in the phone's wallet: the Apple .pkpass (its manifest, its signature, its barcode), the Google save
link (its signed JWT), which badges offer them, passes marked inactive at Google when a place ends (against a
stand-in for Google), and the organisers' warnings about the Apple certificate."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import subprocess
import zipfile
from dataclasses import dataclass

import jwt
import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from PIL import Image
from sqlalchemy import select

from app.badges import rules as badge_rules
from app.badges import wallet
from app.badges.models import WalletPassUpdate, WalletUpdateStatus
from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.mail import rounds
from app.core.timefmt import day
from config import ProductionConfig, production_problems, settings_of
from invitations import handing_on, journey, links
from invitations import people as invitation_people
from invitations.models import Invitation
from tests.support import PATIENCE_SECONDS
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.google_wallet_standin import StandIn
from tests.support.wallet_support import CLIENT_EMAIL, ISSUER_ID, PASS_TYPE_ID, TEAM_ID, WalletFiles, wallet_files

SAVE_LINK = re.compile(r'href="(https://pay\.google\.com/gp/v/save/[^"]+)"')
PASS_FILES = {"pass.json", "icon.png", "icon@2x.png", "logo.png", "logo@2x.png", "manifest.json", "signature"}


@dataclass
class Wallet:
    app: object
    client: FreshSessionClient
    files: WalletFiles
    google: StandIn


def _app(kind: str, tmp_path, settings: dict):
    tmp_path.mkdir(parents=True, exist_ok=True)
    application = make_app(kind, tmp_path, **settings)
    application.test_client_class = FreshSessionClient
    return application


@pytest.fixture(params=["sqlite"])
def walleted(request, tmp_path):
    """The app with both wallets set up (a test chain and key), Google's API a stand-in on 127.0.0.1."""
    files = wallet_files(tmp_path / "wallet")
    google = StandIn(files.google_public_pem, CLIENT_EMAIL).start()
    settings = dict(
        files.settings,
        GOOGLE_WALLET_API_URL=google.url,
        GOOGLE_WALLET_TOKEN_URL=google.token_url,
        GOOGLE_WALLET_TIMEOUT=PATIENCE_SECONDS,
        MAIL_RETRY_BASE_SECONDS=0.001,
        MAIL_RETRY_MAX_SECONDS=0.01,
    )
    application = _app(request.param, tmp_path, settings)
    try:
        with application.app_context():
            yield Wallet(app=application, client=application.test_client(), files=files, google=google)
        with application.app_context():
            db.engine.dispose()
    finally:
        google.stop()


def link(inv: Invitation, page: str) -> str:
    return f"/i/{links.token_for(inv)}/{page}"


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def pkpass_files(client, inv: Invitation) -> dict[str, bytes]:
    response = client.get(link(inv, "badge.pkpass"))
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/vnd.apple.pkpass"
    assert response.headers["Cache-Control"] == "no-store"  # a personal page's file, like the badge's PNG
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def save_link_claims(client, inv: Invitation, public_key_pem: bytes) -> dict:
    found = SAVE_LINK.findall(client.get(link(inv, "badge")).get_data(as_text=True))
    assert len(found) == 1, "one Save to Google Wallet link"
    token = html.unescape(found[0]).removeprefix("https://pay.google.com/gp/v/save/")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    # Verified with the service account's public key, by another library than the one that signed it.
    return jwt.decode(token, public_key_pem, algorithms=["RS256"], audience="google")


def openssl_verifies(folder, signature: bytes, manifest: bytes) -> subprocess.CompletedProcess:
    (folder / "signature").write_bytes(signature)
    (folder / "manifest.json").write_bytes(manifest)
    return subprocess.run(
        ["openssl", "smime", "-verify", "-binary", "-inform", "DER", "-in", "signature", "-content", "manifest.json",
         "-noverify", "-out", "/dev/null"],
        cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# --- Apple Wallet ------------------------------------------------------------------------------


def test_the_pkpass_is_signed_its_manifest_holds_every_file_and_its_barcode_is_the_badges_qr(walleted, tmp_path):
    summit = f.summit(venue="Adastral Park", address="Martlesham Heath, Ipswich IP5 3RE")
    ada = f.registered(name="Ada Lovelace", organisation="Suffolk County Council")
    files = pkpass_files(walleted.client, ada)
    assert set(files) == PASS_FILES

    # The manifest: the SHA-1 of every file but itself and the signature, and nothing else.
    listed = json.loads(files["manifest.json"])
    assert set(listed) == PASS_FILES - {"manifest.json", "signature"}
    for name, digest in listed.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name
    for name in ("icon.png", "icon@2x.png", "logo.png", "logo@2x.png"):
        assert Image.open(io.BytesIO(files[name])).format == "PNG"
    assert Image.open(io.BytesIO(files["icon@2x.png"])).size == (58, 58)

    # The signature: detached PKCS#7 over manifest.json, by the pass certificate, with the WWDR certificate in it.
    folder = tmp_path / "check"
    folder.mkdir()
    verified = openssl_verifies(folder, files["signature"], files["manifest.json"])
    assert verified.returncode == 0, verified.stderr
    assert "Verification successful" in verified.stderr
    enclosed = pkcs7.load_der_pkcs7_certificates(files["signature"])
    assert {c.subject for c in enclosed} == {walleted.files.certificate.subject, walleted.files.wwdr.subject}
    # The control: the same signature refuses a manifest changed by one byte.
    tampered = openssl_verifies(folder, files["signature"], files["manifest.json"].replace(b'"', b"'", 1))
    assert tampered.returncode != 0

    # pass.json: the summit's ticket for Ada, and the badge's own QR payload as the barcode.
    described = json.loads(files["pass.json"])
    assert described["formatVersion"] == 1
    assert described["passTypeIdentifier"] == PASS_TYPE_ID and described["teamIdentifier"] == TEAM_ID
    assert described["organizationName"] and described["description"]
    fields = {
        field["key"]: field["value"]
        for part in ("primaryFields", "secondaryFields", "auxiliaryFields", "backFields")
        for field in described["eventTicket"][part]
    }
    assert fields["name"] == "Ada Lovelace" and fields["venue"] == "Adastral Park"
    assert fields["date"] == day(summit.starts_at) and "14 October" in fields["date"]
    assert fields["time"] == "9:30am–4:30pm"
    assert fields["address"] == "Martlesham Heath, Ipswich IP5 3RE"
    barcode = described["barcodes"][0]
    assert barcode["format"] == "PKBarcodeFormatQR" and barcode["messageEncoding"] == "iso-8859-1"
    badge_qr = [
        r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(walleted.client.get(link(ada, "badge.png")).data)))
    ]
    assert barcode["message"] == ada.code and badge_qr == [barcode["message"]]
    barcode["message"].encode("iso-8859-1")  # the encoding it says it is in

    # The serial is no working link, and the same on every download (one pass, however often it is saved).
    token = links.token_for(ada)
    assert token not in files["pass.json"].decode() and ada.link_selector not in described["serialNumber"]
    assert json.loads(pkpass_files(walleted.client, ada)["pass.json"])["serialNumber"] == described["serialNumber"]


def test_a_pass_whose_person_is_revoked_is_refused_at_the_door(walleted):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    message = json.loads(pkpass_files(walleted.client, ada)["pass.json"])["barcodes"][0]["message"]
    token = credentials.issue_api_token(f.user(role=Role.STEWARD))
    db.session.commit()

    def scan() -> dict:
        body = {"code": message, "event": "summit", "confirmed": True}
        return walleted.client.post("/api/v1/checkin", json=body, headers={"Authorization": f"Bearer {token}"}).json

    assert scan()["status"] == "ok"  # the control: while her place holds, the pass lets her in, as her badge does
    invitation_people.revoke_invitation(db.session.get(Invitation, ada.id))
    db.session.commit()
    answer = scan()
    assert answer["status"] == "invalid" and answer["person"] is None
    assert walleted.client.get(link(ada, "badge.pkpass")).status_code == 404  # and no new pass either


# --- Google Wallet -----------------------------------------------------------------------------


def test_the_save_link_is_signed_by_the_service_account_and_holds_the_persons_object(walleted):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    claims = save_link_claims(walleted.client, ada, walleted.files.google_public_pem)
    assert claims["iss"] == CLIENT_EMAIL and claims["aud"] == "google" and claims["typ"] == "savetowallet"
    assert claims["origins"] == [walleted.app.config["BASE_URL"]]
    [ticket] = claims["payload"]["eventTicketObjects"]
    [summit_class] = claims["payload"]["eventTicketClasses"]
    serial = json.loads(pkpass_files(walleted.client, ada)["pass.json"])["serialNumber"]
    assert ticket["id"] == f"{ISSUER_ID}.{serial}"  # one pass, known by the same serial in both wallets
    assert ticket["classId"] == summit_class["id"] == f"{ISSUER_ID}.new_horizons_summit"
    assert ticket["state"] == "ACTIVE" and ticket["ticketHolderName"] == "Ada Lovelace"
    assert ticket["barcode"]["type"] == "QR_CODE" and ticket["barcode"]["value"] == ada.code
    assert links.token_for(ada) not in json.dumps(claims)
    # The control: another key (the pass certificate's) doesn't verify it.
    other = walleted.files.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(jwt.InvalidSignatureError):
        save_link_claims(walleted.client, ada, other)


# --- which badges offer them -------------------------------------------------------------------


def test_with_the_settings_absent_neither_button_shows(app, client):
    f.summit()
    ada = f.registered()
    text = page_text(client.get(link(ada, "badge")))
    assert "Add to Apple Wallet" not in text and "Save to Google Wallet" not in text and "pay.google.com" not in text
    assert client.get(link(ada, "badge.pkpass")).status_code == 404


def test_each_button_shows_only_with_its_own_settings(tmp_path):
    files = wallet_files(tmp_path / "wallet")
    apple_only = {k: v for k, v in files.settings.items() if k.startswith("APPLE_")}
    google_only = {k: v for k, v in files.settings.items() if k.startswith("GOOGLE_")}
    for n, (settings, apple, google) in enumerate(((apple_only, True, False), (google_only, False, True))):
        application = _app("sqlite", tmp_path / str(n), settings)
        with application.app_context():
            f.summit()
            text = page_text(application.test_client().get(link(f.registered(), "badge")))
            assert ("Add to Apple Wallet" in text) is apple and ("Save to Google Wallet" in text) is google
            db.engine.dispose()


@pytest.mark.parametrize("state", ["invited", "cancelled"])
def test_a_badge_without_a_summit_place_offers_no_wallet_pass(walleted, state):
    f.summit()
    person = f.registered() if state == "cancelled" else f.invitation()
    if state == "cancelled":
        journey.cancel_registration(person)
        db.session.commit()
    text = page_text(walleted.client.get(link(person, "badge")))
    assert "Fringe events only" in text
    assert "Add to Apple Wallet" not in text and "Save to Google Wallet" not in text
    assert walleted.client.get(link(person, "badge.pkpass")).status_code == 404


def test_both_buttons_show_on_a_registered_delegates_badge(walleted):
    f.summit()
    text = page_text(walleted.client.get(link(f.registered(), "badge")))
    assert "Add to Apple Wallet" in text and "Save to Google Wallet" in text


# --- passes marked inactive when a place ends --------------------------------------------------


def _object_id(inv: Invitation) -> str:
    return f"{ISSUER_ID}.{wallet.serial_of(inv)}"


def _leave(how: str, inv: Invitation) -> None:
    if how == "revoked":
        invitation_people.revoke_invitation(inv)
    elif how == "cancelled":
        journey.cancel_registration(inv)
    elif how == "handed on":
        handing_on.hand_on(
            inv,
            handing_on.Colleague(email="colleague@example.org", name="Col League", organisation="SCC", job_title=""),
        )
    else:
        badge_rules.reissue_code(inv)
    db.session.commit()


@pytest.mark.parametrize("walleted", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("how", ["revoked", "cancelled", "handed on", "code reissued"])
def test_a_place_that_ends_marks_its_google_pass_inactive(walleted, how):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    object_id = _object_id(ada)
    assert (
        save_link_claims(walleted.client, ada, walleted.files.google_public_pem)["payload"]["eventTicketObjects"][0][
            "id"
        ]
        == object_id
    )
    walleted.google.save(object_id)  # Ada pressed Save to Google Wallet

    _leave(how, db.session.get(Invitation, ada.id))
    [queued] = db.session.scalars(select(WalletPassUpdate)).all()
    assert queued.object_id == object_id and queued.status == WalletUpdateStatus.PENDING
    assert walleted.google.accepted == []  # nothing is sent from the request

    said = rounds.run_scheduled_steps()  # the mail worker's round
    assert "Marked 1 Google Wallet pass(es) inactive." in said
    assert walleted.google.accepted == [{"object_id": object_id, "body": {"state": "INACTIVE"}}]
    assert walleted.google.objects[object_id] == "INACTIVE" and walleted.google.grants == 1
    db.session.expire_all()
    done = db.session.scalars(select(WalletPassUpdate)).one()
    assert done.status == WalletUpdateStatus.DONE and done.attempts == 1 and done.outcome == ""
    assert rounds.run_scheduled_steps() == [] and len(walleted.google.accepted) == 1  # once


def test_a_cancelled_person_who_registers_again_gets_a_new_pass(walleted):
    f.summit()
    ada = f.registered()
    first = _object_id(ada)
    journey.cancel_registration(ada)
    db.session.commit()
    assert db.session.scalars(select(WalletPassUpdate.object_id)).all() == [first]

    journey.register(db.session.get(Invitation, ada.id), f.details())
    db.session.commit()
    ada = db.session.get(Invitation, ada.id)
    [ticket] = save_link_claims(walleted.client, ada, walleted.files.google_public_pem)["payload"]["eventTicketObjects"]
    assert ticket["id"] == _object_id(ada) != first and ticket["state"] == "ACTIVE"
    assert db.session.scalars(select(WalletPassUpdate.object_id)).all() == [first]  # the new pass stays active


def test_a_pass_nobody_saved_is_done_with_and_a_failing_google_is_tried_again(walleted):
    f.summit()
    saved, unsaved = f.registered(), f.registered()
    walleted.google.save(_object_id(saved))
    walleted.google.plan = lambda n: 503 if n == 1 else 200  # Google is down for the first call
    for person in (saved, unsaved):
        _leave("revoked", db.session.get(Invitation, person.id))

    rounds.run_scheduled_steps()
    db.session.expire_all()
    rows = {row.object_id: row for row in db.session.scalars(select(WalletPassUpdate))}
    first = rows[_object_id(saved)]
    assert first.status == WalletUpdateStatus.PENDING and first.attempts == 1 and "503" in first.outcome
    nobody = rows[_object_id(unsaved)]
    assert nobody.status == WalletUpdateStatus.DONE and nobody.outcome == "absent"  # never saved: nothing to mark

    first.next_attempt_at = utcnow()  # the backoff has passed
    db.session.commit()
    rounds.run_scheduled_steps()
    db.session.expire_all()
    assert db.session.get(WalletPassUpdate, first.id).status == WalletUpdateStatus.DONE
    assert walleted.google.objects[_object_id(saved)] == "INACTIVE"


def test_without_google_wallet_nothing_is_queued(app):
    f.summit()
    ada = f.registered()
    invitation_people.revoke_invitation(ada)
    db.session.commit()
    assert db.session.scalars(select(WalletPassUpdate)).all() == []


# --- the Apple certificate's expiry --------------------------------------------------------------


def test_summit_check_and_the_dashboard_warn_of_a_certificate_expiring_within_30_days(tmp_path):
    for days, warned in ((365, False), (20, True)):
        files = wallet_files(tmp_path / f"wallet-{days}", pass_certificate_days=days)
        application = _app("sqlite", tmp_path / f"app-{days}", files.settings)
        with application.app_context():
            f.summit()
            result = application.test_cli_runner().invoke(args=["summit", "check"])
            assert result.exit_code == 0, result.output  # a warning, not an inconsistency
            said = "Warning: The Apple Wallet pass certificate (APPLE_PASS_CERTIFICATE) expires on"
            assert (said in result.output) is warned, result.output
            client = application.test_client()
            f.sign_in(client, f.user(Role.ORGANISER))
            dashboard = page_text(client.get("/organiser/"))
            assert ("Wallet passes need attention" in dashboard) is warned
            if warned:
                assert "in 19 days" in result.output and "in 19 days" in dashboard
                # Still offered until it runs out.
                assert "Add to Apple Wallet" in page_text(client.get(link(f.registered(), "badge")))
            db.engine.dispose()


def test_an_expired_certificate_is_said_and_the_apple_button_hidden(tmp_path):
    files = wallet_files(tmp_path / "wallet", pass_certificate_days=-0.5)
    application = _app("sqlite", tmp_path / "app", files.settings)
    with application.app_context():
        f.summit()
        result = application.test_cli_runner().invoke(args=["summit", "check"])
        assert "(APPLE_PASS_CERTIFICATE) expired on" in result.output
        assert "Add to Apple Wallet is hidden until it is renewed" in result.output
        ada = f.registered()
        client = application.test_client()
        assert "Add to Apple Wallet" not in page_text(client.get(link(ada, "badge")))
        assert client.get(link(ada, "badge.pkpass")).status_code == 404
        assert "Save to Google Wallet" in page_text(client.get(link(ada, "badge")))
        db.engine.dispose()


def test_production_refuses_a_google_wallet_api_over_plain_http():
    config = settings_of(ProductionConfig)
    config.update(GOOGLE_WALLET_ISSUER_ID=ISSUER_ID, GOOGLE_WALLET_API_URL="http://walletobjects.example")
    assert any("GOOGLE_WALLET_API_URL is 'http://walletobjects.example'" in p for p in production_problems(config))
    config.update(GOOGLE_WALLET_API_URL="https://walletobjects.googleapis.com")
    assert not any("GOOGLE_WALLET" in p for p in production_problems(config))


def test_a_refusal_is_kept_as_failed_and_a_refused_token_waits_to_be_tried_again(walleted):
    f.summit()
    refused, waiting = f.registered(), f.registered()
    walleted.google.save(_object_id(refused))
    walleted.google.plan = lambda n: 403  # a service account without the Developer access level
    _leave("revoked", db.session.get(Invitation, refused.id))
    rounds.run_scheduled_steps()
    db.session.expire_all()
    row = db.session.scalars(select(WalletPassUpdate)).one()
    assert row.status == WalletUpdateStatus.FAILED and "(403)" in row.outcome
    assert walleted.google.objects[_object_id(refused)] == "ACTIVE"

    # Google refuses the grant (another key signed it): the pass stays queued, for when the key is put right.
    walleted.google.public_key_pem = walleted.files.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    walleted.google.plan = lambda n: 200
    _leave("revoked", db.session.get(Invitation, waiting.id))
    rounds.run_scheduled_steps()
    db.session.expire_all()
    row = db.session.scalars(select(WalletPassUpdate).where(WalletPassUpdate.object_id == _object_id(waiting))).one()
    assert row.status == WalletUpdateStatus.PENDING and "refused the service account's token" in row.outcome
    assert walleted.google.grants == 1  # only the first round's
