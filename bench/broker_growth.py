"""What the embedded broker (Tansu, memory storage) costs per fetch as its log grows.

    .venv/bin/python bench/broker_growth.py [--steps 6] [--step-records 5000] [--fetches 200]

Brings its own Tansu broker (never the running `make up`). It produces records of ~900 bytes, one
record per produce request (as a relay at a county's rate sends them), to one topic of one
partition, in steps; after each step it measures, from /proc, the broker's CPU per produce and per
fetch of the partition's last record (a consumer that is caught up fetches exactly that), and the
broker's resident memory. A broker whose fetch reads an index costs the same per fetch at every
size; one whose fetch lists every stored batch costs more with every record kept.

Why it matters: `make up` runs this broker for development, demonstrations and small pilots, and the
topics keep every record (docs/DECISIONS.md "The topics keep every record"), so its memory and its
cost per delivered batch grow with the event history until it restarts (it then comes back empty and
the relays publish every stored event again). Production runs Apache Kafka (docker-compose.yml,
deploy/), whose fetch finds an offset through its segment index.

Benchmarks print figures; they never assert.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import proc_cpu, save_result, services_on_path  # noqa: E402


def rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6, help="sizes measured (6)")
    ap.add_argument("--step-records", type=int, default=5000, help="records produced between sizes (5000)")
    ap.add_argument("--fetches", type=int, default=200, help="tail fetches timed at each size (200)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    services_on_path()
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

    from zfcommon import kafka
    from zfcommon.devstack.broker import LocalBroker
    from zfcommon.devstack.ports import free_port

    broker = LocalBroker(free_port(), Path(tempfile.mkdtemp(prefix="zf-bench-broker-"))).start()
    rows = []
    try:
        kafka.ensure_topics(broker.bootstrap, ["bench.growth"], 1)
        producer = KafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0, acks=1, metrics_enabled=False)
        consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, enable_auto_commit=False,
                                 fetch_max_wait_ms=50, metrics_enabled=False)
        tp = TopicPartition("bench.growth", 0)
        consumer.assign([tp])
        value, stored = b"x" * 900, 0
        for _ in range(args.steps):
            before = proc_cpu(broker.proc.pid)
            for _ in range(args.step_records):
                producer.send(tp.topic, value).get(timeout=10)
            produce_ms = 1000 * (proc_cpu(broker.proc.pid) - before) / args.step_records
            stored += args.step_records
            got, before = 0, proc_cpu(broker.proc.pid)
            for _ in range(args.fetches):
                consumer.seek(tp, stored - 1)
                got += sum(len(records) for records in consumer.poll(timeout_ms=2000).values())
            fetch_ms = 1000 * (proc_cpu(broker.proc.pid) - before) / args.fetches
            rows.append({"stored": stored, "produce_ms": round(produce_ms, 3), "fetch_ms": round(fetch_ms, 3),
                         "fetched": got, "rss_mib": round(rss_mib(broker.proc.pid), 1)})
            if not args.json:
                r = rows[-1]
                print(f"  {r['stored']:>8,} stored   produce {r['produce_ms']:6.3f} ms   tail fetch "
                      f"{r['fetch_ms']:7.3f} ms (answered {r['fetched']} of {args.fetches})   "
                      f"resident {r['rss_mib']:7.1f} MiB", flush=True)
        producer.close()
        consumer.close()
    finally:
        broker.stop(kill=True)
    first, last = rows[0], rows[-1]
    per_thousand = (last["fetch_ms"] - first["fetch_ms"]) / ((last["stored"] - first["stored"]) / 1000) \
        if len(rows) > 1 else 0.0
    result = {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "rows": rows,
              "fetch_ms_per_1000_stored": round(per_thousand, 3)}
    path = save_result("broker-growth", result)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"\nbroker CPU per tail fetch grows by {per_thousand:.3f} ms per 1,000 records stored "
              f"in the partition (CPU ms from /proc; results: {path.relative_to(HERE.parent)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
