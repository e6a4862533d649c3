"""Secret values registered by the secret store never leave the process through logs or spans."""

from __future__ import annotations

import logging
import secrets

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from controlplane.redaction import MASK, SECRETS, RedactingFilter, SecretRegistry, install_log_redaction
from controlplane.telemetry import RedactingSpanExporter


def test_registry_masks_longest_first_and_ignores_short_values():
    r = SecretRegistry()
    r.add("abcdef", "abcdefghij", "abc", None)
    assert "abc" not in r and len(r) == 2
    assert r.redact("x abcdefghij y abcdef z abc") == f"x {MASK} y {MASK} z abc"
    assert r.redact_any(["abcdef", 3]) == [MASK, 3]
    r.add_mapping({"password": "p4ssw0rd-long", "port": 5432})
    assert r.redact("pw=p4ssw0rd-long") == f"pw={MASK}"


def test_every_log_record_is_redacted_at_creation_whatever_the_handler(caplog):
    canary = "canary-" + secrets.token_hex(8)
    SECRETS.add(canary)
    install_log_redaction()
    install_log_redaction()  # idempotent
    log = logging.getLogger("tests.redaction")
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        log.info("password is %s", canary)
        log.info(f"inline {canary}")
        log.info("dict %s", {"password": canary})
        try:
            raise ValueError(f"boom {canary}")
        except ValueError:
            log.exception("failed")
    text = caplog.text
    assert canary not in text
    assert f"password is {MASK}" in text and f"inline {MASK}" in text and f"boom {MASK}" in text


def test_the_handler_filter_redacts_records_made_before_the_factory():
    r = SecretRegistry()
    r.add("zz-secret-zz")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %s", ("zz-secret-zz",), None)
    assert RedactingFilter(r).filter(record) is True
    assert record.getMessage() == f"value {MASK}"


def test_span_exporter_masks_names_attributes_events_and_status():
    r = SecretRegistry()
    r.add("span-secret-123")
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory, r)))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("op span-secret-123", attributes={"a": "x span-secret-123", "n": 1}) as span:
        span.add_event("evt", {"list": ["span-secret-123", "ok"]})
        span.set_status(Status(StatusCode.ERROR, "failed with span-secret-123"))
    with tracer.start_as_current_span("clean", attributes={"a": "fine"}):
        pass
    dirty, clean = memory.get_finished_spans()
    assert dirty.name == f"op {MASK}"
    assert dict(dirty.attributes) == {"a": f"x {MASK}", "n": 1}
    assert list(dirty.events[0].attributes["list"]) == [MASK, "ok"]
    assert dirty.status.description == f"failed with {MASK}"
    assert dirty.context.trace_id == dirty.context.trace_id and clean.name == "clean"
    provider.shutdown()
