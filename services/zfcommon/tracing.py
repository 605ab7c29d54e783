"""OpenTelemetry tracing across the event path (docs/ARCHITECTURE.md "Tracing"): one trace follows a case
from intake's HTTP request through the event-store transaction, the relay's publish and each consumer's
application (ledger, notify, audit).

The context travels with the event itself: an event created inside a span carries the W3C `traceparent`
(and `tracestate`) as the CloudEvents distributed-tracing extension attributes, stored with the event in
the event store, so the relay that publishes it later, in another process, continues the trace from the
stored envelope. Each published record also carries the relay's own span in Kafka `traceparent` /
`tracestate` headers, which the consumers continue (the event's creation context when a record has none).

This module is the only place that knows OpenTelemetry. The hot paths call its hooks; while tracing is
off (the default: Settings.otel_traces_exporter empty) each hook checks one module global and returns
its input, an empty dict or a shared null context, and the OpenTelemetry packages are never imported.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Any, ContextManager, Iterable, Iterator

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_NULL = contextlib.nullcontext()
_provider: Any = None                  # opentelemetry.sdk.trace.TracerProvider while tracing is on
_tracer: Any = None
_propagator: Any = None


# -- turning it on ----------------------------------------------------------------------------------
def configure(settings, process: str) -> None:
    """Turn tracing on for this process when the settings name an exporter; a no-op otherwise, and when
    a provider is installed already. The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables
    (endpoint, headers, timeout) and the provider OTEL_TRACES_SAMPLER* itself; spans leave in batches
    from a background thread (OTEL_BSP_* variables)."""
    if not getattr(settings, "otel_traces_exporter", "") or _provider is not None:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if settings.otel_traces_exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({
        "service.name": settings.otel_service_name or f"zhengfeng-{settings.service}",
        "service.namespace": "zhengfeng", "zhengfeng.process": process}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    install(provider)
    log.info("tracing_on", extra={"exporter": settings.otel_traces_exporter, "process_kind": process})


def install(provider) -> None:
    """Trace with this TracerProvider (configure's, or a test's with an in-memory exporter)."""
    global _provider, _tracer, _propagator
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    _provider, _tracer, _propagator = provider, provider.get_tracer("zhengfeng"), TraceContextTextMapPropagator()


def uninstall() -> None:
    """Back to off (tests): spans already ended stay with the provider's exporter."""
    global _provider, _tracer, _propagator
    _provider = _tracer = _propagator = None


def enabled() -> bool:
    return _tracer is not None


# -- the HTTP request ---------------------------------------------------------------------------------
def instrument(app, settings) -> None:
    """Trace every request of a service's Flask app as a SERVER span, continuing a caller's `traceparent`.
    Call it before any other before_request hook is registered. Registers nothing while tracing is off."""
    configure(settings, "http")
    if _tracer is None:
        return
    app.before_request(_request_started)
    app.after_request(_request_answered)
    app.teardown_request(_request_ended)


def _request_started() -> None:
    from flask import g, request
    from opentelemetry import context, trace

    parent = _propagator.extract(request.headers)
    route = request.url_rule.rule if request.url_rule else None
    span = _tracer.start_span(f"{request.method} {route}" if route else request.method, context=parent,
                              kind=trace.SpanKind.SERVER,
                              attributes={"http.request.method": request.method, "url.path": request.path,
                                          **({"http.route": route} if route else {})})
    g.zf_trace = (span, context.attach(trace.set_span_in_context(span, parent)))


def _request_answered(resp):
    from flask import g
    from opentelemetry.trace import Status, StatusCode

    if (traced := g.get("zf_trace")) is not None:
        traced[0].set_attribute("http.response.status_code", resp.status_code)
        if resp.status_code >= 500:
            traced[0].set_status(Status(StatusCode.ERROR))
    return resp


def _request_ended(exc: BaseException | None) -> None:
    from flask import g
    from opentelemetry import context

    traced = g.pop("zf_trace", None)
    if traced is None:
        return
    span, token = traced
    if exc is not None:
        span.record_exception(exc)
    span.end()
    try:
        context.detach(token)
    except ValueError:          # a context entered elsewhere in this thread: nothing of ours to undo
        pass


# -- the event-store transaction and the events it stores --------------------------------------------
def transaction(name: str = "transaction") -> Any:
    """Start the span of a unit of work's transaction (made current); hand the result to `finish`.
    None while tracing is off."""
    if _tracer is None:
        return None
    cm = _tracer.start_as_current_span(name, attributes={"db.system.name": "postgresql"})
    cm.__enter__()
    return cm


def finish(traced: Any, *exc_info) -> None:
    """End what `transaction` started; `exc_info` as __exit__ got it (the span records a failure)."""
    if traced is not None:
        traced.__exit__(*(exc_info or (None, None, None)))


def trace_context() -> dict[str, str]:
    """`traceparent` (and `tracestate`) of the current span: the distributed-tracing extension attributes
    of an event created now, and the headers of a request to another service. Empty while tracing is
    off or outside any span."""
    if _tracer is None:
        return {}
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier


def log_ids() -> dict[str, str]:
    """`trace_id` and `span_id` of the current span for a log line, so a log line leads to its trace;
    empty while tracing is off or outside any span."""
    if _tracer is None:
        return {}
    from opentelemetry import trace

    span = trace.get_current_span().get_span_context()
    return {"trace_id": format(span.trace_id, "032x"), "span_id": format(span.span_id, "016x")} if span.is_valid else {}


# -- the relay's publish ----------------------------------------------------------------------------
def publish_headers(payload: dict[str, Any], headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The Kafka headers of one stored event's record: while tracing is on, a PRODUCER span continuing
    the event's stored context and its `traceparent`/`tracestate` added to `headers`; else `headers`."""
    if _tracer is None:
        return headers
    from opentelemetry import trace

    from .events.catalogue import topic_for

    topic = topic_for(payload["type"])
    span = _tracer.start_span(f"publish {topic}", context=_propagator.extract(payload), kind=trace.SpanKind.PRODUCER,
                              attributes={"messaging.system": "kafka", "messaging.operation.type": "send",
                                          "messaging.destination.name": topic, **_event_attributes(payload)})
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    span.end()
    return [*headers, *((k, v.encode()) for k, v in carrier.items())]


# -- each consumer's application ----------------------------------------------------------------------
def consuming(group: str, parsed: Iterable[tuple[Any, Any]]) -> ContextManager:
    """Around one batch's transaction: a CONSUMER span per (record, event), child of the relay's span in
    the record's headers (else of the event's creation context), linked to the event's creation context;
    all end when the batch is applied, marked failed when it raised."""
    if _tracer is None:
        return _NULL
    return _consuming(group, list(parsed))


@contextlib.contextmanager
def _consuming(group: str, parsed: list[tuple[Any, Any]]) -> Iterator[None]:
    from opentelemetry import trace
    from opentelemetry.trace import Link, Status, StatusCode

    spans = []
    for record, event in parsed:
        sent = {k: v.decode("latin-1") for k, v in record.headers or ()
                if k in (TRACEPARENT, TRACESTATE) and isinstance(v, bytes)}
        created = trace.get_current_span(_propagator.extract(event.extensions)).get_span_context()
        spans.append(_tracer.start_span(
            f"process {record.topic}", context=_propagator.extract(sent or event.extensions),
            kind=trace.SpanKind.CONSUMER, links=[Link(created)] if sent and created.is_valid else None,
            attributes={"messaging.system": "kafka", "messaging.operation.type": "process",
                        "messaging.destination.name": record.topic, "messaging.consumer.group.name": group,
                        "messaging.destination.partition.id": str(record.partition),
                        "messaging.kafka.offset": record.offset,
                        **_event_attributes({"id": event.id, "type": event.type, "source": event.source,
                                             "subject": event.subject})}))
    try:
        yield
    except BaseException as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        raise
    finally:
        for span in spans:
            span.end()


def _event_attributes(envelope: dict[str, Any]) -> dict[str, str]:
    # Ids and types only: a case id names no one; what a complainant wrote never goes into a span.
    return {"cloudevents.event_id": envelope["id"], "cloudevents.event_type": envelope["type"],
            "cloudevents.event_source": envelope["source"], "cloudevents.event_subject": envelope["subject"]}
