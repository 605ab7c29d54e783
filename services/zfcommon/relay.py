"""The outbox relay: publishes stored events to Kafka and survives its own crash, PostgreSQL restarts
and broker restarts, including a broker that comes back empty.

Order: rows are read in position order. Within one case, version n+1 can only be inserted after
version n committed (the unique (stream, version) index sees to it), so position order is version
order per case and per partition. An event that commits late with a lower position is not skipped:
the relay reads whatever outbox rows are committed, there is no high-water cursor to jump past it.

Delivery: a row leaves the outbox only after the broker acknowledged the record (acks=all). A crash
between the acknowledgement and the delete republishes the record; consumers dedupe by event id.

Empty broker: the relay remembers the ids of the topics it publishes to. A missing topic or a changed
id means the broker lost its log: the relay raises the epoch it stamps on every record and queues
every stored event again, and consumers that see the new epoch read the partition from its start.
"""
from __future__ import annotations

import json
import logging
import select
import threading
import time
from typing import Callable

import psycopg
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError
from psycopg.types.json import Jsonb

from . import db, kafka, metrics, tracing
from .events.catalogue import all_topics, topic_for, topics_of

log = logging.getLogger(__name__)
# How often a relay waiting for work looks whether it was told to stop.
STOP_CHECK_SECONDS = 0.25


class Stopped(Exception):
    """Raised out of a standby's wait for the relay lock when the relay is told to stop."""


# Advisory lock per service: one active relay each; others wait as hot standbys. Every service shares
# one database, so the ids must differ from every other advisory lock in the system (db.MIGRATION_LOCK
# 7_263_001, audit's APPEND_LOCK 7_263_004 and SIGN_LOCK 7_263_005): notify's relay once took
# 7_263_004 and, holding it for its whole life, stopped audit from appending anything.
RELAY_LOCKS = {"intake": 7_263_002, "notify": 7_263_006}


# The first `batch` waiting positions, then each of their events by its key. Not a join of the outbox
# to the events: planned for the LIMIT's rows, that walked the events from the first one ever stored
# up to the outbox's head (a merge join) or hashed every one of them, on every batch, so the relay's
# cost grew with the store (tests/integration/test_relay.py).
PENDING = ("SELECT position, stream_id, type, payload FROM events"
           " WHERE position = ANY(ARRAY(SELECT position FROM outbox ORDER BY position LIMIT %s))"
           " ORDER BY position")


class Relay:
    """Publishes one service's event store (intake's cases, notify's escalations …): the service's own
    outbox, its own advisory lock and wake-up channel, and only the topics its events travel on."""

    def __init__(self, *, database_url: str, bootstrap: str, partitions: int, batch: int = 500,
                 service: str = "intake",
                 producer_factory: Callable[[], KafkaProducer] | None = None,
                 admin_factory: Callable[[], KafkaAdminClient] | None = None,
                 check_interval: float = 2.0, layout=None, linger_ms: int = 0):
        self.database_url = database_url
        self.service = service
        self.topics = topics_of(service)
        self.lock = RELAY_LOCKS[service]
        self.channel = f"{service}_outbox"      # the outbox trigger notifies <schema>_outbox
        self.bootstrap = bootstrap
        self.partitions = partitions
        self.layout = layout            # settings.TopicSettings: replicas and min.insync of topics it (re)creates
        self.batch = batch
        # Never auto-created by a send, on a broker that honours the flag (Apache Kafka; Tansu creates a
        # missing topic with 4 partitions on any metadata request): a retried batch after the broker came
        # back empty would otherwise create the topic with the broker's default partition count. The
        # relay lays topics out itself (check_broker); a consumer whose old position lies past the end
        # of a new, shorter partition rewinds (EventConsumer._rewind_if_past_the_end).
        self.producer_factory = producer_factory or (lambda: kafka.producer(bootstrap, allow_auto_create_topics=False))
        self.admin_factory = admin_factory or (lambda: kafka.admin(bootstrap))
        # How often an idle relay asks the broker whether it lost its log (a failed publish asks at
        # once): every 2 s, which an idle stack pays for (docs/BENCHMARKS.md, aim 6).
        self.check_interval = check_interval
        self.linger = linger_ms / 1000
        self.conn: psycopg.Connection | None = None
        self.listener: psycopg.Connection | None = None
        self.producer: KafkaProducer | None = None
        self.admin: KafkaAdminClient | None = None
        self.epoch = 0
        self.last_check = 0.0
        self.stopping = threading.Event()       # run()'s stop: also ends its waits for work and for the lock

    # -- connections ------------------------------------------------------------------------------
    def _db(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            # Autocommit: each of the relay's statements stands alone (a batch is one read, then one
            # delete once the broker acknowledged it), so no BEGIN and COMMIT round trips around them;
            # the one change of two statements (a new epoch and its requeue) is a transaction block.
            self._close_db()
            self.conn = db.connect(self.database_url, autocommit=True)
            self.listener = db.connect(self.database_url, autocommit=True)
            self.listener.execute(f"LISTEN {self.channel}")
            # Session lock: held for the life of the connection, released by PostgreSQL if we die.
            while not self.conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (self.lock,)).fetchone()["ok"]:
                log.info("relay_standby_waiting_for_lock")
                if self.stopping.wait(2):       # a standby told to stop stops, never taking the lock
                    self._close_db()
                    raise Stopped
            self.epoch = self.conn.execute("SELECT epoch FROM relay_state WHERE id = 1").fetchone()["epoch"]
        return self.conn

    def _close_db(self) -> None:
        """Close both connections (the lock goes with the session): after one failed, before the next
        pair is made, so the new pair never waits as a standby for the lock its own dead half held."""
        for c in (self.conn, self.listener):
            if c is not None and not c.closed:
                try:
                    c.close()
                except psycopg.Error:
                    pass
        self.conn = self.listener = None

    def _producer(self) -> KafkaProducer:
        if self.producer is None:
            self.producer = self.producer_factory()
        return self.producer

    def _drop_producer(self) -> None:
        # After a broker failure the idempotent producer's id and sequences may be unknown to the
        # broker that comes back; a fresh producer (and admin client) starts a clean session.
        if self.producer is not None:
            try:
                self.producer.close(timeout=1)
            except Exception:  # closing a broken client must not stop the relay
                pass
        self.producer = None
        self._drop_admin()

    # -- broker epochs ----------------------------------------------------------------------------
    def _topic_ids(self) -> dict[str, str]:
        """The ids of our topics now. The admin client is kept between checks (one a second); a broker
        that restarted since the last check has cut its connection, and the kept client can fail
        (NodeNotReadyError, a timeout) where a fresh one, bootstrapping anew, gets the answer: so a
        failure is retried once with a fresh client before it counts as the broker's."""
        for attempt in (1, 2):
            if self.admin is None:
                self.admin = self.admin_factory()
            try:
                return kafka.topic_ids(self.admin, self.topics)
            except KafkaError:
                self._drop_admin()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _drop_admin(self) -> None:
        if self.admin is not None:
            try:
                self.admin.close()
            except Exception:  # closing a broken client must not stop the relay
                pass
        self.admin = None

    def check_broker(self) -> bool:
        """Detect a broker that lost its log; returns True when it did and everything was requeued."""
        conn = self._db()
        if not self.topics:             # a service with no event types yet publishes nothing
            return False
        current = self._topic_ids()
        known = conn.execute("SELECT topic_ids FROM relay_state WHERE id = 1").fetchone()["topic_ids"]
        if known and all(current.get(t) == known.get(t) for t in self.topics):
            return False
        if self.layout is not None:
            kafka.ensure_topics_laid_out(self.bootstrap, all_topics(), self.layout)
        else:
            kafka.ensure_topics(self.bootstrap, all_topics(), self.partitions)
        current = self._topic_ids()
        if not known:
            conn.execute("UPDATE relay_state SET topic_ids = %s WHERE id = 1", (Jsonb(current),))
            return False
        # The broker came back without our topics: republish every stored event under a new epoch.
        with conn.transaction():
            row = conn.execute("UPDATE relay_state SET epoch = epoch + 1, topic_ids = %s WHERE id = 1 "
                               "RETURNING epoch", (Jsonb(current),)).fetchone()
            requeued = conn.execute("INSERT INTO outbox (position) SELECT position FROM events "
                                    "ON CONFLICT DO NOTHING").rowcount
        self.epoch = row["epoch"]
        self._drop_producer()
        metrics.RELAY_RESETS.inc()
        log.warning("broker_lost_log_republishing", extra={"epoch": self.epoch, "requeued": requeued})
        return True

    # -- publishing ---------------------------------------------------------------------------------
    def publish_batch(self) -> int:
        """Publish up to `batch` committed outbox rows; returns how many were acknowledged."""
        conn = self._db()
        rows = conn.execute(PENDING, (self.batch,)).fetchall()
        if not rows:
            return 0
        producer = self._producer()
        headers = [kafka.CE_CONTENT_TYPE_HEADER, (kafka.EPOCH_HEADER, str(self.epoch).encode())]
        futures = [producer.send(topic_for(r["type"]), key=r["stream_id"].encode(),
                                 value=json.dumps(r["payload"], ensure_ascii=False,
                                                  separators=(",", ":")).encode(),
                                 headers=tracing.publish_headers(r["payload"], headers)) for r in rows]
        producer.flush(timeout=30)
        for f in futures:
            f.get(timeout=30)   # raises if any record was not acknowledged: nothing is deleted then
        conn.execute("DELETE FROM outbox WHERE position = ANY(%s)", ([r["position"] for r in rows],))
        for r in rows:
            metrics.EVENTS_PUBLISHED.labels(topic_for(r["type"])).inc()
        return len(rows)

    def _wait_for_work(self, timeout: float) -> None:
        """Sleep until a commit notifies (or `timeout`, or the relay is told to stop), then linger a few
        milliseconds so commits made at the same moment join one batch, and take every notification
        queued by then: each stands for a commit the next batch reads anyway, and left in the queue
        each would wake the relay for an empty read.

        It waits in poll(2) on the listener's socket, STOP_CHECK_SECONDS at a time, so a relay told
        to stop (a service's SIGTERM, a test's teardown) stops at once rather than after its broker
        check's wait; psycopg's own notifies() with a timeout wakes every 0.1 s to look for Ctrl-C,
        which an idle relay paid for. Readable without a notification (a notice, or the server's
        goodbye: the next read then raises, and run() connects anew) is waited past."""
        assert self.listener is not None
        readable = select.poll()
        readable.register(self.listener.fileno(), select.POLLIN)
        woken = False
        deadline = time.monotonic() + timeout
        while not woken and not self.stopping.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if readable.poll(min(left, STOP_CHECK_SECONDS) * 1000):
                woken = bool(list(self.listener.notifies(timeout=0)))
        if woken:
            if self.linger:
                time.sleep(self.linger)
            for _ in self.listener.notifies(timeout=0):
                pass

    def run(self, stop: threading.Event) -> None:
        log.info("relay_started")
        self.stopping = stop
        backoff = 0.5
        while not stop.is_set():
            try:
                if time.monotonic() - self.last_check >= self.check_interval:
                    self.check_broker()
                    self.last_check = time.monotonic()
                if self.publish_batch() < self.batch:      # a full batch: more may wait, read again at once
                    # Every commit notifies; the timeout only bounds how long the broker check waits.
                    self._wait_for_work(max(0.05, self.check_interval - (time.monotonic() - self.last_check)))
                backoff = 0.5
            except Stopped:
                break
            except psycopg.OperationalError as exc:
                log.warning("relay_database_unavailable", extra={"error": str(exc)})
                self._close_db()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5)
            except (KafkaError, TimeoutError) as exc:
                log.warning("relay_broker_unavailable", extra={"error": f"{type(exc).__name__}: {exc}"})
                self._drop_producer()
                self.last_check = 0.0   # check for a lost log before publishing again
                stop.wait(backoff)
                backoff = min(backoff * 2, 5)
        self._drop_producer()
        self._close_db()
        log.info("relay_stopped")


def main(service: str) -> None:
    """`python -m <service>.entrypoints.relay`: the service's outbox relay process."""
    import signal

    from . import logs
    from .settings import Settings

    settings = Settings.from_env(service)
    logs.configure(f"{service}-relay", settings.log_level)
    tracing.configure(settings, "relay")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    Relay(database_url=settings.database_url, bootstrap=settings.kafka_bootstrap_servers,
          partitions=settings.partitions, batch=settings.relay_batch, service=service, layout=settings.topics,
          linger_ms=settings.relay_linger_ms).run(stop)
