"""Apple Wallet: a badge as a signed .pkpass, and the warnings organisers need about the pass certificate.

A .pkpass is a zip of pass.json, its images, manifest.json (the SHA-1 of every other file) and `signature`: a
detached PKCS#7 signature of manifest.json, in DER, by the organisers' pass certificate, with Apple's WWDR
intermediate certificate enclosed. Building is pure (facts and signer in, bytes out); only the signer reads files.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from PIL import Image, ImageDraw

from app.badges.wallet import PassFacts
from app.core.timefmt import day_year, local

log = logging.getLogger(__name__)

# Every one of these set shows Add to Apple Wallet (APPLE_PASS_KEY_PASSWORD only when the key has one).
SETTINGS = ("APPLE_PASS_TYPE_ID", "APPLE_TEAM_ID", "APPLE_PASS_CERTIFICATE", "APPLE_PASS_KEY", "APPLE_WWDR_CERTIFICATE")
MIMETYPE = "application/vnd.apple.pkpass"
WARN_DAYS = 30  # organisers are warned this long before a certificate runs out
TEAL, AMBER, WHITE = (11, 85, 99), (242, 165, 65), (255, 255, 255)


class WalletUnavailable(Exception):
    """The settings name files that can't make a signature (missing, unreadable, a key that isn't the certificate's)."""


def configured(config: Mapping) -> bool:
    return all(config.get(name) for name in SETTINGS)


# --- pass.json and the images -----------------------------------------------------------------


def _rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({}, {}, {})".format(*colour)


def pass_json(facts: PassFacts, *, pass_type_id: str, team_id: str) -> dict:
    """The pass's description (Apple's PassKit Package Format): an event ticket for the summit."""
    return {
        "formatVersion": 1,
        "passTypeIdentifier": pass_type_id,
        "teamIdentifier": team_id,
        "serialNumber": facts.serial,
        "organizationName": facts.event,
        "description": f"Badge for {facts.event}",
        "logoText": facts.event,
        "foregroundColor": _rgb(WHITE),
        "backgroundColor": _rgb(TEAL),
        "labelColor": _rgb(AMBER),
        # The pass comes up on the lock screen on the day; after the summit Wallet files it with expired passes.
        "relevantDate": local(facts.starts_at).isoformat(),
        "expirationDate": local(facts.ends_at + timedelta(hours=6)).isoformat(),
        "sharingProhibited": True,
        "eventTicket": {
            "primaryFields": [{"key": "name", "label": facts.role_label, "value": facts.name}],
            "secondaryFields": [
                {"key": "date", "label": "Date", "value": facts.date},
                {"key": "time", "label": "Time", "value": facts.time},
            ],
            "auxiliaryFields": [
                {"key": "venue", "label": "Place", "value": facts.venue},
                {"key": "organisation", "label": "Organisation", "value": facts.organisation},
            ],
            "backFields": [
                {"key": "address", "label": "Address", "value": facts.address},
                {"key": "code", "label": "Badge code, if the scanner can't read the QR", "value": facts.code},
                {
                    "key": "door",
                    "label": "At the door",
                    "value": "Show this QR code at the door of the summit. Turn your screen brightness up.",
                },
            ],
        },
        "barcodes": [
            {
                "format": "PKBarcodeFormatQR",
                "message": facts.code,
                "messageEncoding": "iso-8859-1",
                "altText": facts.code,
            }
        ],
    }


def _mark(size: int, background: tuple[int, int, int] | None) -> bytes:
    """The summit's mark, drawn here: an amber sun rising over a white horizon, on teal (or on nothing)."""
    scale = 4  # drawn large and scaled down, for smooth edges
    side = size * scale
    image = Image.new("RGBA", (side, side), (*background, 255) if background else (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    horizon = int(side * 0.64)
    radius = int(side * 0.3)
    centre = side // 2
    draw.pieslice((centre - radius, horizon - radius, centre + radius, horizon + radius), 180, 360, fill=AMBER)
    line = max(scale, side // 14)
    draw.rectangle((int(side * 0.1), horizon, int(side * 0.9), horizon + line), fill=WHITE)
    buffer = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


@lru_cache(maxsize=1)
def images() -> dict[str, bytes]:
    """The icon (on notifications and the lock screen) and the logo (on the pass), at 1x and 2x."""
    return {
        "icon.png": _mark(29, TEAL),
        "icon@2x.png": _mark(58, TEAL),
        "logo.png": _mark(50, None),
        "logo@2x.png": _mark(100, None),
    }


def manifest(files: Mapping[str, bytes]) -> bytes:
    """Every file's SHA-1, in hex, by name: what the signature vouches for."""
    digests = {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())}
    return json.dumps(digests, indent=2).encode()


# --- the signature ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    wwdr: x509.Certificate

    def sign(self, data: bytes) -> bytes:
        """A detached PKCS#7 signature of `data`, in DER, with the WWDR certificate enclosed."""
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(data)
            .add_signer(self.certificate, self.key, hashes.SHA256())
            .add_certificate(self.wwdr)
            .sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])
        )


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        raise WalletUnavailable(f"{what} names {path}, which can't be read ({error.strerror}).") from None


def read_certificate(path: str, what: str) -> x509.Certificate:
    """A certificate in PEM, or in DER as Apple's developer site downloads it (.cer)."""
    data = _read(path, what)
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise WalletUnavailable(f"{what} names {path}, which is not a certificate (PEM or DER).") from None


def _public(value) -> bytes:
    return value.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@lru_cache(maxsize=4)
def _signer(paths: tuple[str, str, str], password: str, _stamps: tuple) -> Signer:
    certificate_path, key_path, wwdr_path = paths
    certificate = read_certificate(certificate_path, "APPLE_PASS_CERTIFICATE")
    wwdr = read_certificate(wwdr_path, "APPLE_WWDR_CERTIFICATE")
    try:
        key = serialization.load_pem_private_key(
            _read(key_path, "APPLE_PASS_KEY"), password=password.encode() if password else None
        )
    except (ValueError, TypeError):
        raise WalletUnavailable(
            f"APPLE_PASS_KEY names {key_path}, which can't be read as a PEM private key with "
            "APPLE_PASS_KEY_PASSWORD (check the file, and the password if the key has one)."
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise WalletUnavailable(f"APPLE_PASS_KEY names {key_path}, which is not an RSA or EC key.")
    if _public(key.public_key()) != _public(certificate.public_key()):
        raise WalletUnavailable(
            "APPLE_PASS_KEY is not the private key of APPLE_PASS_CERTIFICATE: export both from the same "
            "Certificates.p12."
        )
    return Signer(certificate=certificate, key=key, wwdr=wwdr)


def _stamp(path: str) -> tuple:
    try:
        stat = os.stat(path)
    except OSError:
        return (path, None)
    return (path, stat.st_mtime_ns, stat.st_size)


def signer_from(config: Mapping) -> Signer:
    """The signer the settings name, read once per change of its files; WalletUnavailable says what is wrong."""
    paths = (config["APPLE_PASS_CERTIFICATE"], config["APPLE_PASS_KEY"], config["APPLE_WWDR_CERTIFICATE"])
    return _signer(paths, config.get("APPLE_PASS_KEY_PASSWORD") or "", tuple(_stamp(p) for p in paths))


def available(config: Mapping, now: datetime | None = None) -> bool:
    """Whether Add to Apple Wallet can be offered: configured, files that sign, and a certificate still in date (a
    pass signed by an expired certificate doesn't open). What is wrong is on the dashboard and in `summit check`."""
    if not configured(config):
        return False
    try:
        signer = signer_from(config)
    except WalletUnavailable as error:
        log.warning("Add to Apple Wallet is not offered: %s", error)
        return False
    now = now or datetime.now(UTC)
    return now < signer.certificate.not_valid_after_utc and now < signer.wwdr.not_valid_after_utc


def pkpass(facts: PassFacts, *, pass_type_id: str, team_id: str, signer: Signer) -> bytes:
    """The .pkpass file: the pass, its images, the manifest and the signature, zipped."""
    files = {
        "pass.json": json.dumps(pass_json(facts, pass_type_id=pass_type_id, team_id=team_id), indent=2).encode(),
        **images(),
    }
    listed = manifest(files)
    files["manifest.json"] = listed
    files["signature"] = signer.sign(listed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pkpass_from_config(facts: PassFacts, config: Mapping) -> bytes:
    return pkpass(
        facts, pass_type_id=config["APPLE_PASS_TYPE_ID"], team_id=config["APPLE_TEAM_ID"], signer=signer_from(config)
    )


# --- warnings for organisers ------------------------------------------------------------------


def certificate_warnings(config: Mapping, now: datetime | None = None) -> list[str]:
    """Sentences for the dashboard and `summit check`: a certificate that runs out within WARN_DAYS days or has run
    out, or files that can't sign. Nothing when Apple Wallet isn't set up."""
    if not configured(config):
        return []
    now = now or datetime.now(UTC)
    try:
        signer = signer_from(config)
    except WalletUnavailable as error:
        return [f"Add to Apple Wallet is not offered: {error}"]
    warnings = []
    renew = {
        "The Apple Wallet pass certificate (APPLE_PASS_CERTIFICATE)": (
            signer.certificate,
            "make a new pass certificate for the same pass type id in the Apple Developer account (Certificates, "
            "Identifiers & Profiles), then set APPLE_PASS_CERTIFICATE and APPLE_PASS_KEY to it and its key.",
        ),
        "Apple's WWDR intermediate certificate (APPLE_WWDR_CERTIFICATE)": (
            signer.wwdr,
            "download the current one from Apple's certificate authority page (apple.com/certificateauthority) and "
            "set APPLE_WWDR_CERTIFICATE to it.",
        ),
    }
    for what, (certificate, how) in renew.items():
        ends = certificate.not_valid_after_utc
        if ends <= now:
            warnings.append(
                f"{what} expired on {day_year(ends)}: Add to Apple Wallet is hidden until it is renewed. To renew it, {how}"
            )
        elif ends - now <= timedelta(days=WARN_DAYS):
            days = (ends - now).days
            left = "less than a day" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
            warnings.append(
                f"{what} expires on {day_year(ends)}, in {left}: after that, delegates can't add their badge to "
                f"Apple Wallet. To renew it, {how}"
            )
    return warnings
