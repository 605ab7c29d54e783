"""Sending to a unit's group robot (WeCom, DingTalk): one POST of domain.robots' request, its answer read
by domain.robots.outcome. The address and its key, token and signature are secrets: no error kept in
the delivery log may carry them (a refused connection's message quotes the URL)."""
from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

from ..domain import robots
from ..domain.notices import Outcome
from . import sender

USER_AGENT = "Zhengfeng-Notices/1.0"


def send(kind: str, address: dict, title: str, content: str, timeout: float) -> Outcome:
    req = robots.request(kind, address, title, content, int(time.time() * 1000))
    answer = sender.post(req.url, req.body, {"Content-Type": "application/json; charset=utf-8",
                                             "User-Agent": USER_AGENT}, timeout)
    return robots.outcome(kind, answer.status, answer.response, _scrub(answer.error, req.url, address),
                          answer.duration_ms)


def _scrub(error: str | None, url: str, address: dict) -> str | None:
    if not error:
        return error
    secrets = [v for _, v in parse_qsl(urlsplit(url).query) if len(v) >= 4] + [address.get("secret") or ""]
    for value in sorted(filter(None, secrets), key=len, reverse=True):
        error = error.replace(value, "***")
    return error
