"""Builders shared by integration and end-to-end tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from zfcommon import kafka
from zfcommon.auth import issue_token

from .conftest import JWT_SECRET


def complaint(**overrides: Any) -> dict[str, Any]:
    body = {"channel": "hotline", "category": "推诿扯皮",
            "description": "不动产登记窗口以系统故障为由推诿,不一次性告知所需材料",
            "subject_unit": "县自然资源局",
            "location": {"address": "县政务服务中心二楼", "lat": 26.989, "lon": 111.2743},
            "complainant": {"name": "李某", "phone": "13807391234"}}
    body.update(overrides)
    return body


def hotline_order(**changes: Any) -> dict[str, Any]:
    """The 12345 hotline's published sample work order (content shortened), with changes; `...` removes a field."""
    doc = {
        "工单编号": "SY12345-20261123-000317", "受理时间": "2026-11-23T09:41:07+08:00", "受理渠道": "电话",
        "诉求类型": "投诉", "来电人": "李某", "联系电话": "13807391234", "是否保密": True,
        "诉求标题": "县政务服务中心不动产登记窗口推诿", "诉求内容": "窗口工作人员以系统故障为由不予受理。",
        "事发地址": "邵阳县政务服务中心二楼不动产登记窗口", "经度": 111.2743, "纬度": 26.9890,
        "建议承办单位": "县自然资源局", "紧急程度": "一般", "办理时限(工作日)": 5,
        "附件": [{"名称": "受理回执.jpg", "地址": "https://12345.example.gov.cn/files/000317-1.jpg"}],
    }
    doc.update(changes)
    return {k: v for k, v in doc.items() if v is not ...}


def bearer(role: str = "office", sub: str = "tester", secret: str = JWT_SECRET, **scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, role, sub, **scope)}"}


# The suite's in-process consumers take a 2 s group session: the broker holds a new group's first join
# for half of it, so each starts reading after 1 s instead of the 3 s of the services' default.
TEST_SESSION_MS = 2000


def group_consumer(bootstrap: str, group: str, topics, **overrides):
    """A consumer of the services' configuration (kafka.consumer) with the suite's short session."""
    return kafka.consumer(bootstrap, group, topics, TEST_SESSION_MS, **overrides)


def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll until check() returns a truthy value; fail with the last value otherwise."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")


Answer = tuple[int, dict[str, str], bytes]      # status, headers, body


def serve_posts(answer: Callable[[str, dict[str, str], bytes], Answer]) -> ThreadingHTTPServer:
    """A real HTTP server on a free loopback port (`server.server_address[1]`) standing in for someone
    notify posts to (a department's endpoint, the SMS gateway, a group robot): `answer(path with query,
    lower-case headers, raw body)` decides each answer, and may take its time."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status, headers, content = answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def rows_as_text(url: str) -> str:
    """Every row of every table in the schema of the role `url` connects as, as text (to search it for
    what must not be kept)."""
    from zfcommon import db

    with db.connect(url) as conn:
        tables = [r["table_name"] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")]
        return "\n".join(str(r) for t in tables for r in conn.execute(f'SELECT t::text AS row FROM "{t}" t'))


def read_topic(bootstrap: str, topic: str, expect: int, timeout: float = 15.0) -> list:
    """Every record on `topic` from the start (manual assignment, no group), waiting for `expect`."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             allow_auto_create_topics=False)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(records) < expect:
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def scheduler_pass(notify_url: str, clock_file: Path | str, open_case: Callable | None = None) -> int:
    """One pass of notify's escalation scheduler on that database, at the file clock's time; returns how
    many escalation events it appended."""
    from notify.service_layer import escalate
    from notify.service_layer.uow import UnitOfWork
    from zfcommon import db
    from zfcommon.clock import FileClock

    pool = db.make_pool(notify_url, max_size=1)
    pool.open()
    try:
        with UnitOfWork(pool) as uow:
            return escalate.run_once(uow, FileClock(str(clock_file)), open_case=open_case)
    finally:
        pool.close()


def carry(urls: dict[str, str], into: tuple[str, ...] = ("ledger",), sources: tuple[str, ...] = ("intake",),
          notices: bool = False) -> int:
    """Every event the `sources` (intake, notify) stored, applied in store order by the named services'
    consumer code (with its tracking table, as the consumer would, so applying twice changes nothing):
    the projections without a relay and broker. Returns how many events were newly applied. `notices`:
    notify applies them as its consumer does, queueing the notices they call for, not only projecting."""
    from ledger.adapters.repository import apply as ledger_apply
    from notify.adapters.repository import apply as notify_apply
    from notify.service_layer import fanout
    from zfcommon import db
    from zfcommon.consumer import apply_once
    from zfcommon.events import parse_event
    from zfcommon.events.catalogue import topic_for

    appliers = {"ledger": ledger_apply, "notify": fanout.applier(hotline_on=False) if notices else notify_apply}
    events = []
    for source in sources:
        with db.connect(urls[source]) as conn:
            events += [parse_event(r["payload"]) for r in conn.execute("SELECT payload FROM events ORDER BY position")]
    applied = 0
    for service in into:
        with db.connect(urls[service]) as conn:
            for event in events:
                applied += apply_once(conn, event, topic_for(event.type), appliers[service])
            conn.commit()
    return applied


@contextmanager
def gunicorn_serving(app: str, env: Mapping[str, str], log_path: Path, *, workers: int = 2,
                     args: tuple[str, ...] = (), cwd: Path | None = None) -> Iterator[str]:
    """`app` under a real gunicorn with the services' gunicorn_conf, on a free port, with the test
    process's environment less every ZF_/DATABASE_URL/KAFKA_ setting, plus `env`; yields its base URL
    and stops it (SIGTERM, then kill) on the way out."""
    from zfcommon.devstack.ports import free_port, wait_for_port
    port = free_port()
    environ = {**{k: v for k, v in os.environ.items() if not k.startswith(("ZF_", "DATABASE_URL", "KAFKA_"))}, **env}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}",
                                 "--workers", str(workers), "--no-control-socket", *args,
                                 "--config", "python:zfcommon.gunicorn_conf", app],
                                env=environ, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
        try:
            wait_for_port(port, 60)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
