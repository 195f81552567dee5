"""Where outbox messages go: SendGrid or GOV.UK Notify in production; memory, file or console in development and tests."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

from flask import current_app

from app.core.mail.links import OutgoingMessage
from app.core.text_input import single_line
from config import notify_problems

SENT_IN_MEMORY: list[dict] = []  # the memory backend's mailbox, read by tests


class TemporaryFailure(Exception):
    """Try again later: the network, a 429 or a 5xx. `retry_after` is the provider's hint, in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """Trying again won't help (a 4xx other than 429): an organiser must look."""


class MemoryBackend:
    def send(self, message: OutgoingMessage) -> str:
        SENT_IN_MEMORY.append(_summary(message))
        return f"memory-{message.id}"


class FileBackend:
    def __init__(self, folder: str):
        self.folder = Path(folder)

    def send(self, message: OutgoingMessage) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = f"{message.id:06d}-{message.kind}"
        (self.folder / f"{stem}.json").write_text(json.dumps(_summary(message), indent=2))
        (self.folder / f"{stem}.html").write_text(message.body_html)
        return f"file-{message.id}"


class ConsoleBackend:
    def send(self, message: OutgoingMessage) -> str:
        print(
            f"--- email {message.id} ({message.kind}) to {message.to_email}: {message.subject}\n{message.body_text}\n"
        )
        return f"console-{message.id}"


class SendGridBackend:
    """SendGrid's own library (v3 mail send), pointed at SENDGRID_HOST."""

    def __init__(self, api_key: str, host: str, from_email: str, from_name: str, timeout: float):
        from sendgrid import SendGridAPIClient

        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.client.client.timeout = timeout  # the library waits forever by default
        self.from_email, self.from_name = from_email, from_name

    def build(self, message: OutgoingMessage):
        from sendgrid.helpers.mail import (
            Attachment,
            Category,
            ClickTracking,
            Content,
            CustomArg,
            Disposition,
            FileContent,
            FileName,
            FileType,
            From,
            Mail,
            ReplyTo,
            To,
            TrackingSettings,
        )

        mail = Mail(
            from_email=From(message.from_email or self.from_email, message.from_name or self.from_name),
            to_emails=To(message.to_email, single_line(message.to_name) or None),
            subject=single_line(message.subject),
        )
        mail.add_content(Content("text/plain", message.body_text))
        mail.add_content(Content("text/html", message.body_html))
        if message.reply_to:
            mail.reply_to = ReplyTo(message.reply_to)
        for item in message.attachments or []:
            mail.add_attachment(
                Attachment(
                    FileContent(item["content_b64"]),
                    FileName(item["filename"]),
                    FileType(item["content_type"]),
                    Disposition("attachment"),
                )
            )
        # Carried back on every webhook event, so events find their message without guessing.
        mail.add_custom_arg(CustomArg("outbox_id", str(message.id)))
        mail.add_category(Category(message.kind))
        # Click tracking would rewrite every link through SendGrid and report each click's URL back to the
        # webhook: a personal or sign-in link would leave the person. Off in every request, whatever the
        # account's default.
        mail.tracking_settings = TrackingSettings(click_tracking=ClickTracking(enable=False, enable_text=False))
        return mail

    def send(self, message: OutgoingMessage) -> str:
        from python_http_client.exceptions import HTTPError

        try:
            response = self.client.send(self.build(message))
        except HTTPError as error:
            status = getattr(error, "status_code", 0) or 0
            body = _short(getattr(error, "body", b""))
            if status == 429 or status >= 500:
                headers = getattr(error, "headers", None) or {}
                raise TemporaryFailure(f"SendGrid answered {status}: {body}", retry_after(headers)) from error
            raise PermanentFailure(f"SendGrid refused the message ({status}): {body}") from error
        except (TimeoutError, urllib.error.URLError, ConnectionError, OSError) as error:
            raise TemporaryFailure(f"Could not reach SendGrid: {error}") from error
        return response.headers.get("X-Message-Id", "") or f"sendgrid-{message.id}"


# Backends that carry no attachments: a message for them gives each calendar file as a link instead (compose.py).
WITHOUT_ATTACHMENTS = {"notify"}


def takes_attachments() -> bool:
    """Whether the configured backend delivers attachments."""
    return current_app.config["MAIL_BACKEND"] not in WITHOUT_ATTACHMENTS


def backend_from_config():
    config = current_app.config
    name = config["MAIL_BACKEND"]
    if name == "notify":
        from app.core.mail.notify import NotifyBackend

        problems = notify_problems(config)
        if problems:
            raise RuntimeError("GOV.UK Notify can't send yet. " + " ".join(problems))
        return NotifyBackend(
            config["NOTIFY_API_KEY"],
            config["NOTIFY_EMAIL_TEMPLATE_ID"],
            config["NOTIFY_BASE_URL"],
            config["NOTIFY_TIMEOUT"],
            sms_template_id=config.get("NOTIFY_SMS_TEMPLATE_ID") or "",
        )
    if name == "sendgrid":
        return SendGridBackend(
            config["SENDGRID_API_KEY"],
            config["SENDGRID_HOST"],
            config["MAIL_FROM"],
            config["MAIL_FROM_NAME"],
            config["SENDGRID_TIMEOUT"],
        )
    if name == "memory":
        return MemoryBackend()
    if name == "file":
        return FileBackend(config["MAIL_FILE_DIR"])
    if name == "console":
        return ConsoleBackend()
    raise RuntimeError(f"Unknown MAIL_BACKEND {name!r}: use sendgrid, notify, console, file or memory.")


def _summary(message: OutgoingMessage) -> dict:
    return {
        "id": message.id,
        "kind": message.kind,
        "to": message.to_email,
        "to_name": message.to_name,
        "from": message.from_email,
        "from_name": message.from_name,
        "reply_to": message.reply_to,
        "subject": message.subject,
        "text": message.body_text,
        "attachments": [a["filename"] for a in message.attachments or []],
    }


def _short(body) -> str:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return str(body)[:300]


def retry_after(headers) -> float | None:
    """The provider's Retry-After header, in seconds, if it gave one."""
    try:
        value = headers.get("Retry-After") if hasattr(headers, "get") else None
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
