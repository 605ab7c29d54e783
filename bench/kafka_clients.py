"""What the Kafka client costs a consumer, apart from what the consumer does with the records.

    .venv/bin/python bench/kafka_clients.py [--records 4000] [--rate 500] [--rounds 3]
    PYTHONPATH=/tmp/ck .venv/bin/python bench/kafka_clients.py   # with confluent-kafka, see below

Brings its own Tansu broker (never the running `make up`). Each variant is a bare consumer loop in a
process of its own, subscribed to the twelve event topics like notify and audit: it polls, touches
each record's key, value and headers, and commits the offsets asynchronously, nothing else. While it
runs, this process produces `--records` records of ~430 bytes to three of the topics at `--rate` per
second, in small batches every 10 ms (as a relay woken by each commit would). The figure is the
loop's CPU (all its threads, from process_time) per record, from its first record to its last.

  kafka-python           zfcommon.kafka.consumer as the services use it (the anchor of the run)
  kafka-python, metrics  the same with kafka-python's own metrics on (as before the seventh round)
  confluent-kafka        librdkafka, the same settings; only if `confluent_kafka` imports. It is not
                         a dependency (kafka-python is a core package of the system); to measure it:
                         pip install --target /tmp/ck confluent-kafka, then PYTHONPATH=/tmp/ck

`--latency` instead measures, with kafka-python, how long a record waits for a consumer whose
fetches the broker holds for 60 ms unless 1 MiB waits (fetch.min.bytes, the broker gathering for the
consumer), against the services' setting (answered at the first record): Tansu's answer to such a
fetch comes far later than its wait (docs/DECISIONS.md, "Consumers gather after a poll").

Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import benchlib

CHILD = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1])
variant, boot, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
from zfcommon.events.catalogue import TOPICS
if variant.startswith("kafka-python"):
    from zfcommon import kafka
    kc = kafka.consumer(boot, "bench", list(TOPICS), **({"metrics_enabled": True} if "metrics" in variant else {}))
    while not kc.assignment():
        kc.poll(timeout_ms=100)
    def poll():
        return [r for recs in kc.poll(timeout_ms=100).values() for r in recs]
    touch = lambda r: (r.key, r.value, r.headers)
    commit = kc.commit_async
else:
    from confluent_kafka import Consumer
    assigned = []
    kc = Consumer({"bootstrap.servers": boot, "group.id": "bench", "enable.auto.commit": False,
                   "auto.offset.reset": "earliest", "fetch.wait.max.ms": 50, "session.timeout.ms": 6000,
                   "heartbeat.interval.ms": 2000})
    kc.subscribe(list(TOPICS), on_assign=lambda c, parts: assigned.extend(parts))
    while not assigned:
        kc.poll(0.1)
    def poll():
        return [m for m in kc.consume(num_messages=500, timeout=0.1) if m.error() is None]
    touch = lambda m: (m.key(), m.value(), m.headers())
    commit = lambda: kc.commit(asynchronous=True)
print("ready", flush=True)
got, polls, t0 = 0, 0, None
while got < n:
    records = poll()
    if records:
        t0 = t0 if t0 is not None else time.process_time()
        polls += 1
        for r in records:
            touch(r)
        got += len(records)
        commit()
print(json.dumps({"cpu_s": time.process_time() - t0, "records": got, "polls": polls}), flush=True)
'''


def produce(bootstrap: str, n: int, rate: float, topics: list[str]) -> None:
    from zfcommon import kafka
    producer = kafka.producer(bootstrap)
    value = json.dumps({"type": "cn.zhengfeng.case.assigned.v1", "data": {"note": "x" * 360}}).encode()
    t0, sent = time.monotonic(), 0
    while sent < n:
        due = min(n, int((time.monotonic() - t0) * rate) + 1)
        for i in range(sent, due):
            producer.send(topics[i % 3], key=str(i % 50).encode(), value=value, headers=[("ce_epoch", b"1")])
        producer.flush(30)
        sent = due
        time.sleep(0.01)
    producer.close(5)


def one_round(broker, variant: str, n: int, rate: float) -> dict:
    from zfcommon import kafka
    from zfcommon.events.catalogue import TOPICS, all_topics
    broker.stop(kill=True)
    broker.start()
    kafka.ensure_topics(broker.bootstrap, all_topics(), 1)
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(benchlib.ROOT / "services"), variant,
                              broker.bootstrap, str(n)], stdout=subprocess.PIPE, text=True)
    try:
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{variant}: the consumer did not start")
        produce(broker.bootstrap, n, rate, list(TOPICS))
        out = json.loads(child.stdout.readline())
    finally:
        child.kill()
        child.wait()
    return {"ms_per_record": round(out["cpu_s"] / n * 1000, 4), "polls": out["polls"]}


def latency(broker, records: int = 150) -> dict:
    """p50/p90/p99 of a record's wait for a kafka-python consumer, records ~10 ms apart."""
    from zfcommon import kafka
    from zfcommon.events.catalogue import CASE_TOPIC, TOPICS, all_topics
    kafka.ensure_topics(broker.bootstrap, all_topics(), 1)
    producer = kafka.producer(broker.bootstrap)
    out = {}
    for name, wait_ms, min_bytes in (("answered at the first record (the services)", kafka.BUSY_FETCH_WAIT_MS, 1),
                                     ("broker gathers: 60 ms or 1 MiB", 60, 1 << 20)):
        kc = kafka.consumer(broker.bootstrap, f"latency-{wait_ms}-{min_bytes}", list(TOPICS),
                            auto_offset_reset="latest")
        while not kc.assignment():
            kc.poll(timeout_ms=100)
        kc.poll(timeout_ms=500)
        kc._fetcher.config.update(fetch_max_wait_ms=wait_ms, fetch_min_bytes=min_bytes)   # as FetchPacer does
        waits: list[float] = []

        def send():
            for _ in range(records):
                time.sleep(random.uniform(0.0, 0.02))
                producer.send(CASE_TOPIC, key=b"k", value=json.dumps(time.time()).encode())
                producer.flush(10)
        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.time() + 60
        while len(waits) < records and time.time() < deadline:
            polled = kc.poll(timeout_ms=500)
            now = time.time()
            waits += [now - json.loads(r.value) for recs in polled.values() for r in recs]
        sender.join()
        kc.close()
        waits.sort()
        out[name] = {q: round(waits[min(len(waits) - 1, int(len(waits) * f))] * 1000, 1)
                     for q, f in (("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99))}
    producer.close(5)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=4000, help="records per round (4000)")
    ap.add_argument("--rate", type=float, default=500.0, help="records per second (500)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per variant, alternating (3)")
    ap.add_argument("--latency", action="store_true", help="measure a record's wait instead (see above)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    benchlib.services_on_path()
    from zfcommon.devstack.broker import LocalBroker
    from zfcommon.devstack.ports import free_port
    workdir = Path(tempfile.mkdtemp(prefix="zf-bench-kafka-"))
    broker = LocalBroker(free_port(), workdir / "broker").start()
    try:
        if args.latency:
            result = {"latency": latency(broker)}
        else:
            variants = ["kafka-python", "kafka-python, metrics"]
            try:
                import confluent_kafka  # noqa: F401
                variants.append("confluent-kafka")
            except ImportError:
                print("kafka_clients: confluent_kafka does not import; measuring kafka-python only "
                      "(see --help)", file=sys.stderr)
            runs: dict[str, list[dict]] = {v: [] for v in variants}
            for _ in range(args.rounds):
                for v in variants:
                    runs[v].append(one_round(broker, v, args.records, args.rate))
            result = {"records": args.records, "rate": args.rate, "variants": {
                v: {"ms_per_record": statistics.median(r["ms_per_record"] for r in rs),
                    "runs": [r["ms_per_record"] for r in rs],
                    "polls": statistics.median(r["polls"] for r in rs)} for v, rs in runs.items()}}
    finally:
        broker.stop(kill=True)
    path = benchlib.save_result("kafka-clients", result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif args.latency:
        for name, q in result["latency"].items():
            print(f"  {name:<45} p50 {q['p50_ms']:>6} ms   p90 {q['p90_ms']:>6} ms   p99 {q['p99_ms']:>6} ms")
    else:
        anchor = result["variants"]["kafka-python"]["ms_per_record"]
        print(f"bare consumer loop, {args.records} records at {args.rate:g}/s, twelve topics, median of "
              f"{args.rounds} (CPU ms per record, all threads)\n")
        for v, r in result["variants"].items():
            print(f"  {v:<24}{r['ms_per_record']:>8.3f}  {r['ms_per_record'] / anchor:>6.2f}x"
                  f"   polls {r['polls']:>5.0f}   runs {', '.join(f'{x:.3f}' for x in r['runs'])}")
    print(f"\n(results: {path.relative_to(benchlib.ROOT)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
