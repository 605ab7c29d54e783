"""Prometheus metrics shared by a service's processes (gunicorn workers, relay, consumers).

With PROMETHEUS_MULTIPROC_DIR set (the launcher sets one directory per service) every process writes
its samples there and /metrics aggregates them, so the HTTP service also reports what its relay or
consumer did.
"""
from __future__ import annotations

from typing import Iterable

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)
from prometheus_client.registry import Collector

HTTP_REQUESTS = Counter("zf_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("zf_http_request_seconds", "HTTP request latency", ["service", "route"],
                         buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5))
EVENTS_STORED = Counter("zf_events_stored_total", "Events appended to the event store", ["type"])
EVENTS_PUBLISHED = Counter("zf_events_published_total", "Events the relay published", ["topic"])
RELAY_RESETS = Counter("zf_relay_broker_resets_total", "Times the relay found the broker had lost its log")
EVENTS_CONSUMED = Counter("zf_events_consumed_total", "Events a consumer handled",
                          ["group", "topic", "outcome"])
SCHEDULER_SKIPPED = Counter("zf_scheduler_skipped_total",
                            "What a scheduler pass could not process and skipped (each logged with its reason)",
                            ["item"])
CONSUMER_RECREATED = Counter("zf_consumer_recreated_total",
                             "Times a consumer's Kafka client was made anew because its group membership stalled",
                             ["group"])
CONSUMER_RECORDS_SKIPPED = Counter("zf_consumer_records_skipped_total",
                                   "Records a consumer never read: the broker had deleted them (retention) before it "
                                   "came to them, and its position was reset past them", ["group", "topic"])
CONSUMER_LAG = Gauge("zf_consumer_lag", "Records behind the partition's high watermark",
                     ["group", "topic", "partition"], multiprocess_mode="livemax")


class _ProcessLocal(Collector):
    def collect(self):
        return REGISTRY.collect()


def exposition(metrics_dir: str, extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """Samples of all the service's processes (or of this one, without a multiprocess directory)."""
    registry = CollectorRegistry(auto_describe=True)
    if metrics_dir:
        multiprocess.MultiProcessCollector(registry, path=metrics_dir)
    else:
        registry.register(_ProcessLocal())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST
