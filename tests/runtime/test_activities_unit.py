"""Which activity errors are permanent (not retried) and which stay transient (retried with backoff).

The end-to-end proof, a poison input failing its run on the first attempt in a real worker, is in test_api_stack.py.
"""

from __future__ import annotations

import asyncio
import uuid

import psycopg
import pytest
from temporalio.exceptions import ApplicationError

from controlplane.activities import RunActivities, permanent_errors
from controlplane.errors import DependencyError
from controlplane.ids import UUIDv7Generator
from controlplane.workflows import PERMANENT_ERROR, RecordRunInput, StoreEvidenceInput


@pytest.mark.parametrize(
    "error",
    [
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        ValueError("badly formed hexadecimal UUID string"),
        TypeError("unsupported"),
        psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"),
        psycopg.errors.CheckViolation("new row violates check constraint"),
    ],
)
def test_input_errors_become_non_retryable_application_errors_naming_the_activity(error):
    with pytest.raises(ApplicationError) as raised, permanent_errors("store_evidence"):
        raise error
    assert raised.value.non_retryable and raised.value.type == PERMANENT_ERROR
    assert raised.value.message.startswith(f"store_evidence: {type(error).__name__}: ")


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection refused"),
        DependencyError("object store: put s3://b/k failed: ServiceUnavailable"),
        TimeoutError(),
        ConnectionError("reset"),
        RuntimeError("injected failure after record_run committed"),
    ],
)
def test_dependency_errors_stay_retryable(error):
    with pytest.raises(type(error)), permanent_errors("record_run"):
        raise error


class Objects:
    def __init__(self) -> None:
        self.puts: list[str] = []

    async def put(self, key, data, *, content_type, metadata=None):
        self.puts.append(key)
        raise DependencyError("object store: put failed: ServiceUnavailable")


def test_a_lone_surrogate_in_the_evidence_is_permanent_and_an_unavailable_store_is_not():
    objects = Objects()
    acts = RunActivities(store=None, objects=objects, ids=UUIDv7Generator())  # type: ignore[arg-type]
    run_id = str(uuid.uuid4())
    poison = StoreEvidenceInput(run_id, "acme", "evidence", "2026-01-01T00:00:00+00:00", {"x": "\ud800"})
    with pytest.raises(ApplicationError) as raised:
        asyncio.run(acts.store_evidence(poison))
    assert raised.value.non_retryable and "surrogates not allowed" in str(raised.value)
    assert objects.puts == []  # refused before any I/O

    fine = StoreEvidenceInput(run_id, "acme", "evidence", "2026-01-01T00:00:00+00:00", {"x": "ok"})
    with pytest.raises(DependencyError):  # the object store is away: Temporal retries it
        asyncio.run(acts.store_evidence(fine))
    assert len(objects.puts) == 1

    with pytest.raises(ApplicationError, match="record_run: ValueError"):
        asyncio.run(acts.record_run(RecordRunInput("not-a-uuid", "acme", "evidence", "wf", "2026-01-01T00:00:00")))
