"""Sending queued notices: one attempt per claimed notice, logged, then sent, queued again on the retry
schedule, or failed for good (domain.notices.verdict).

Nothing is ever sent twice by the sender itself. The notice is claimed with its row lock (`conn`, the
caller's transaction), and the attempt is committed on a second, autocommit connection (`log_conn`)
before the message leaves; the result is written and the lock let go when the caller commits. If the
process dies while a message is out, the lock goes with it, and the next worker to claim the notice
finds the attempt unfinished: the message may or may not have gone, so the notice becomes `unknown`
and waits for the office (POST /v1/notices/{id}/retry) instead of going out again on its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import psycopg

from zfcommon.sealing import Envelope
from zfcommon.settings import ConfigError, Settings
from zfcommon.trackingcode import TrackingKey
from zfcommon.workdays import local_date

from ..adapters import enforcement, mailer, notice_text, robots, sms
from ..adapters import notices as store
from ..adapters.intake_client import IntakeClient, IntakeUnavailable
from ..domain import notices
from ..domain import robots as robot_messages
from ..domain.notices import Outcome

log = logging.getLogger(__name__)
Row = dict[str, Any]
NOT_CONFIGURED = {"email": "email is not configured (ZF_SMTP_HOST, ZF_MAIL_FROM)",
                  "sms": "the SMS gateway is not configured (ZF_SMS_URL)"}


@dataclass(frozen=True)
class Config:
    schedule: tuple[float, ...]
    office: str
    case_link: str
    mail: mailer.MailConfig | None
    sms: sms.SmsConfig | None
    timeout: float = 15.0           # seconds a group robot has to answer (the SMTP server and gateway: theirs)
    tracking: TrackingKey = field(default_factory=lambda: TrackingKey(""))   # the 查询码 in a 受理告知
    secrets: Envelope | None = None     # opens the party's number of an enforcement action (ZF_NOTIFY_MASTER_KEY)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Config":
        try:
            schedule = notices.parse_schedule(settings.notice_retry_schedule)
        except ValueError as exc:
            raise ConfigError(f"ZF_NOTICE_RETRY_SCHEDULE: {exc}") from None
        if settings.sms_url and settings.sms_provider not in sms.PROVIDERS:
            raise ConfigError(f"ZF_SMS_PROVIDER must be one of {', '.join(sms.PROVIDERS)}")
        if settings.smtp_host and not settings.mail_from:
            raise ConfigError("ZF_SMTP_HOST is set: ZF_MAIL_FROM must name the notices' From address")
        mail = mailer.MailConfig(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                                 settings.smtp_starttls, settings.mail_from, settings.notice_office,
                                 settings.notice_timeout) if settings.smtp_host else None
        gateway = sms.SmsConfig(settings.sms_url, settings.sms_token, settings.notice_office, settings.sms_provider,
                                settings.notice_timeout) if settings.sms_url else None
        link = settings.case_link or f"{settings.ledger_url.rstrip('/')}/v1/cases/{{case_id}}"
        secrets = (Envelope.from_setting(settings.notify_master_key, "ZF_NOTIFY_MASTER_KEY")
                   if settings.notify_master_key.strip() else None)
        return cls(schedule, settings.notice_office, link, mail, gateway, settings.notice_timeout,
                   TrackingKey(settings.tracking_key), secrets)


@dataclass(frozen=True)
class Channels:
    """The world outside: intake for the complainant's number and the units' robot addresses, and the
    ways out."""
    intake: IntakeClient
    send_mail: Callable[..., Outcome] = mailer.send
    send_sms: Callable[..., Outcome] = sms.send
    send_robot: Callable[..., Outcome] = robots.send
    now: Callable[[], datetime] = field(default=lambda: datetime.now(timezone.utc))


def send_one(conn: psycopg.Connection, log_conn: psycopg.Connection, config: Config, channels: Channels) -> str | None:
    """Attempt the next due notice once; returns the notice's status afterwards, or None when nothing
    is due. The caller commits `conn` (`log_conn` commits on its own)."""
    now = channels.now()
    notice = store.claim(conn, now)
    if notice is None:
        return None
    unfinished = store.unfinished_attempt(conn, notice["id"])
    if unfinished is not None:
        log.warning("notice_interrupted", extra={"notice": notice["id"], "case_id": notice["case_id"]})
        return _conclude(conn, notice, unfinished["id"], now, "unknown", "interrupted",
                         Outcome(False, error="the sender stopped during this attempt: the message may have gone out"))
    try:
        text = notice_text.render(notice["kind"], notice["context"], office=config.office, case_link=config.case_link,
                                  tracking=config.tracking,
                                  today=local_date(now))
    except Exception as exc:          # a template that cannot render this notice is a bug: shown, not looped on
        log.exception("notice_template_failed", extra={"notice": notice["id"], "kind": notice["kind"]})
        return _conclude(conn, notice, None, now, "failed", "failed", Outcome(False, True, error=f"template: {exc}"))
    channel = notice["channel"]
    email, robot = channel == "email", channel in notices.ROBOT_NAMES
    body = robot_messages.markdown(text.subject, text.email) if robot else text.email if email else text.sms
    store.update(conn, notice["id"], subject=text.subject if email or robot else None, body=body,
                 segments=None if email or robot else text.segments)
    if robot:
        return _to_robot(conn, log_conn, notice, now, config, channels, text.subject, body)
    if (config.mail if email else config.sms) is None:
        _not_configured(channel, notice["id"])
        return _conclude(conn, notice, None, now, "not_configured", "not_configured",
                         Outcome(False, error=NOT_CONFIGURED[notice["channel"]]))
    to = notice["recipient"]
    if notice["audience"] == notices.COMPLAINANT:
        try:
            to, why_not = _complainant_phone(channels.intake, notice["case_id"], notice["kind"])
        except IntakeUnavailable as exc:
            return _after_attempt(conn, notice, None, now, config, Outcome(False, error=str(exc)))
        if why_not:
            return _conclude(conn, notice, None, now, "skipped", "skipped", Outcome(False, error=why_not))
        store.update(conn, notice["id"], masked_to=notices.mask_phone(to))
    elif notice["audience"] == notices.INSPECTED:
        to = enforcement.phone(conn, config.secrets, notice["context"]["action_id"], now) if config.secrets else None
        if to is None:
            return _conclude(conn, notice, None, now, "skipped", "skipped", Outcome(False, error=(
                "the party's number is no longer kept (rated, or the request expired)" if config.secrets
                else "ZF_NOTIFY_MASTER_KEY is not set: the party's number cannot be opened")))
        store.update(conn, notice["id"], masked_to=notices.mask_phone(to))
    attempt_id = store.start_attempt(log_conn, notice["id"], now)
    if email:
        outcome = channels.send_mail(config.mail, to, text.subject, text.email,
                                     mailer.message_id(notice["id"], config.mail.sender))
    else:
        ext = notices.reply_code(notice["id"]) if notice["kind"] in notices.REPLY_KINDS else None
        outcome = channels.send_sms(config.sms, to, text.sms, template=notice["kind"],
                                    client_ref=f"zf-notice-{notice['id']}", ext=ext)
    return _after_attempt(conn, notice, attempt_id, now, config, outcome)


_UNCONFIGURED_SEEN: set[str] = set()


def _not_configured(channel: str, notice_id: int) -> None:
    """A warning the first time a process meets a channel that is not configured, then one debug line
    per notice: a county without a mail server would otherwise log a warning for every notice, while each
    notice's status (not_configured, the missing setting in last_error) already says it."""
    if channel not in _UNCONFIGURED_SEEN:
        _UNCONFIGURED_SEEN.add(channel)
        log.warning("notice_channel_not_configured",
                    extra={"channel": channel, "setting": NOT_CONFIGURED[channel], "notice": notice_id})
    log.debug("notice_not_configured", extra={"notice": notice_id, "channel": channel})


def _to_robot(conn: psycopg.Connection, log_conn: psycopg.Connection, notice: Row, now: datetime, config: Config,
              channels: Channels, title: str, content: str) -> str:
    """A unit's group robot: its address is asked of intake now (the unit may have replaced it since the
    notice was queued), used for this attempt and forgotten."""
    try:
        address = channels.intake.robot_address(notice["unit"], notice["channel"])
    except IntakeUnavailable as exc:
        return _after_attempt(conn, notice, None, now, config, Outcome(False, error=str(exc)))
    if address is None:
        return _conclude(conn, notice, None, now, "skipped", "skipped",
                         Outcome(False, error=f"the unit has no {notice['channel']} group robot any more"))
    attempt_id = store.start_attempt(log_conn, notice["id"], now)
    outcome = channels.send_robot(notice["channel"], address, title, content, config.timeout)
    return _after_attempt(conn, notice, attempt_id, now, config, outcome)


def _complainant_phone(intake: IntakeClient, case_id: str, kind: str) -> tuple[str | None, str | None]:
    """(phone, None), or (None, why no SMS can go). Each ask is a reveal intake records."""
    found = intake.complainant(case_id, f"向投诉人发送短信：{notices.KINDS[kind].title}")
    if not found.found:
        return None, "intake has no such case"
    if found.erased:
        return None, "the complainant's data was erased"
    if not found.phone:
        return None, "the complainant left no phone number"
    return found.phone, None


def _after_attempt(conn: psycopg.Connection, notice: Row, attempt_id: int | None, started: datetime, config: Config,
                   outcome: Outcome) -> str:
    attempts = notice["attempts"] + 1
    verdict = notices.verdict(outcome.ok, outcome.permanent, attempts, config.schedule)
    result = {"sent": "sent", "queued": "retry"}.get(verdict.status, "failed")
    next_at = started + timedelta(seconds=verdict.delay) if verdict.status == "queued" else None
    return _conclude(conn, notice, attempt_id, started, verdict.status, result, outcome, attempts, next_at)


def _conclude(conn: psycopg.Connection, notice: Row, attempt_id: int | None, started: datetime, status: str,
              result: str, outcome: Outcome, attempts: int | None = None, next_at: datetime | None = None) -> str:
    finished = datetime.now(timezone.utc)
    store.finish_attempt(conn, attempt_id, notice["id"], {
        "started_at": started, "finished_at": finished, "result": result,
        "provider_message_id": outcome.message_id, "error": outcome.error, "duration_ms": outcome.duration_ms})
    changes: dict[str, Any] = {"status": status, "next_attempt_at": next_at, "last_error": outcome.error,
                               "updated_at": finished, "attempts": notice["attempts"] if attempts is None else attempts}
    if outcome.ok:
        changes.update(provider_message_id=outcome.message_id, sent_at=finished)
    store.update(conn, notice["id"], **changes)
    log.info("notice_attempt", extra={"notice": notice["id"], "kind": notice["kind"], "channel": notice["channel"],
                                      "case_id": notice["case_id"], "result": result, "status": status})
    return status
