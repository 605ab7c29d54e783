"""The consumer benchmark's anchor: the least any consumer of these topics must do per poll.

kafka-python with the consumer settings zfcommon.kafka gives every consumer (same group settings,
same batch size), subscribed to every topic; each poll's records go into one table with one INSERT
and one COMMIT, then the offsets are committed. No parsing, no projection. Run by
bench/consumer_cost.py with the ledger's database settings (it makes the table, ANCHOR_TABLE_SQL):

    python bench/anchor_consumer.py      (DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS set)
"""
from __future__ import annotations

import os
import signal

import psycopg

from zfcommon import kafka
from zfcommon.events.catalogue import TOPICS

ANCHOR_TABLE_SQL = ("CREATE TABLE ledger.bench_anchor_events (offset_key text PRIMARY KEY, value bytea NOT NULL);"
                    " GRANT SELECT, INSERT ON ledger.bench_anchor_events TO zf_ledger")


def main() -> None:
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    conn = psycopg.connect(os.environ["DATABASE_URL"])
    consumer = kafka.consumer(os.environ["KAFKA_BOOTSTRAP_SERVERS"], "bench-anchor", list(TOPICS))
    while not stop:
        batch = consumer.poll(timeout_ms=500)
        records = [r for rs in batch.values() for r in rs]
        if not records:
            continue
        conn.execute("INSERT INTO bench_anchor_events SELECT * FROM unnest(%s::text[], %s::bytea[])"
                     " ON CONFLICT DO NOTHING",
                     ([f"{r.topic}/{r.partition}/{r.offset}" for r in records], [r.value for r in records]))
        conn.commit()
        consumer.commit()
    consumer.close()
    conn.close()


if __name__ == "__main__":
    main()
