"""Email over SMTP (smtplib): one message per notice, plain text in UTF-8.

Headers that hold Chinese (Subject, the sender's display name) are RFC 2047 encoded and the body is
base64, so any SMTP server takes the message whether or not it offers SMTPUTF8 or 8BITMIME. The
Message-ID is the notice's own (the same on every attempt), so a mail system that keeps them can
recognise a message it already has.
"""
from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from ..domain.notices import Outcome


@dataclass(frozen=True)
class MailConfig:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    starttls: bool = False
    sender: str = ""            # the From address
    sender_name: str = ""       # its display name (the office)
    timeout: float = 15.0


def message_id(notice_id: int, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "zhengfeng.invalid"
    return f"<zf-notice-{notice_id}@{domain}>"


def build(config: MailConfig, to: str, subject: str, body: str, msg_id: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = formataddr((config.sender_name, config.sender)) if config.sender_name else config.sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime.now(timezone.utc))
    msg["Message-ID"] = msg_id
    msg.set_content(body, charset="utf-8", cte="base64")
    return msg


def _permanent(code: int) -> bool:
    return 500 <= code < 600


def send(config: MailConfig, to: str, subject: str, body: str, msg_id: str) -> Outcome:
    """Hand one message to the SMTP server. A 5xx answer is permanent (the address or the message is
    refused); a 4xx, a failed login, a refused connection or a timeout are worth another try."""
    started = time.perf_counter()

    def outcome(ok: bool, error: str | None = None, permanent: bool = False) -> Outcome:
        return Outcome(ok, permanent, msg_id if ok else None, error, round((time.perf_counter() - started) * 1000))
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password)
            smtp.send_message(build(config, to, subject, body, msg_id))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        return outcome(False, f"recipient refused: {exc.recipients}"[:500], all(_permanent(c) for c in codes))
    except smtplib.SMTPAuthenticationError as exc:
        return outcome(False, f"SMTP login failed ({exc.smtp_code})")
    except smtplib.SMTPResponseException as exc:
        return outcome(False, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"[:500], _permanent(exc.smtp_code))
    except (smtplib.SMTPException, OSError) as exc:
        return outcome(False, f"{type(exc).__name__}: {exc}"[:500])
    return outcome(True)
