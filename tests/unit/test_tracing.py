"""zfcommon.tracing: off by default at no cost; on, the W3C trace context travels from the request through
the stored event, the relay's record headers and each consumer's application."""
from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask, jsonify
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from zfcommon import tracing
from zfcommon.events import parse_event, serialize_event
from zfcommon.events.catalogue import CASE_TOPIC
from zfcommon.logs import JsonFormatter
from zfcommon.settings import ConfigError, Settings
from zfcommon.uow import UnitOfWork

from .fakes import received_event

ENV = {"DATABASE_URL": "postgresql://intake@db/zf", "KAFKA_BOOTSTRAP_SERVERS": "broker:9092",
       "ZF_JWT_ALGORITHM": "HS256", "ZF_JWT_SECRET": "s3cret"}
CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def event(subject: str = "case-1"):
    return received_event(subject)


def hex_ids(span) -> tuple[str, str]:
    return format(span.context.trace_id, "032x"), format(span.context.span_id, "016x")


def traceparent_of(span) -> str:
    trace_id, span_id = hex_ids(span)
    return f"00-{trace_id}-{span_id}-{span.context.trace_flags:02x}"


def record(headers=(), topic=CASE_TOPIC, value=b"{}"):
    return SimpleNamespace(topic=topic, partition=0, offset=7, headers=list(headers), value=value)


@pytest.fixture
def spans():
    """Tracing on for the test, every span ended kept in memory (as each process would export it)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.install(provider)
    try:
        yield exporter
    finally:
        tracing.uninstall()
        provider.shutdown()


# -- settings -------------------------------------------------------------------------------------------
def test_tracing_is_off_unless_an_exporter_is_named():
    assert Settings.from_env("intake", ENV).otel_traces_exporter == ""
    assert Settings.from_env("intake", {**ENV, "OTEL_TRACES_EXPORTER": "none"}).otel_traces_exporter == ""
    assert Settings.from_env("intake", {**ENV, "OTEL_TRACES_EXPORTER": "otlp"}).otel_traces_exporter == "otlp"


def test_otel_sdk_disabled_turns_tracing_off_whatever_the_exporter():
    env = {**ENV, "OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}
    assert Settings.from_env("ledger", env).otel_traces_exporter == ""


def test_an_unknown_exporter_is_refused_naming_the_variable():
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER"):
        Settings.from_env("ledger", {**ENV, "OTEL_TRACES_EXPORTER": "jaeger"})


def test_the_service_name_comes_from_otel_service_name_else_the_service(caplog):
    caplog.set_level("INFO", logger="zfcommon.tracing")      # as a process logs: its start line must not fail
    on = {**ENV, "OTEL_TRACES_EXPORTER": "otlp"}
    try:
        tracing.configure(Settings.from_env("notify", {**on, "OTEL_SERVICE_NAME": "zf-notify-city"}), "consumer")
        assert tracing._provider.resource.attributes["service.name"] == "zf-notify-city"
        assert tracing._provider.resource.attributes["zhengfeng.process"] == "consumer"
        assert [r.process_kind for r in caplog.records if r.msg == "tracing_on"] == ["consumer"]
    finally:
        tracing._provider.shutdown()
        tracing.uninstall()
    try:
        tracing.configure(Settings.from_env("notify", on), "relay")
        assert tracing._provider.resource.attributes["service.name"] == "zhengfeng-notify"
    finally:
        tracing._provider.shutdown()
        tracing.uninstall()


# -- off ------------------------------------------------------------------------------------------------
def test_off_the_opentelemetry_packages_are_not_even_imported():
    script = (
        "import sys\n"
        "from zfcommon import consumer, relay, tracing, uow, web\n"
        "from tests.unit.fakes import received_event\n"
        "from zfcommon.settings import Settings\n"
        "tracing.configure(Settings.from_env('intake', {'DATABASE_URL': 'x', 'KAFKA_BOOTSTRAP_SERVERS': 'y',"
        " 'ZF_JWT_ALGORITHM': 'HS256', 'ZF_JWT_SECRET': 'z'}), 'http')\n"
        "received_event()\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2]).stdout
    assert out.strip() == "[]"


def test_off_every_hook_hands_back_its_input_and_events_carry_no_trace():
    headers = [("content-type", b"application/cloudevents+json; charset=UTF-8")]
    assert tracing.enabled() is False
    assert event().extensions == {}
    assert tracing.trace_context() == {} and tracing.log_ids() == {}
    assert tracing.publish_headers(event().to_dict(), headers) is headers
    assert tracing.transaction() is None
    with tracing.consuming("ledger", [(record(), event())]):
        pass


def test_off_a_flask_app_gets_no_tracing_hooks():
    app = Flask("t")
    tracing.instrument(app, Settings.from_env("intake", ENV))
    assert not app.before_request_funcs and not app.after_request_funcs and not app.teardown_request_funcs


# -- on -------------------------------------------------------------------------------------------------
def test_an_event_created_in_a_span_carries_its_traceparent_in_the_envelope(spans):
    with tracing._tracer.start_as_current_span("command") as span:
        created = event()
    assert created.extensions == {"traceparent": traceparent_of(span)}
    assert parse_event(serialize_event(created)).extensions["traceparent"] == traceparent_of(span)


def test_an_event_created_outside_any_span_carries_none(spans):
    assert event().extensions == {}


def test_the_unit_of_works_transaction_is_the_current_span_and_records_a_failure(spans):
    conn = SimpleNamespace(rollback=lambda: None)
    pool = SimpleNamespace(getconn=lambda: conn, putconn=lambda c: None)
    with pytest.raises(RuntimeError):
        with UnitOfWork(pool):
            created = event()
            raise RuntimeError("refused")
    [span] = spans.get_finished_spans()
    assert span.name == "transaction" and span.status.status_code == StatusCode.ERROR
    assert created.extensions["traceparent"] == traceparent_of(span)


def test_the_relay_publishes_under_a_producer_span_continuing_the_stored_event(spans):
    with tracing._tracer.start_as_current_span("command") as command:
        stored = event().to_dict()
    base = [("zf-epoch", b"1")]
    headers = tracing.publish_headers(stored, base)
    publish = next(s for s in spans.get_finished_spans() if s.name == f"publish {CASE_TOPIC}")
    assert publish.kind == SpanKind.PRODUCER
    assert publish.parent.span_id == command.context.span_id
    assert publish.context.trace_id == command.context.trace_id
    assert headers[:1] == base and dict(headers)["traceparent"] == traceparent_of(publish).encode()
    assert publish.attributes["cloudevents.event_id"] == stored["id"]


def test_a_consumer_continues_the_relays_span_and_links_the_events_creation(spans):
    with tracing._tracer.start_as_current_span("command") as command:
        created = event()
    headers = tracing.publish_headers(created.to_dict(), [])
    with tracing.consuming("ledger", [(record(headers), created)]):
        pass
    publish, process = (next(s for s in spans.get_finished_spans() if s.name == n)
                        for n in (f"publish {CASE_TOPIC}", f"process {CASE_TOPIC}"))
    assert process.kind == SpanKind.CONSUMER
    assert process.parent.span_id == publish.context.span_id
    assert process.context.trace_id == command.context.trace_id
    assert [link.context.span_id for link in process.links] == [command.context.span_id]
    assert process.attributes["messaging.consumer.group.name"] == "ledger"


def test_a_record_without_trace_headers_continues_the_events_creation_context(spans):
    with tracing._tracer.start_as_current_span("command") as command:
        created = event()
    with tracing.consuming("audit", [(record(), created)]):
        pass
    [process] = [s for s in spans.get_finished_spans() if s.name.startswith("process")]
    assert process.parent.span_id == command.context.span_id and not process.links


def test_a_batch_that_fails_to_apply_marks_every_events_span_failed(spans):
    pairs = [(record(), event()), (record(), event(subject="case-2"))]
    with pytest.raises(ValueError):
        with tracing.consuming("notify", pairs):
            raise ValueError("cannot apply")
    failed = [s for s in spans.get_finished_spans() if s.name.startswith("process")]
    assert len(failed) == 2 and {s.status.status_code for s in failed} == {StatusCode.ERROR}


def test_a_request_is_a_server_span_continuing_the_callers_traceparent(spans):
    app = Flask("t")
    tracing.instrument(app, Settings.from_env("intake", ENV))
    made = {}

    @app.post("/v1/cases")
    def receive():
        made["event"] = event()
        return jsonify(ok=True), 201

    answer = app.test_client().post("/v1/cases", headers={"traceparent": CALLER})
    assert answer.status_code == 201
    [server] = spans.get_finished_spans()
    assert (server.name, server.kind) == ("POST /v1/cases", SpanKind.SERVER)
    assert hex_ids(server)[0] == CALLER.split("-")[1] and format(server.parent.span_id, "016x") == CALLER.split("-")[2]
    assert server.attributes["http.response.status_code"] == 201
    assert made["event"].extensions["traceparent"] == traceparent_of(server)


def log_line() -> dict:
    return json.loads(JsonFormatter("intake").format(logging.LogRecord("t", 20, "", 0, "case_received", None, None)))


def test_a_log_line_written_inside_a_span_names_its_trace_and_span(spans):
    assert "trace_id" not in log_line()
    with tracing._tracer.start_as_current_span("command") as span:
        inside = log_line()
    assert (inside["trace_id"], inside["span_id"]) == hex_ids(span)


def test_a_call_to_another_service_carries_the_current_trace_context(spans):
    from zfcommon.servicehttp import OfficeClient

    sent = {}
    client = OfficeClient("http://ledger.invalid", "a-service-secret-of-at-least-32-bytes")
    client.session.get = lambda url, **kw: sent.update(kw) or SimpleNamespace(status_code=200)
    client.get("/v1/cases")
    assert "traceparent" not in sent["headers"]
    with tracing._tracer.start_as_current_span("scheduler pass") as span:
        client.get("/v1/cases")
    assert sent["headers"]["traceparent"] == traceparent_of(span)


def test_with_otlp_the_spans_reach_the_collector_named_by_the_standard_variables(monkeypatch):
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], ExportTraceServiceRequest.FromString(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    try:
        tracing.configure(Settings.from_env("intake", {**ENV, "OTEL_TRACES_EXPORTER": "otlp"}), "relay")
        with tracing.consuming("ledger", [(record(), event())]):
            pass
        tracing._provider.force_flush()
    finally:
        tracing._provider.shutdown()
        tracing.uninstall()
        server.shutdown()
    [(path, content_type, request)] = received
    assert (path, content_type) == ("/v1/traces", "application/x-protobuf")
    [resource_spans] = request.resource_spans
    resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert (resource["service.name"], resource["zhengfeng.process"]) == ("zhengfeng-intake", "relay")
    assert [s.name for s in resource_spans.scope_spans[0].spans] == [f"process {CASE_TOPIC}"]


def test_a_malformed_trace_context_starts_a_new_trace_rather_than_failing_the_batch(spans):
    from dataclasses import replace

    garbled = replace(event(), extensions={"traceparent": "00-not-a-trace-01"})
    with tracing.consuming("audit", [(record([("traceparent", b"\xff\xfe"), ("tracestate", None)]), garbled)]):
        pass
    [process] = spans.get_finished_spans()
    assert process.parent is None and process.context.is_valid
