"""Tracing across the event path, on the real PostgreSQL and broker: intake's HTTP app, its relay and the
three consumers run in this process with an in-memory span exporter, as their processes would each export."""
from __future__ import annotations

import threading

import pytest
from opentelemetry.trace import SpanKind

from audit.adapters import trail
from intake.entrypoints.http import create_app as intake_app
from ledger.adapters import repository as ledger
from notify.service_layer.fanout import applier
from zfcommon import db, kafka
from zfcommon.consumer import EventConsumer
from zfcommon.events.catalogue import CASE_TOPIC, TOPICS, all_topics
from zfcommon.relay import Relay

from ..conftest import settings_for
from ..support import bearer, complaint, eventually, group_consumer
from ..unit.test_tracing import spans  # noqa: F401 (the in-memory exporter fixture)

pytestmark = pytest.mark.integration
GROUPS = {"ledger": (ledger.apply, None), "notify": (applier(hotline_on=False), None),
          "audit": (trail.apply, trail.apply_batch)}


@pytest.fixture
def pipeline(urls, broker):
    """intake's relay and the ledger, notify and audit consumers, running until the test ends."""
    kafka.ensure_topics(broker.bootstrap, all_topics(), 3)
    stop = threading.Event()
    consumers = [EventConsumer(group=group, apply=apply, apply_batch=batch, database_url=urls[group],
                               kafka_consumer=group_consumer(broker.bootstrap, group, list(TOPICS)),
                               dlq_producer=kafka.producer(broker.bootstrap))
                 for group, (apply, batch) in GROUPS.items()]
    relay = Relay(database_url=urls["intake"], bootstrap=broker.bootstrap, partitions=3, check_interval=0.5)
    threads = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in (relay, *consumers)]
    for t in threads:
        t.start()
    yield
    stop.set()
    for t in threads:
        t.join(10)
    for c in consumers:
        c.consumer.close()
        c.dlq.close()


def test_one_post_and_its_three_consumer_applications_form_one_trace(urls, broker, spans, pipeline):
    app = intake_app(settings_for("intake", urls["intake"], broker.bootstrap))
    try:
        answer = app.test_client().post("/v1/cases", json=complaint(), headers=bearer("office"))
    finally:
        app.extensions["zf_pool"].close()
    assert answer.status_code == 201
    case_id = answer.json["case_id"]

    def applied() -> dict:
        found = {s.attributes["messaging.consumer.group.name"]: s for s in spans.get_finished_spans()
                 if s.kind == SpanKind.CONSUMER and s.attributes["cloudevents.event_subject"] == case_id}
        return found if set(found) == set(GROUPS) else None
    processed = eventually(applied, timeout=40)
    by_id = {s.context.span_id: s for s in spans.get_finished_spans()}

    [request] = [s for s in by_id.values() if s.kind == SpanKind.SERVER]
    assert (request.name, request.attributes["http.response.status_code"]) == ("POST /v1/cases", 201)
    [publish] = {processed[g].parent.span_id for g in GROUPS}      # all three continue the one publish
    publish = by_id[publish]
    assert (publish.name, publish.kind) == (f"publish {CASE_TOPIC}", SpanKind.PRODUCER)
    transaction = by_id[publish.parent.span_id]                    # the relay continued the stored context
    assert transaction.name == "transaction" and transaction.parent.span_id == request.context.span_id
    assert {s.context.trace_id for s in (request, transaction, publish, *processed.values())} == \
        {request.context.trace_id}
    assert request.parent is None                                  # the POST is where the trace starts
    with db.connect(urls["intake"]) as conn:
        stored = conn.execute("SELECT payload FROM events WHERE stream_id = %s", (case_id,)).fetchone()["payload"]
    assert stored["traceparent"].split("-")[1:3] == [format(request.context.trace_id, "032x"),
                                                     format(transaction.context.span_id, "016x")]
