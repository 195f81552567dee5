"""Wallet settings for tests: a self-signed stand-in for Apple's WWDR intermediate, a pass certificate it issued with
its key, and a Google service account's JSON key, all made here with `cryptography` and written to a folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

PASS_TYPE_ID = "pass.uk.org.suffolk.newhorizons.test"
TEAM_ID = "TESTTEAM01"
ISSUER_ID = "3388000000022222228"
CLIENT_EMAIL = "wallet-issuer@new-horizons-test.iam.gserviceaccount.com"
KEY_PASSWORD = "pass-key-password-for-tests"
_KEYS: list[rsa.RSAPrivateKey] = []


def _key(n: int) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: a few, made once per test process."""
    while len(_KEYS) <= n:
        _KEYS.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _KEYS[n]


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificate(subject: str, key, issuer: str, issuer_key, not_after: datetime, ca: bool) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


@dataclass
class WalletFiles:
    settings: dict
    certificate: x509.Certificate
    wwdr: x509.Certificate
    google_public_pem: bytes
    wwdr_path: Path


def wallet_files(folder: Path, *, pass_certificate_days: float = 365, apple: bool = True, google: bool = True):
    """Write the files and return the settings that name them (both wallets, or the ones asked for)."""
    folder.mkdir(parents=True, exist_ok=True)
    wwdr_key, pass_key, google_key = _key(0), _key(1), _key(2)
    wwdr = _certificate(
        "Test Worldwide Developer Relations", wwdr_key, "Test Worldwide Developer Relations", wwdr_key,
        datetime.now(UTC) + timedelta(days=3650), ca=True,
    )  # fmt: skip
    certificate = _certificate(
        f"Pass Type ID: {PASS_TYPE_ID}", pass_key, "Test Worldwide Developer Relations", wwdr_key,
        datetime.now(UTC) + timedelta(days=pass_certificate_days), ca=False,
    )  # fmt: skip
    paths = {name: folder / name for name in ("pass-cert.pem", "pass-key.pem", "wwdr.cer", "google-key.json")}
    paths["pass-cert.pem"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths["pass-key.pem"].write_bytes(
        pass_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
        )
    )
    paths["wwdr.cer"].write_bytes(wwdr.public_bytes(serialization.Encoding.DER))  # as Apple's site hands it out
    private_pem = google_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    paths["google-key.json"].write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "new-horizons-test",
                "private_key_id": "test-key-id-1",
                "private_key": private_pem,
                "client_email": CLIENT_EMAIL,
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    settings: dict = {}
    if apple:
        settings.update(
            APPLE_PASS_TYPE_ID=PASS_TYPE_ID,
            APPLE_TEAM_ID=TEAM_ID,
            APPLE_PASS_CERTIFICATE=str(paths["pass-cert.pem"]),
            APPLE_PASS_KEY=str(paths["pass-key.pem"]),
            APPLE_PASS_KEY_PASSWORD=KEY_PASSWORD,
            APPLE_WWDR_CERTIFICATE=str(paths["wwdr.cer"]),
        )
    if google:
        settings.update(GOOGLE_WALLET_ISSUER_ID=ISSUER_ID, GOOGLE_WALLET_KEY_FILE=str(paths["google-key.json"]))
    public = google_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return WalletFiles(
        settings=settings, certificate=certificate, wwdr=wwdr, google_public_pem=public, wwdr_path=paths["wwdr.cer"]
    )
