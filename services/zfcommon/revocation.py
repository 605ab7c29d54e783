"""Every service refuses a revoked API client's tokens, and the tokens of a key a rotation retired,
within seconds of the office's decision rather than at the token's expiry (docs/DECISIONS.md
"Revoked clients are refused everywhere").

Intake records the decisions as client events (cn.zhengfeng.client.revoked.v1, .key_rotated.v1) and its
relay publishes them on CLIENT_TOPIC. Every HTTP process of ledger, notify and audit follows that small
topic from its start on a thread of its own (manual assignment, no consumer group: each process must see
every event) and keeps the refusals in memory, so checking a request costs a set lookup, never a network
call. Until the process has read the topic to its end once, it cannot know who is revoked: a client token
then gets 503 with Retry-After (fail closed); tokens of people and services are never affected.

A client token names the client (`client_id`) and when the key it was bought with was issued (`key_iat`);
a rotation retires every key issued before it once its grace period ends.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from typing import Callable

from flask import Flask, Response
from kafka import KafkaConsumer, TopicPartition

from .auth import Principal
from .clock import clock_for
from .events import InvalidEvent, parse_event
from .events.catalogue import CLIENT_TOPIC
from .problem import Unauthorized, Unavailable, from_problem
from .web import CLIENT_CHECKS

log = logging.getLogger(__name__)

REVOKED = "cn.zhengfeng.client.revoked.v1"
KEY_ROTATED = "cn.zhengfeng.client.key_rotated.v1"
SAME_INSTANT = 0.001      # seconds: a key issued by the rotation itself is not retired by it
FIRST_READ_WAIT = 5.0     # seconds the first client request of a process waits for the topic to be read


class Refusals:
    """The client decisions seen so far: revoked clients, and each client's rotations."""

    def __init__(self) -> None:
        self.revoked: set[str] = set()
        self.rotations: dict[str, list[tuple[float, float]]] = {}   # client -> [(rotated_at, old keys end)]
        self._lock = threading.Lock()

    def apply(self, event_type: str, data: dict) -> None:
        client_id = data.get("client_id")
        with self._lock:
            if event_type == REVOKED:
                self.revoked.add(client_id)
            elif event_type == KEY_ROTATED:
                ends = datetime.fromisoformat(data["previous_keys_expire_at"]).timestamp()
                rotation = (ends - data["grace_seconds"], ends)
                if rotation not in self.rotations.setdefault(client_id, []):
                    self.rotations[client_id].append(rotation)

    def refusal(self, principal: Principal, now: float) -> Unauthorized | None:
        """Why this principal's token is refused at `now` (epoch seconds), or None."""
        client_id = principal.client_id
        if client_id is None:
            return None
        if client_id in self.revoked:
            return Unauthorized(f"接入客户端 {client_id} 已被撤销", code="client.revoked", client_id=client_id)
        issued = principal.key_issued_at
        for rotated_at, ends in self.rotations.get(client_id, ()):
            if now >= ends and (issued is None or issued < rotated_at - SAME_INSTANT):
                return Unauthorized(f"接入客户端 {client_id} 的此密钥已因轮换停用，请用新密钥重新获取令牌",
                                    code="client.key_retired", client_id=client_id)
        return None


class ClientEventFeed:
    """Follows CLIENT_TOPIC from its start on a daemon thread, applying each client event to `refusals`.
    `ready` is set once the topic has been read to the end it had when the thread started."""

    def __init__(self, bootstrap: str, refusals: Refusals, *, topic: str = CLIENT_TOPIC):
        self.bootstrap, self.refusals, self.topic = bootstrap, refusals, topic
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, name="client-refusals", daemon=True)

    def start(self) -> "ClientEventFeed":
        self.thread.start()
        return self

    def _run(self) -> None:
        failures = 0
        while True:
            try:
                self._follow()
            except Exception as exc:        # noqa: BLE001 - the broker away, a bad answer: start again
                failures += 1
                log.warning("client_events_unavailable", extra={"error": str(exc)[:300], "failures": failures})
                time.sleep(min(30, failures))

    def _follow(self) -> None:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                 allow_auto_create_topics=False, client_id="zhengfeng-client-refusals",
                                 fetch_max_wait_ms=100, request_timeout_ms=10_000)
        try:
            assigned: list[TopicPartition] = []
            ends: dict[TopicPartition, int] = {}
            while True:
                if not assigned:
                    partitions = consumer.partitions_for_topic(self.topic)
                    if not partitions:          # no client event was ever published: nobody is refused
                        self.ready.set()
                        time.sleep(1)
                        continue
                    assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
                    consumer.assign(assigned)
                    consumer.seek_to_beginning(*assigned)
                    ends = consumer.end_offsets(assigned)
                for records in consumer.poll(timeout_ms=200).values():
                    for record in records:
                        self._apply(record.value)
                if not self.ready.is_set() and all(consumer.position(tp) >= ends[tp] for tp in assigned):
                    self.ready.set()
                    log.info("client_refusals_ready", extra={"revoked": len(self.refusals.revoked),
                                                             "rotated": len(self.refusals.rotations)})
        finally:
            consumer.close()

    def _apply(self, value: bytes | None) -> None:
        try:
            event = parse_event(value)
        except InvalidEvent:
            return                          # the consumers dead-letter it; it decides nothing here
        self.refusals.apply(event.type, event.data)


class ProcessRefusals:
    """One feed per process, started by the first client request the process serves (after gunicorn's
    fork: a thread started before it would not survive)."""

    def __init__(self, bootstrap: str, start: Callable[[str, Refusals], ClientEventFeed] | None = None):
        self.bootstrap = bootstrap
        self._start = start or (lambda b, r: ClientEventFeed(b, r).start())
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._feed: ClientEventFeed | None = None
        self._waited = False

    def current(self) -> Refusals | None:
        """The refusals, once read to the end; None while they cannot be known (the broker away)."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._waited = os.getpid(), False
                self._feed = self._start(self.bootstrap, Refusals())
            feed, first = self._feed, not self._waited
            self._waited = True
        if feed.ready.is_set() or first and feed.ready.wait(FIRST_READ_WAIT):
            return feed.refusals
        return None


def install(app: Flask, settings) -> None:
    """Refuse, on this service's /v1 routes, the tokens of revoked clients and of retired keys (checked
    by zfcommon.web right after the token verifies, before the client's rate limit and role)."""
    clock = clock_for(settings.clock_file)
    state = ProcessRefusals(settings.kafka_bootstrap_servers)
    app.extensions["zf_refusals"] = state

    def refuse_revoked_clients(who: Principal) -> Response | None:
        refusals = state.current()
        if refusals is None:
            return from_problem(Unavailable("暂时无法核实接入客户端是否已被撤销，请稍后重试",
                                            code="client.status_unknown"), headers={"Retry-After": "1"})
        refused = refusals.refusal(who, clock.now().timestamp())
        if refused is not None:
            raise refused
        return None

    app.extensions[CLIENT_CHECKS].append(refuse_revoked_clients)
