"""SMS through an HTTP gateway. One provider kind so far, "generic-json" (docs/NOTICES.md):

    POST ZF_SMS_URL   Authorization: Bearer ZF_SMS_TOKEN   Content-Type: application/json
    {"to": "13807391234", "text": "…", "sign_name": "正风办", "template": "visit_request",
     "client_ref": "zf-notice-42", "ext": "0042"}
    → 2xx {"message_id": "…"}

2xx: accepted; 408, 429 and 5xx, a timeout or no answer: tried again later; any other 4xx: refused for
good. `ext` is sent with visit requests only: the extension code the gateway appends to the sending
number, so the complainant's reply comes back with it (POST /v1/sms/replies). `client_ref` is the
same on every attempt, for gateways that recognise a message they already have.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..domain.notices import Outcome
from . import sender

PROVIDERS = ("generic-json",)
USER_AGENT = "Zhengfeng-Notices/1.0"
RETRIED = frozenset({408, 429})


@dataclass(frozen=True)
class SmsConfig:
    url: str
    token: str = ""
    sign_name: str = ""
    provider: str = "generic-json"
    timeout: float = 15.0


def send(config: SmsConfig, to: str, text: str, *, template: str, client_ref: str, ext: str | None = None) -> Outcome:
    body = {"to": to, "text": text, "sign_name": config.sign_name, "template": template, "client_ref": client_ref}
    if ext:
        body["ext"] = ext
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if config.token:
        headers["Authorization"] = f"Bearer {config.token}"
    answer = sender.post(config.url, json.dumps(body, ensure_ascii=False).encode(), headers, config.timeout)
    if answer.status is None:
        return Outcome(False, error=answer.error, duration_ms=answer.duration_ms)
    if 200 <= answer.status < 300:
        return Outcome(True, message_id=_message_id(answer.response), duration_ms=answer.duration_ms)
    permanent = 400 <= answer.status < 500 and answer.status not in RETRIED
    error = f"HTTP {answer.status}" + (f": {answer.response[:300]}" if answer.response else "")
    return Outcome(False, permanent, error=error, duration_ms=answer.duration_ms)


def _message_id(response: str | None) -> str | None:
    try:
        doc = json.loads(response or "")
    except ValueError:
        return None
    value = doc.get("message_id") if isinstance(doc, dict) else None
    return str(value)[:200] if value is not None else None
