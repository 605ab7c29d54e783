"""The exactly-once-in-effect consumer loop shared by ledger, notify and audit.

Kafka delivers at least once. Each event is applied and its id recorded in processed_events in the
same PostgreSQL transaction, so a redelivery finds the id and changes nothing; Kafka offsets are
committed only after that transaction (asynchronously: a lost commit means a redelivery), so a crash
in between means a redelivery, never a loss.
A record that cannot be parsed or applied goes to `<topic>.dlq` with the reason, and the loop goes on.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterable

import psycopg
from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.errors import KafkaError

from . import db, kafka, logs, metrics, tracing
from .events import Event, InvalidEvent, parse_event
from .events.catalogue import dlq_topic

log = logging.getLogger(__name__)
# How often a consumer compares each partition's end with its position (a broker that came back empty
# can leave a position past the end of the new log: see EventConsumer._rewind_if_past_the_end).
END_CHECK_SECONDS = 2.0
# How long a consumer's group membership may stay unsettled (joining, rebalancing, or due to rejoin)
# before its Kafka client is closed and made anew: five session timeouts, at least this (five of the
# default, settings.CONSUMER_SESSION_MS). A rebalance of our groups takes a few seconds, or up to a
# session when it waits for a member that died; one that has not finished in this long is stuck (see
# EventConsumer._recreate_if_group_stalled).
STALL_SECONDS = 30.0
STALL_SESSIONS = 5


def stall_seconds(client: Any) -> float:
    """How long `client`'s membership may stay unsettled: five of its sessions, at least STALL_SECONDS."""
    session_ms = (getattr(client, "config", None) or {}).get("session_timeout_ms") or 0
    return max(STALL_SECONDS, STALL_SESSIONS * session_ms / 1000)

Apply = Callable[[psycopg.Connection, Event], None]
ApplyBatch = Callable[[psycopg.Connection, list[Event]], None]


def apply_once(conn: psycopg.Connection, event: Event, topic: str, apply: Apply) -> bool:
    """Apply `event` unless this projection already did; the tracking row and the change share the
    caller's transaction. Returns whether it was applied now."""
    logs.case_id.set(event.subject)
    logs.correlation_id.set(event.correlationid)
    fresh = conn.execute("INSERT INTO processed_events (event_id, topic) VALUES (%s, %s) "
                         "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                         (f"{event.source}#{event.id}", topic)).fetchone()
    if fresh:
        apply(conn, event)
    return fresh is not None


def apply_fresh(conn: psycopg.Connection, items: list[tuple[str, Event]], apply_batch: ApplyBatch) -> list[bool]:
    """Batch form of apply_once: one tracking INSERT for all (topic, event) pairs, then the projection
    gets only the events it has not seen, in order, in one call. Returns which were applied now."""
    keys = [f"{e.source}#{e.id}" for _, e in items]
    fresh = {r["event_id"] for r in conn.execute(
        "INSERT INTO processed_events (event_id, topic) SELECT * FROM unnest(%b::text[], %b::text[])"
        " ON CONFLICT (event_id) DO NOTHING RETURNING event_id", (keys, [t for t, _ in items]))}
    seen, applied = set(), []
    for key in keys:            # the same event twice in one batch: the first one counts
        applied.append(key in fresh and key not in seen)
        seen.add(key)
    apply_batch(conn, [e for (_, e), new in zip(items, applied) if new])
    return applied


class Unapplicable(Exception):
    """Raised by a projection when an event can never be applied (it goes to the DLQ)."""


def _commit_failed(offsets, response) -> None:
    if isinstance(response, Exception):
        log.warning("offset_commit_failed", extra={"error": str(response)})


def record_epoch(record) -> int:
    for key, value in record.headers or ():
        if key == kafka.EPOCH_HEADER:
            try:
                return int(value.decode())
            except (ValueError, AttributeError):
                return 0
    return 0


class EventConsumer:
    def __init__(self, *, group: str, apply: Apply, database_url: str, kafka_consumer: KafkaConsumer,
                 dlq_producer: KafkaProducer, apply_batch: ApplyBatch | None = None,
                 new_consumer: Callable[[], KafkaConsumer] | None = None, clock=time.monotonic):
        self.group = group
        self.apply = apply
        self.apply_batch = apply_batch
        self.database_url = database_url
        self.consumer = kafka_consumer
        self.new_consumer = new_consumer
        self.clock = clock
        self.unsettled_since: float | None = None
        self.recreated = 0
        self.dlq = dlq_producer
        self.conn: psycopg.Connection | None = None
        self.epochs: dict[tuple[str, int], int] = {}

    # -- database -------------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = db.connect(self.database_url)
            self.epochs = {(r["topic"], r["partition"]): r["epoch"] for r in
                           self.conn.execute("SELECT topic, partition, epoch FROM consumer_epochs")}
            self.conn.commit()
        return self.conn

    def _apply_all(self, conn: psycopg.Connection, events: list[tuple[object, Event]]) -> list[str]:
        if self.apply_batch is not None:
            done = apply_fresh(conn, [(record.topic, event) for record, event in events], self.apply_batch)
        else:
            done = [apply_once(conn, event, record.topic, self.apply) for record, event in events]
        return ["applied" if d else "duplicate" for d in done]

    # -- dead letters ------------------------------------------------------------------------------
    def _dead_letter(self, record, reason: str) -> None:
        headers = [("zf-reason", reason[:2000].encode()), ("zf-group", self.group.encode()),
                   ("zf-origin", f"{record.topic}/{record.partition}/{record.offset}".encode())]
        self.dlq.send(dlq_topic(record.topic), key=record.key, value=record.value, headers=headers).get(timeout=30)
        metrics.EVENTS_CONSUMED.labels(self.group, record.topic, "dead_lettered").inc()
        log.warning("event_dead_lettered", extra={"topic": record.topic, "partition": record.partition,
                                                  "offset": record.offset, "reason": reason[:500]})

    # -- broker epochs ---------------------------------------------------------------------------
    def _rewind(self, tp: TopicPartition) -> None:
        """Read `tp` again from its start: offset 0 is committed at once, so a crash right after still
        rewinds (already applied events are recognised by id)."""
        self.consumer.seek_to_beginning(tp)
        try:
            self.consumer.commit({tp: OffsetAndMetadata(0, "", -1)})
        except KafkaError as exc:
            log.warning("offset_commit_failed", extra={"error": str(exc)})

    def _rewind_if_new_epoch(self, tp: TopicPartition, records: list) -> list:
        """Cut the batch at the first record of a newer broker epoch and rewind that partition.

        A newer epoch means the broker lost its log and the relay is republishing everything; our
        position in the old log means nothing in the new one, so we read the partition from the start.
        Offset 0 is committed before the epoch is stored, so a crash in between still rewinds.
        """
        for i, record in enumerate(records):
            epoch = record_epoch(record)
            if epoch > self.epochs.get((tp.topic, tp.partition), 0):
                self._rewind(tp)
                conn = self._connection()
                conn.execute("INSERT INTO consumer_epochs (topic, partition, epoch) VALUES (%s, %s, %s) "
                             "ON CONFLICT (topic, partition) DO UPDATE SET epoch = EXCLUDED.epoch",
                             (tp.topic, tp.partition, epoch))
                conn.commit()
                self.epochs[(tp.topic, tp.partition)] = epoch
                log.warning("broker_epoch_changed_rewinding", extra={"topic": tp.topic,
                                                                     "partition": tp.partition, "epoch": epoch})
                return records[:i]
        return records

    def _rewind_if_past_the_end(self) -> None:
        """Rewind every partition whose end (as the last fetch reported it) lies before our position.

        A partition never shrinks while the broker keeps its log. It does when the broker came back
        empty and the new log of a partition is shorter than the old one (fewer records republished
        into it so far, or topics laid out again with more partitions), and a position of the old log
        survived (a late commit, a member that was never dropped). The broker then answers every fetch
        there with nothing, no record of the new epoch ever reaches that position, and without this
        check the partition would be stuck until the new log grew past it. A position being reset
        (right after a rewind or a rebalance) is looked up for at most half a second and, if still
        unknown, checked next time.
        """
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            position = self.consumer.position(tp, timeout_ms=500)
            if position is not None and position > high:
                log.warning("partition_shorter_than_position_rewinding",
                            extra={"topic": tp.topic, "partition": tp.partition, "end": high})
                self._rewind(tp)

    def _report_position_resets(self) -> None:
        """Say what kafka-python's resets of out-of-range positions did to this consumer's partitions.
        Forward, past records the broker deleted before they were read (a retention shorter than the
        consumer's absence: docs/DECISIONS.md "The topics keep every record"): those events are missing
        from this service, which no redelivery will mend; an error, counted, with the offsets, for the
        operator to republish or rebuild. Backward (the broker lost records past the position): they
        are read again and recognised by id, as after a broker that came back empty."""
        mine = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        for reset in kafka.POSITION_RESETS.take():
            if (reset.topic, reset.partition) not in mine:
                continue
            where = {"group": self.group, "topic": reset.topic, "partition": reset.partition,
                     "from_offset": reset.was, "to_offset": reset.now}
            if reset.skipped:
                metrics.CONSUMER_RECORDS_SKIPPED.labels(self.group, reset.topic).inc(reset.skipped)
                log.error("consumer_records_skipped", extra={**where, "skipped": reset.skipped})
            else:
                log.warning("consumer_position_reset_back", extra=where)

    # -- a stalled group membership ------------------------------------------------------------------
    def _recreate_if_group_stalled(self) -> bool:
        """Close the Kafka client and make a new one when its group membership has stayed unsettled for
        stall_seconds (five of its sessions, at least STALL_SECONDS); whether it did.

        A member that is joining or rebalancing fetches nothing. Normally that lasts a few seconds. After
        the broker came back empty (a new group, topics laid out again with more partitions, several
        rebalances in a row) one was seen to stay in it for good: its commits were refused with
        RebalanceInProgress, it never received a record of the new partitions, and the trail stopped
        (docs/DECISIONS.md, "A consumer whose group membership stalls is made anew"). A new client joins
        as a new member; it starts from the committed offsets, and what was applied after the last
        commit is recognised by id. Only done when the consumer was given a way to make one."""
        if self.new_consumer is None:
            return False
        now = self.clock()
        if kafka.group_settled(self.consumer):
            self.unsettled_since = None
            return False
        if self.unsettled_since is None:
            self.unsettled_since = now
            return False
        if now - self.unsettled_since < stall_seconds(self.consumer):
            return False
        log.warning("consumer_group_stalled_recreating", extra={"group": self.group,
                                                               "unsettled_s": round(now - self.unsettled_since, 1)})
        try:
            fresh = self.new_consumer()
        except KafkaError as exc:    # no broker to make it with: the old one is kept, tried again later
            log.warning("consumer_recreate_failed", extra={"group": self.group, "error": str(exc)})
            self.unsettled_since = now
            return False
        try:
            self.consumer.close(autocommit=False, timeout_ms=5000)
        except Exception as exc:     # a client that is stuck may fail to close cleanly; it is dropped anyway
            log.warning("consumer_close_failed", extra={"error": str(exc)})
        self.consumer = fresh
        self.unsettled_since = None
        self.recreated += 1
        metrics.CONSUMER_RECREATED.labels(self.group).inc()
        return True

    # -- one poll ----------------------------------------------------------------------------------
    def handle(self, batch: dict[TopicPartition, list]) -> None:
        parsed: list[tuple[object, Event]] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        first: dict[TopicPartition, int] = {}
        self._connection()
        for tp, records in batch.items():
            records = self._rewind_if_new_epoch(tp, records)
            if not records:
                continue
            first[tp] = records[0].offset
            for record in records:
                offsets[tp] = OffsetAndMetadata(record.offset + 1, "", -1)
                try:
                    parsed.append((record, parse_event(record.value)))
                except InvalidEvent as exc:
                    self._dead_letter(record, f"invalid event: {exc}")
        try:
            with tracing.consuming(self.group, parsed):
                self._commit_events(parsed)
        except psycopg.OperationalError as exc:
            # The database is away: keep nothing from this batch and read it again once it is back.
            log.warning("database_unavailable_retrying", extra={"error": str(exc)})
            self.conn = None
            for tp, offset in first.items():
                self.consumer.seek(tp, offset)
            time.sleep(1)
            return
        if offsets:
            # Without waiting for the broker's answer: the answer comes with a later poll, and a commit
            # that is lost means only a redelivery, which processed_events dedupes.
            try:
                self.consumer.commit_async(offsets, callback=_commit_failed)
            except KafkaError as exc:
                log.warning("offset_commit_failed", extra={"error": str(exc)})
        self._report_lag(batch.keys())

    def _commit_events(self, parsed: list[tuple[object, Event]]) -> None:
        if not parsed:
            return
        conn = self._connection()
        try:
            outcomes = self._apply_all(conn, parsed)
            conn.commit()
        except psycopg.OperationalError:
            raise
        except Exception:
            # Something in the batch cannot be applied: redo it one event per transaction so only
            # the culprit goes to the DLQ.
            conn.rollback()
            outcomes = []
            for item in parsed:
                try:
                    outcomes += self._apply_all(conn, [item])
                    conn.commit()
                except psycopg.OperationalError:
                    raise
                except Exception as exc:
                    conn.rollback()
                    self._dead_letter(item[0], f"cannot apply {item[1].type}: {type(exc).__name__}: {exc}")
                    outcomes.append(None)
        counts: dict[tuple[str, str], int] = {}
        for (record, _), outcome in zip(parsed, outcomes):
            if outcome:
                counts[record.topic, outcome] = counts.get((record.topic, outcome), 0) + 1
        for (topic, outcome), n in counts.items():
            metrics.EVENTS_CONSUMED.labels(self.group, topic, outcome).inc(n)

    def _report_lag(self, partitions: Iterable[TopicPartition]) -> None:
        for tp in partitions:
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            lag = max(0, high - self.consumer.position(tp))
            metrics.CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(lag)

    def run(self, stop: threading.Event, poll_ms: int = 500, linger_ms: int = 0) -> None:
        """Poll and apply until `stop`. After a poll that was not full, wait `linger_ms` before the
        next one: the broker answers a fetch as soon as one record waits, so a consumer that keeps up
        would otherwise fetch, apply and commit once per record, paying the whole per-poll cost
        (fetch, transaction, offset commit) for each. Gathering for a few tens of milliseconds turns
        that into one poll per handful of records, for that much more visibility delay; a full poll
        (the consumer is behind) is followed at once."""
        log.info("consumer_started", extra={"group": self.group, "linger_ms": linger_ms})
        pacer = kafka.FetchPacer(self.consumer)
        full = self.consumer.config.get("max_poll_records") or 500
        next_end_check = 0.0
        while not stop.is_set():
            try:
                batch = self.consumer.poll(timeout_ms=poll_ms)
                pacer.polled(bool(batch))
                if kafka.POSITION_RESETS.resets:
                    self._report_position_resets()
                if batch:
                    self.handle(batch)
                if time.monotonic() >= next_end_check:
                    if self._recreate_if_group_stalled():
                        pacer = kafka.FetchPacer(self.consumer)
                    else:
                        self._rewind_if_past_the_end()
                    next_end_check = time.monotonic() + END_CHECK_SECONDS
                if batch and linger_ms and sum(len(r) for r in batch.values()) < full:
                    stop.wait(linger_ms / 1000)
            except psycopg.OperationalError as exc:
                log.warning("database_unavailable", extra={"error": str(exc)})
                self.conn = None
                time.sleep(1)
            except KafkaError as exc:
                log.warning("broker_error", extra={"error": str(exc)})
                time.sleep(1)
        log.info("consumer_stopping", extra={"group": self.group})


def run_service_consumer(settings, group: str, topics: list[str], apply: Apply,
                         apply_batch: ApplyBatch | None = None) -> None:
    """Entry point body for `python -m <service>.entrypoints.consumer`: runs until SIGTERM/SIGINT."""
    import signal

    logs.configure(settings.service, settings.log_level)
    tracing.configure(settings, "consumer")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    kafka.ensure_topics_laid_out(settings.kafka_bootstrap_servers, [*topics, *(dlq_topic(t) for t in topics)],
                                 settings.topics)
    def new_consumer(**overrides) -> KafkaConsumer:
        return kafka.consumer(settings.kafka_bootstrap_servers, group, topics, settings.consumer_session_ms,
                              max_poll_records=settings.consumer_batch, **overrides)

    producer = kafka.producer(settings.kafka_bootstrap_servers)
    # A client made anew gives up on an unreachable broker after 5 s rather than 30: the loop is
    # blocked meanwhile, and the watchdog tries again a stall later.
    consumer = EventConsumer(group=group, apply=apply, database_url=settings.database_url,
                             kafka_consumer=new_consumer(), dlq_producer=producer, apply_batch=apply_batch,
                             new_consumer=lambda: new_consumer(bootstrap_timeout_ms=5000))
    try:
        consumer.run(stop, linger_ms=settings.consumer_linger_ms)
    finally:
        consumer.consumer.close()
        producer.close(timeout=5)
