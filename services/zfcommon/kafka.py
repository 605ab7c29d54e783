"""Kafka adapter (kafka-python 3.x). Producers and consumers are made by the process that uses them,
never at import time: gunicorn forks after import, and fork() kills a client's background threads."""
from __future__ import annotations

import collections
import logging
import time
from typing import Iterable, NamedTuple

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from .settings import CONSUMER_SESSION_MS, KEEP_FOREVER, TopicSettings

log = logging.getLogger(__name__)

EPOCH_HEADER = "zf-epoch"
CE_CONTENT_TYPE_HEADER = ("content-type", b"application/cloudevents+json; charset=UTF-8")


# kafka-python's own metrics (sensors updated for every fetch, partition and batch) are off: nothing
# reads them (our metrics are zfcommon.metrics), and they were 17 % of a bare consumer loop's CPU
# (bench/kafka_clients.py; docs/BENCHMARKS.md, seventh round).
def producer(bootstrap: str, **overrides) -> KafkaProducer:
    # acks='all' and idempotence set explicitly: the defaults differ between kafka-python 2.x and 3.x.
    config = dict(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
                  retries=10, request_timeout_ms=10_000, max_block_ms=10_000, client_id="zhengfeng",
                  metrics_enabled=False)
    config.update(overrides)
    return KafkaProducer(**config)


def consumer(bootstrap: str, group: str, topics: Iterable[str], session_timeout_ms: int = CONSUMER_SESSION_MS,
             **overrides) -> KafkaConsumer:
    # Offsets are committed by hand after the database transaction; the short session timeout lets
    # a restarted member rejoin quickly (Tansu holds a new group's first join for half of it, so a new
    # consumer starts reading that long after it is made). A heartbeat every third of it, as Kafka
    # advises: every 2 s at the default, what an idle consumer and the broker spend (docs/BENCHMARKS.md,
    # aim 6).
    config = dict(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                  auto_offset_reset="earliest", session_timeout_ms=session_timeout_ms,
                  heartbeat_interval_ms=session_timeout_ms // 3,
                  max_poll_records=500, allow_auto_create_topics=False, client_id=f"zhengfeng-{group}",
                  # The broker answers a fetch at once when records wait; with none it holds the fetch
                  # this long. The 500 ms default would add up to half a second to every case's visibility.
                  # FetchPacer lengthens it while the consumer is idle.
                  fetch_max_wait_ms=BUSY_FETCH_WAIT_MS, metrics_enabled=False,
                  # A group's leader assigns partitions from the metadata it holds and rebalances when
                  # that changes; refreshed every 30 s rather than 5 min, partitions laid out anew
                  # (a broker that came back empty) are read within 30 s even when nothing else made
                  # the client ask. One metadata request per 30 s is nothing next to a fetch a second.
                  metadata_max_age_ms=30_000)
    config.update(overrides)
    watch_position_resets()
    return KafkaConsumer(*topics, **config)


# -- positions kafka-python resets --------------------------------------------------------------
# A position the broker answers as out of range (below the log's start: records deleted before they
# were read; past its end: the broker lost records) is reset by kafka-python to the earliest offset
# (auto_offset_reset), and it says so only at INFO on its fetcher's logger, which logs.configure
# silences with the rest of kafka-python. These are its two lines (kafka/consumer/fetcher.py; a test
# fails if an upgrade changes them).
OUT_OF_RANGE_LINE = "Fetch offset %s is out of range for topic-partition %s"
RESET_LINE = "Resetting offset for partition %s to offset %s."
FETCHER_LOGGER = "kafka.consumer.fetcher"


class PositionReset(NamedTuple):
    topic: str
    partition: int
    was: int          # the position the broker found out of range
    now: int          # where kafka-python put it

    @property
    def skipped(self) -> int:
        """Records never read: the reset moved the position forward over them."""
        return max(0, self.now - self.was)


class PositionResets(logging.Filter):
    """On kafka-python's fetcher logger: notes every out-of-range position and where it was reset to,
    for the consumer loop to report (EventConsumer._report_position_resets); every other line of that
    logger below ERROR is dropped, as before. Records come from kafka-python's threads: the deque and
    the dict are used by single operations only."""

    def __init__(self) -> None:
        super().__init__()
        self.out_of_range: dict[object, int] = {}
        self.resets: collections.deque[PositionReset] = collections.deque(maxlen=10_000)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == OUT_OF_RANGE_LINE and len(record.args or ()) == 2:
            offset, tp = record.args
            self.out_of_range[tp] = offset
            return False
        if record.msg == RESET_LINE and len(record.args or ()) == 2:
            tp, offset = record.args
            was = self.out_of_range.pop(tp, None)
            if was is not None:           # not a new group's first position, which is reset too
                self.resets.append(PositionReset(tp.topic, tp.partition, was, offset))
            return False
        return record.levelno >= logging.ERROR

    def take(self) -> list[PositionReset]:
        taken = []
        while self.resets:
            taken.append(self.resets.popleft())
        return taken


POSITION_RESETS = PositionResets()


def watch_position_resets() -> None:
    """Let kafka-python's fetcher tell POSITION_RESETS about resets (its logger at INFO, the filter
    dropping what was silenced before). Idempotent."""
    fetcher = logging.getLogger(FETCHER_LOGGER)
    if POSITION_RESETS not in fetcher.filters:
        fetcher.addFilter(POSITION_RESETS)
    fetcher.setLevel(logging.INFO)


def group_settled(consumer: KafkaConsumer) -> bool:
    """Whether a consumer's group membership is settled: it has joined, holds its assignment, and no
    rejoin is due. kafka-python has no public accessor; its coordinator's `stable()` and `need_rejoin()`
    are what its own poll() consults (tests/integration/test_consumer.py checks them on a real broker).
    A consumer without a group (assigned partitions by hand) is always settled."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or not consumer.config.get("group_id"):
        return True
    if not consumer._subscription.partitions_auto_assigned():
        return True
    return coordinator.stable() and not coordinator.need_rejoin()


BUSY_FETCH_WAIT_MS = 50
IDLE_FETCH_WAIT_MS = 1000
IDLE_AFTER_S = 2.0


class FetchPacer:
    """How long the broker may hold an empty fetch: short while records flow (visibility), long once
    none came for IDLE_AFTER_S, so an idle consumer asks once a second instead of twenty times (and
    the broker answers as often). Tansu answers a held fetch some time after a record comes (measured:
    at most about half the wait, 32–417 ms at 1,000 ms, 10–255 ms at 500), so the first event after a
    quiet spell waits at most IDLE_FETCH_WAIT_MS, usually much less; while records flow the wait is
    BUSY_FETCH_WAIT_MS.

    kafka-python 3.x reads the wait from its fetcher's config for every fetch it builds; there is no
    public setter, so this sets that entry (tests/integration/test_consumer.py checks it takes)."""

    def __init__(self, consumer: KafkaConsumer, clock=time.monotonic):
        self.consumer, self.clock = consumer, clock
        self.last_records = clock()
        self.idle = False

    @property
    def wait_ms(self) -> int:
        return self.consumer._fetcher.config["fetch_max_wait_ms"]

    def _set(self, wait_ms: int) -> None:
        self.consumer._fetcher.config["fetch_max_wait_ms"] = wait_ms

    def polled(self, records: bool) -> None:
        """After each poll: whether it brought records."""
        now = self.clock()
        if records:
            self.last_records = now
            if self.idle:
                self.idle = False
                self._set(BUSY_FETCH_WAIT_MS)
        elif not self.idle and now - self.last_records >= IDLE_AFTER_S:
            self.idle = True
            self._set(IDLE_FETCH_WAIT_MS)


def admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="zhengfeng-admin",
                            request_timeout_ms=10_000)


def topic_ids(client: KafkaAdminClient, topics: Iterable[str]) -> dict[str, str]:
    """Name -> topic id of the topics that exist. A recreated topic has a new id."""
    wanted = set(topics)
    found = {}
    for t in client.describe_topics(list(wanted)):
        if t.get("error_code", 0) == 0 and t.get("name") in wanted and t.get("topic_id"):
            found[t["name"]] = str(t["topic_id"])
    return found


def new_topics(names: Iterable[str], partitions: int, *, replication_factor: int = 1,
               min_insync_replicas: int | None = None, retention_ms: int = KEEP_FOREVER) -> list[NewTopic]:
    """What to create: `partitions` per topic, one for a dead-letter topic (it keeps no order worth
    spreading), every one with the same replication, min.insync.replicas (unset: the broker's) and
    retention (every record kept, unless set otherwise: settings.TopicSettings)."""
    configs = {"retention.ms": str(retention_ms)}
    if min_insync_replicas:
        configs["min.insync.replicas"] = str(min_insync_replicas)
    return [NewTopic(t, 1 if t.endswith(".dlq") else partitions, replication_factor, topic_configs=dict(configs))
            for t in names]


def retention_to_set(described: dict, retention_ms: int) -> tuple[list[str], list[str]]:
    """From describe_configs' answer with every key ({"topic": {name: {key: {"value": …}}}}): the topics
    whose retention.ms is not `retention_ms`, and those the broker described with no key at all. Kafka
    answers every key of a topic, its defaults included; a broker that answers none for a topic (Tansu,
    for one created without any configuration) tells nothing about it."""
    want, stale, undescribed = str(retention_ms), [], []
    for name, configs in sorted((described.get("topic") or {}).items()):
        if not configs:
            undescribed.append(name)
        elif (configs.get("retention.ms") or {}).get("value") != want:
            stale.append(name)
    return stale, undescribed


def keep_retention(client: KafkaAdminClient, topics: list[str], retention_ms: int) -> None:
    """Bring topics made before (by an older release, by hand, or with another setting) to the
    retention asked for: an incremental change of that one key, nothing else touched. A broker that
    cannot describe or change topic configurations is logged, not fatal: the topics still work
    (the embedded broker keeps everything in memory anyway)."""
    if not topics:
        return
    try:
        described = client.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics],
                                            config_filter="all")
        stale, undescribed = retention_to_set(described, retention_ms)
        if undescribed:
            log.info("topics_retention_not_described", extra={"topics": undescribed, "retention_ms": retention_ms})
        if not stale:
            return
        answer = client.alter_configs([ConfigResource(ConfigResourceType.TOPIC, t, configs={"retention.ms": str(retention_ms)})
                                       for t in stale], raise_on_unknown=False)
        refused = {t: r for t, r in (answer.get("topic") or {}).items() if r != "OK"}
        if refused:
            log.warning("topics_retention_refused", extra={"topics": refused, "retention_ms": retention_ms})
        else:
            log.info("topics_retention_set", extra={"topics": stale, "retention_ms": retention_ms})
    except (KafkaError, ValueError) as exc:
        log.warning("topics_retention_unchecked", extra={"error": str(exc)[:300], "retention_ms": retention_ms})


def under_replicated(client: KafkaAdminClient, topics: Iterable[str], replication_factor: int) -> dict[str, int]:
    """Topics that have fewer replicas than `replication_factor`: name -> the replicas they have."""
    wanted = list(topics)
    if replication_factor <= 1 or not wanted:
        return {}
    short = {}
    for t in client.describe_topics(wanted):
        have = min((len(p["replica_nodes"]) for p in t.get("partitions") or []), default=replication_factor)
        if t.get("error_code", 0) == 0 and have < replication_factor:
            short[t["name"]] = have
    return short


def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int, *, replication_factor: int = 1,
                  min_insync_replicas: int | None = None, retention_ms: int = KEEP_FOREVER,
                  attempts: int = 30) -> None:
    """Create any missing topic; retried while the broker is starting. A topic that exists keeps its
    layout: changing a topic's replication is a reassignment for the cluster's operator
    (deploy/README.md), so one with fewer replicas than asked for is only logged
    (`topics_under_replicated`). Its retention is brought to `retention_ms` (keep_retention)."""
    wanted = list(topics)
    for attempt in range(attempts):
        try:
            client = admin(bootstrap)
            try:
                existing = set(client.list_topics())
                missing = [t for t in wanted if t not in existing]
                if missing:
                    try:
                        client.create_topics(new_topics(missing, partitions, replication_factor=replication_factor,
                                                        min_insync_replicas=min_insync_replicas,
                                                        retention_ms=retention_ms))
                    except TopicAlreadyExistsError:
                        pass
                    log.info("topics_created", extra={"topics": missing, "replication_factor": replication_factor})
                present = [t for t in wanted if t in existing]
                keep_retention(client, present, retention_ms)
                short = under_replicated(client, present, replication_factor)
                if short:   # made before the setting was raised (or by a process that lacked it)
                    log.warning("topics_under_replicated", extra={"topics": short,
                                                                  "replication_factor": replication_factor})
                return
            finally:
                client.close()
        except KafkaError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("broker_not_ready", extra={"error": str(exc)})
            time.sleep(1)


def ensure_topics_laid_out(bootstrap: str, topics: Iterable[str], layout: TopicSettings) -> None:
    """ensure_topics with a settings.TopicSettings (partitions, replication, min.insync.replicas,
    retention)."""
    ensure_topics(bootstrap, topics, layout.partitions, replication_factor=layout.replication_factor,
                  min_insync_replicas=layout.min_insync_replicas, retention_ms=layout.retention_ms)
