"""A case's 查询码: the eight digits a complainant is given with their receipt, which, with the case's id,
number or 12345 order number, shows them the handling unit's reply on the public page (notify's
/public/track). Where a case stands (status, dates) is public anyway — Open311's GET requests lists every
case with its id, number, status and dates, as that standard intends — so a receipt alone shows that;
the unit's reply is the complainant's, so it takes the code.

The code is an HMAC of the case's id under ZF_TRACKING_KEY, a secret intake (which gives codes with every
receipt) and notify (which checks them, and names the code in its 受理告知 SMS) share; nothing is stored,
so the office can read a case's code again whenever a complainant asks (intake's case for the office).
Guessing one is one chance in 10⁸ per try, at ten tries a minute per address. Without a key no code is
given and no reply is shown. Docs: docs/EXPOSURE.md ("The 查询码").
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata

from flask import current_app

from .settings import ConfigError

DIGITS = 8
EXTENSION = "zf_tracking"          # where create_base_app keeps the app's key
_LABEL = b"zhengfeng tracking code v1\0"


class TrackingKey:
    """The shared secret as the setting gives it: '' (no codes), one key, or, while rotating, the new key
    and then the old ones, comma-separated: codes are made with the first and checked against each, so
    the codes complainants already hold keep working until their key is dropped."""

    def __init__(self, secret: str):
        """ConfigError for a key that is not base64 of at least 16 bytes (deploy/example.env's
        placeholder is not): a process refuses to start with it rather than give guessable codes."""
        self.keys = [_decoded(part.strip()) for part in secret.split(",")] if secret.strip() else []

    def __bool__(self) -> bool:
        return bool(self.keys)

    def code_for(self, case_id: str) -> str | None:
        """The case's 查询码 as given now: eight digits, under the first key; None without a key."""
        return _code(self.keys[0], case_id) if self.keys else None

    def matches(self, case_id: str, raw: str | None) -> bool:
        given = typed(raw)
        # every key is tried, a match or not, so the time taken says nothing of which one matched
        hits = [hmac.compare_digest(given, _code(key, case_id)) for key in self.keys] if given else []
        return any(hits)


def _code(key: bytes, case_id: str) -> str:
    digest = hmac.new(key, _LABEL + case_id.encode(), hashlib.sha256).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** DIGITS:0{DIGITS}d}"


def _decoded(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret, validate=True)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise ConfigError("ZF_TRACKING_KEY must be base64 of at least 16 random bytes (e.g. 32), several "
                          "comma-separated while rotating (the new one first), or empty for no 查询码")
    return key


def typed(raw: str | None) -> str | None:
    """A code as people type it (full-width digits, spaces or hyphens between groups), or None if it
    cannot be one."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", raw or "") if ch not in " -\u3000")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def of_app() -> TrackingKey:
    """The running Flask app's key (create_base_app puts it there from its settings)."""
    return current_app.extensions[EXTENSION]
