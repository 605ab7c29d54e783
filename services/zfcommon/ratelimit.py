"""Per-client rate limits for API clients' tokens, shared by every gunicorn worker and process of a
service: the counters live in the service's own PostgreSQL (`rate_limits`, migrations_web).

A fixed window per client, anchored on the client's first request after the previous window ended:
at most `rate_per_minute` requests are let through in any window, so N+k requests in one window get
exactly k refusals however the workers interleave. One atomic UPSERT per request decides it — the
row lock of ON CONFLICT DO UPDATE serialises concurrent requests of one client, and each sees the
count the previous one left. Requests are counted even when refused: a client that keeps hammering
gains nothing. Tokens without a client claim (office, units, channels with issued tokens, services)
never reach this module's database round trip.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import psycopg
from flask import Response, g
from psycopg_pool import ConnectionPool

from .auth import Principal
from .problem import TooManyRequests, from_problem

WINDOW_SECONDS = 60
POOL_TIMEOUT = 2.0   # seconds; beyond that the request is answered 503 (DECISIONS.md: fail closed)

# The database clock, not the service clock: every process must agree on one time, and limits are about
# real load even when a test or demo runs the service on a simulated date (zfcommon.clock).
HIT = """
INSERT INTO rate_limits AS r (client_id, window_start, hits) VALUES (%(client)s, clock_timestamp(), 1)
ON CONFLICT (client_id) DO UPDATE SET
    window_start = CASE WHEN r.window_start + %(window)s * interval '1 second' <= EXCLUDED.window_start
                        THEN EXCLUDED.window_start ELSE r.window_start END,
    hits = CASE WHEN r.window_start + %(window)s * interval '1 second' <= EXCLUDED.window_start
                THEN 1 ELSE r.hits + 1 END
RETURNING hits,
          extract(epoch FROM r.window_start + %(window)s * interval '1 second' - clock_timestamp()) AS reset
"""


@dataclass(frozen=True)
class Verdict:
    limit: int
    hits: int
    reset: int            # whole seconds until the window ends (at least 1)

    @property
    def allowed(self) -> bool:
        return self.hits <= self.limit

    def headers(self) -> dict[str, str]:
        # The RateLimit-Limit/-Remaining/-Reset trio of draft-ietf-httpapi-ratelimit-headers (as widely
        # deployed); Reset is delta-seconds, like Retry-After.
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(max(0, self.limit - self.hits)),
                "RateLimit-Reset": str(self.reset)}


def hit(conn: psycopg.Connection, client_id: str, limit: int, window: int = WINDOW_SECONDS) -> Verdict:
    """Count one request of `client_id` and say whether it is within `limit` per window."""
    row = conn.execute(HIT, {"client": client_id, "window": window}).fetchone()
    return Verdict(limit=limit, hits=row["hits"], reset=max(1, math.ceil(float(row["reset"]))))


def refusal(verdict: Verdict) -> Response:
    return from_problem(TooManyRequests(f"此客户端每分钟最多请求 {verdict.limit} 次，请 {verdict.reset} 秒后再试",
                                        limit=verdict.limit, retry_after=verdict.reset),
                        headers={"Retry-After": str(verdict.reset), **verdict.headers()})


def enforce(pool: ConnectionPool, who: Principal) -> Response | None:
    """For a client's token: count the request, remember the headers for the response, and return the
    429 to send instead when over the limit. Anything else: nothing, without touching the database.

    If the database cannot be reached the error propagates and the request is answered 503 (fail
    closed): every /v1/ endpoint needs the same database anyway, and a limit that lapses exactly when
    the service is struggling would protect nothing."""
    if who.client_id is None or who.rate_per_minute is None:
        return None
    with pool.connection(timeout=POOL_TIMEOUT) as conn:
        verdict = hit(conn, who.client_id, who.rate_per_minute)
    g.ratelimit_headers = verdict.headers()
    return None if verdict.allowed else refusal(verdict)


def decorate(resp: Response) -> Response:
    """Add the client's RateLimit-* headers to a response (no-op for everyone else)."""
    resp.headers.update(g.get("ratelimit_headers") or {})
    return resp
