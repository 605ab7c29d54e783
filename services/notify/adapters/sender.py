"""The HTTP side of a delivery: one POST, whatever comes back (or does not)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import requests

USER_AGENT = "Zhengfeng-Webhooks/1.0"
RESPONSE_KEPT = 1000      # characters of the answer's body kept in the delivery log


@dataclass(frozen=True)
class Answer:
    status: int | None            # None: no HTTP answer at all
    duration_ms: int
    retry_after: str | None = None
    error: str | None = None
    response: str | None = None


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` as it is. Redirects are not followed: Standard Webhooks counts a 3xx as a failure
    (a moved endpoint must be changed by its owner, not guessed by the sender)."""
    started = time.perf_counter()
    try:
        resp = requests.post(url, data=body, headers={"User-Agent": USER_AGENT, **headers}, timeout=timeout,
                             allow_redirects=False)
    except requests.Timeout:
        return Answer(None, _ms(started), error=f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        return Answer(None, _ms(started), error=f"{type(exc).__name__}: {str(exc)[:500]}")
    error = None if 200 <= resp.status_code < 300 else f"HTTP {resp.status_code}"
    return Answer(resp.status_code, _ms(started), retry_after=resp.headers.get("Retry-After"), error=error,
                  response=resp.text[:RESPONSE_KEPT] or None)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
