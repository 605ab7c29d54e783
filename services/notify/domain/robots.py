"""Group robots, pure: the message a unit's WeCom (企业微信) or DingTalk (钉钉) group robot gets, DingTalk's
signed URL, and what the robot's answer means (docs/NOTICES.md "Group robots").

- WeCom: POST the robot's webhook address (…/cgi-bin/webhook/send?key=…) with
  `{"msgtype": "markdown", "markdown": {"content": …}}`; the content is at most 4096 bytes of UTF-8.
- DingTalk: POST `{"msgtype": "markdown", "markdown": {"title": …, "text": …}}` to the robot's address
  (…/robot/send?access_token=…) with `&timestamp=<ms>&sign=<sign>` appended, where sign is
  urlencode(base64(HMAC-SHA256(key = secret, message = timestamp + "\\n" + secret))); DingTalk refuses a
  timestamp more than an hour from its clock.
- Both answer HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` when the message went out, and HTTP 200 with
  another errcode when it did not: an errcode other than 0 is a failure, never a success. Their rate
  limits (20 messages a minute per robot) and "system busy" are tried again on the notice schedule; any
  other errcode (a wrong key or token, a signature refused, a robot removed) fails the notice at once, for
  the office to fix the robot and retry.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from urllib.parse import quote_plus

from .notices import Outcome

MAX_CONTENT_BYTES = 4000            # under WeCom's 4096-byte markdown limit (DingTalk allows more)
# errcodes that mean "not now": system busy (-1) both; WeCom 45009 API frequency; DingTalk 130101 send
# too fast (20 a minute, then 10 minutes of refusals) and 90030 webhook over its daily limit.
RETRIED_ERRCODES = {"wecom": frozenset({-1, 45009}), "dingtalk": frozenset({-1, 130101, 90030})}
RETRIED_HTTP = frozenset({408, 429})


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes


def markdown(title: str, text: str) -> str:
    """The notice as robot markdown: its subject as a heading, each line of the email's text its own
    paragraph (DingTalk joins single line breaks), cut to what WeCom takes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    content = "\n\n".join([f"### {title}", *lines])
    return _cut(content, MAX_CONTENT_BYTES)


def _cut(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit - len("…".encode())].decode("utf-8", "ignore") + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(mac).decode())


def request(kind: str, address: dict, title: str, content: str, timestamp_ms: int) -> Request:
    """The POST that hands `content` to the robot at `address` ({webhook_url, secret?})."""
    if kind == "wecom":
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        url = address["webhook_url"]
    else:
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": content}}
        url = (f"{address['webhook_url']}&timestamp={timestamp_ms}"
               f"&sign={dingtalk_sign(address['secret'], timestamp_ms)}")
    return Request(url, json.dumps(body, ensure_ascii=False).encode())


def outcome(kind: str, status: int | None, response: str | None, error: str | None, duration_ms: int) -> Outcome:
    """What the robot's answer means. No answer, 408, 429 or 5xx: tried again; another non-2xx: failed
    for good; a 2xx is sent only with errcode 0."""
    if status is None:
        return Outcome(False, error=error, duration_ms=duration_ms)
    if not 200 <= status < 300:
        permanent = status < 500 and status not in RETRIED_HTTP
        return Outcome(False, permanent, error=f"HTTP {status}" + (f": {response[:300]}" if response else ""),
                       duration_ms=duration_ms)
    try:
        doc = json.loads(response or "")
        code = int(doc["errcode"])
    except (ValueError, TypeError, KeyError):
        return Outcome(False, error=f"HTTP {status} without an errcode: {(response or '')[:300]}",
                       duration_ms=duration_ms)
    if code == 0:
        return Outcome(True, duration_ms=duration_ms)
    return Outcome(False, code not in RETRIED_ERRCODES[kind],
                   error=f"errcode {code}: {str(doc.get('errmsg', ''))[:300]}", duration_ms=duration_ms)
