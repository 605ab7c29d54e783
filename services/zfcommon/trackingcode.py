"""A case's 查询码: the eight digits a complainant gives, with the case number or the 12345 order number
on their receipt, to track the case on the public page (notify's /public/track).

Case numbers and order numbers run in sequence, so either alone would let anyone read every case's
progress and the unit's reply by counting. The code is a short form of the case's id (a random UUID,
which tracks the case on its own): whoever can compute it already holds the id, so it gives the number
no more than the id gives, and needs no key that intake, notify and the console would have to share.
Guessing one for a number is one chance in 10⁸ per try, at ten tries a minute per address.
Docs: docs/EXPOSURE.md ("Track my case").
"""
from __future__ import annotations

import hashlib
import hmac
import unicodedata

DIGITS = 8
_DOMAIN = b"zhengfeng tracking code v1\0"


def code_for(case_id: str) -> str:
    """The case's 查询码: eight digits, from its id alone."""
    digest = hashlib.sha256(_DOMAIN + case_id.encode()).digest()
    return f"{int.from_bytes(digest[:8], 'big') % 10 ** DIGITS:0{DIGITS}d}"


def typed(raw: str | None) -> str | None:
    """A code as people type it (full-width digits, spaces or hyphens between groups), or None if it
    cannot be one."""
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", raw or "") if ch not in " -\u3000")
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def matches(case_id: str, raw: str | None) -> bool:
    given = typed(raw)
    return given is not None and hmac.compare_digest(given, code_for(case_id))
