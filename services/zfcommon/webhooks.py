"""Standard Webhooks (standardwebhooks.com): signing and verifying, for hotline webhooks in and
department webhooks and hotline callbacks out.

Signed bytes are `{webhook-id}.{webhook-timestamp}.{raw body}`: always the raw body as it travelled,
never re-serialised JSON. `webhook-signature` is a space-separated list (`v1,<base64 HMAC-SHA256>` or
`v1a,<base64 Ed25519>`), so a sender can sign with an old and a new secret while keys rotate, and a
receiver may hold several secrets: one match is enough.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Iterable, Mapping
from urllib.parse import urlsplit

TOLERANCE_SECONDS = 5 * 60          # what the reference SDK uses, both ways
SECRET_PREFIX = "whsec_"
# Retry schedule from the spec: seconds after the first attempt fails (then disable the endpoint).
RETRY_SCHEDULE = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600)


class WebhookVerificationError(Exception):
    """The request is not a valid signed webhook. `check` names the failed check (a stable code),
    `reason` says it in English (logs), `detail` in Chinese (what the sender's operators read)."""
    DETAILS = {
        "headers_missing": "缺少 webhook-id、webhook-timestamp 或 webhook-signature 请求头",
        "timestamp_invalid": "webhook-timestamp 须为以秒计的 Unix 时间整数",
        "timestamp_out_of_tolerance": "webhook-timestamp 与当前时间相差超过 5 分钟（重放或时钟不准）",
        "signature_mismatch": "webhook-signature 与任何已知密钥都不匹配",
    }

    def __init__(self, check: str, reason: str):
        super().__init__(reason)
        self.check, self.reason = check, reason

    @property
    def detail(self) -> str:
        return "Webhook 签名校验未通过：" + self.DETAILS[self.check]


@dataclass(frozen=True)
class SignedHeaders:
    id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {"webhook-id": self.id, "webhook-timestamp": str(self.timestamp),
                "webhook-signature": self.signature}


def new_secret() -> str:
    """A fresh secret in the spec's form: whsec_ + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_…` secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
    except ValueError:
        raise ValueError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("a webhook secret holds 24 to 64 bytes")
    return key


def _mac(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def sign(secrets_: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> SignedHeaders:
    """Headers for one attempt, signed with every secret given (old and new during a rotation)."""
    signature = " ".join(f"v1,{_mac(secret_key(s), msg_id, timestamp, body)}" for s in secrets_)
    if not signature:
        raise ValueError("at least one secret is needed to sign")
    return SignedHeaders(msg_id, timestamp, signature)


def verify(secrets_: Iterable[str], headers: Mapping[str, str], body: bytes, now: float) -> str:
    """Check one received webhook against the raw body; returns its webhook-id.

    Raises WebhookVerificationError naming the failed check: missing headers, a timestamp outside
    ±5 minutes of `now` (a replay or a wrong clock), or no signature matching any secret.
    """
    msg_id, ts, sigs = (headers.get("webhook-id"), headers.get("webhook-timestamp"),
                        headers.get("webhook-signature"))
    if not msg_id or not ts or not sigs:
        raise WebhookVerificationError("headers_missing",
                                       "missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(ts)
    except ValueError:
        raise WebhookVerificationError("timestamp_invalid",
                                       "webhook-timestamp is not a whole number of Unix seconds") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise WebhookVerificationError("timestamp_out_of_tolerance",
                                       "webhook-timestamp is more than 5 minutes from now")
    wanted = {_mac(secret_key(s), msg_id, timestamp, body).encode() for s in secrets_}
    for candidate in sigs.split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and any(hmac.compare_digest(value.encode(), w) for w in wanted):
            return msg_id
    raise WebhookVerificationError("signature_mismatch", "no webhook-signature matches a known secret")


def parse_secrets(value: str) -> tuple[str, ...]:
    """A setting holding several secrets (rotation): separated by spaces or commas; each is checked."""
    found = tuple(s for s in value.replace(",", " ").split() if s)
    for s in found:
        secret_key(s)
    return found


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an endpoint notify posts to (webhooks, hotline callbacks, group robots), or
    None. https only; plain http only to this machine (loopback), for development and tests, because a
    signature does not hide the case from a wiretap."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "不是网址（URL）"
    if parts.scheme not in ("https", "http") or not host:
        return "须为完整的 https 网址"
    if parts.username or parts.password:
        return "网址中不能带用户名或密码（消息另有签名）"
    if parts.scheme == "http" and not _loopback(host):
        return "须使用 https（http 仅限本机回环地址，供开发调试）"
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
