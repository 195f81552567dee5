"""GOV.UK Notify as a mail backend: every message through one generic email template, as its personalisation.

The template (subject `((subject))`, message `((body))`) is made once in Notify; the product's own wording, and the
organisers', travels in the personalisation. Notify writes the email from the body as its own light markdown, so
the plain-text version of the message is sent, with its headings and signature marked as Notify reads them.
"""

from __future__ import annotations

import re

from app.core.mail.backends import PermanentFailure, TemporaryFailure, retry_after
from app.core.mail.links import OutgoingMessage
from app.core.text_input import single_line

# A line all in capitals, after a blank line: a section's heading in the product's plain-text emails.
_SECTION_HEADING = re.compile(r"[A-Z][A-Z0-9 ,'’&-]*[A-Z]")
_SIGNATURE_RULE = ("-- ", "--")  # the plain text's signature separator
_BULLET = re.compile(r"[-*] ")


class NotifyBackend:
    """Notify's own client (POST /v2/notifications/email), pointed at NOTIFY_BASE_URL."""

    sends_texts = True

    def __init__(self, api_key: str, template_id: str, base_url: str, timeout: float, sms_template_id: str = ""):
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(api_key, base_url=base_url, timeout=timeout)
        self.template_id = template_id
        self.sms_template_id = sms_template_id

    def personalisation(self, message: OutgoingMessage) -> dict[str, str]:
        return {"subject": single_line(message.subject) or "", "body": notify_body(message.body_text, message.reply_to)}

    def send(self, message: OutgoingMessage) -> str:
        if message.channel == "sms":
            return self._call(self._send_text, message)
        return self._call(self._send_email, message)

    def _send_text(self, message: OutgoingMessage):
        if not self.sms_template_id:
            raise PermanentFailure(
                "Not sent: NOTIFY_SMS_TEMPLATE_ID is not set, so GOV.UK Notify has no template for texts."
            )
        return self.client.send_sms_notification(
            phone_number=message.to_phone,
            template_id=self.sms_template_id,
            personalisation={"body": message.body_text},
            reference=str(message.id),
        )

    def _send_email(self, message: OutgoingMessage):
        if message.attachments:
            # Written for a backend that attaches files (before MAIL_BACKEND changed): its words point at a file
            # Notify can't carry, so it isn't sent half-true.
            names = ", ".join(item["filename"] for item in message.attachments)
            raise PermanentFailure(
                f"Not sent: it was written with an attachment ({names}) before the mail backend became GOV.UK Notify, "
                "which can't carry one, and its words point to the file. The person's page has their calendar file."
            )
        return self.client.send_email_notification(
            email_address=message.to_email,
            template_id=self.template_id,
            personalisation=self.personalisation(message),
            # Carried back on every delivery receipt, so a receipt finds its message without guessing.
            reference=str(message.id),
        )

    def _call(self, send, message: OutgoingMessage) -> str:
        from notifications_python_client.errors import APIError, HTTPError

        try:
            response = send(message)
        except HTTPError as error:
            if error.response is None:  # never reached Notify (the client calls it a 503)
                raise TemporaryFailure(f"Could not reach GOV.UK Notify: {error.__cause__ or error}") from error
            status, reason = error.status_code, notify_reason(error)
            if status == 429 or status >= 500:
                raise TemporaryFailure(
                    f"GOV.UK Notify answered {status}: {reason}", retry_after(error.response.headers)
                ) from error
            raise PermanentFailure(f"GOV.UK Notify refused the message ({status}): {reason}") from error
        except APIError:
            # A 2xx whose body wasn't JSON: Notify took the message, so trying again would send it twice.
            return f"notify-{message.id}"
        return str((response or {}).get("id") or f"notify-{message.id}")


def notify_reason(error) -> str:
    """Notify's own words for a refusal: the `message` of each of its errors."""
    found = error.message
    if isinstance(found, list):
        found = "; ".join(str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in found)
    return str(found)[:300]


def notify_body(text: str, reply_to: str | None = None) -> str:
    """The plain-text message as Notify's markdown: its title a heading, each section's capitals a subheading in
    sentence case, the signature below a line, a blank line before each list (Notify needs one), and links left on
    lines of their own, as the text puts them. A message whose replies should go elsewhere says where, since
    Notify sends replies to the service's own reply-to address."""
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    out: list[str] = []
    for number, line in enumerate(lines):
        after_blank = number == 0 or not lines[number - 1].strip()
        before_blank = number + 1 >= len(lines) or not lines[number + 1].strip()
        if number == 0 and before_blank and line.strip():
            out.append(f"# {line.strip()}")
        elif after_blank and _SECTION_HEADING.fullmatch(line.strip()):
            out.append(f"## {line.strip().capitalize()}")
        elif line in _SIGNATURE_RULE:
            if out and out[-1].strip():
                out.append("")
            if reply_to:
                out += [f"To reply, write to: {reply_to}", ""]
                reply_to = None
            out.append("---")
        else:
            if _BULLET.match(line) and out and out[-1].strip() and not _BULLET.match(out[-1]):
                out.append("")
            out.append(line)
    if reply_to:
        out += ["", f"To reply, write to: {reply_to}"]
    return "\n".join(out)
