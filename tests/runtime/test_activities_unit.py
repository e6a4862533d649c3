"""Which activity errors are permanent (not retried) and which stay transient (retried with backoff).

The end-to-end proof, a poison input failing its run on the first attempt in a real worker, is in test_api_stack.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from temporalio.exceptions import ApplicationError

from controlplane.activities import RunActivities, permanent_errors
from controlplane.errors import DependencyError
from controlplane.ids import UUIDv7Generator
from controlplane.ledger.chain import GENESIS, Entry, seal, timestamp
from controlplane.models import Retention, StoredObject
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
    def __init__(self, *, fail: bool = True) -> None:
        self.puts: list[tuple[str, object]] = []
        self.fail = fail

    async def put(self, key, data, *, content_type, metadata=None, lock=None):
        self.puts.append((key, lock))
        if self.fail:
            raise DependencyError("object store: put failed: ServiceUnavailable")
        sha = hashlib.sha256(data).hexdigest()
        return StoredObject("bucket", key, sha, len(data), version_id=f"v{len(self.puts)}")


class Ledger:
    """The ledger's idempotency by ref, in memory; `away` makes appends fail as with Vault unreachable."""

    bucket = "bucket"

    def __init__(self, *, away: bool = False) -> None:
        self.entries: dict[str, Entry] = {}
        self.away = away

    async def find(self, ref):
        return self.entries.get(ref)

    async def append(self, new):
        if self.away:
            raise DependencyError("evidence ledger: Vault transit transit/k: ConnectionError: nothing was appended")
        if new.ref not in self.entries:
            self.entries[new.ref] = seal(len(self.entries) + 1, GENESIS, timestamp(), new)
        return self.entries[new.ref]


def test_a_lone_surrogate_in_the_evidence_is_permanent_and_an_unavailable_store_is_not():
    objects = Objects()
    acts = RunActivities(store=None, objects=objects, ids=UUIDv7Generator(), ledger=Ledger())  # type: ignore[arg-type]
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


def test_store_evidence_puts_a_locked_version_and_appends_one_entry_and_a_retry_writes_nothing():
    objects, ledger = Objects(fail=False), Ledger()
    acts = RunActivities(None, objects, UUIDv7Generator(), ledger, retention=Retention("GOVERNANCE", 3))  # type: ignore[arg-type]
    run_id = str(uuid.uuid4())
    inp = StoreEvidenceInput(run_id, "acme", "audit", "2026-01-01T00:00:00+00:00", {"x": "ok"})
    before = datetime.now(UTC)
    first, again = asyncio.run(acts.store_evidence(inp)), asyncio.run(acts.store_evidence(inp))
    assert first == again and (first.version_id, first.seq) == ("v1", 1)
    assert len(objects.puts) == 1  # the retry found the entry: no second version
    key, lock = objects.puts[0]
    assert key == first.key == f"tenants/acme/runs/{run_id}/evidence.json"
    assert lock.mode == "GOVERNANCE" and lock.retain_until.microsecond == 0
    assert before + timedelta(days=3, seconds=-1) <= lock.retain_until <= datetime.now(UTC) + timedelta(days=3)
    (entry,) = ledger.entries.values()
    assert (entry.tenant, entry.kind, entry.actor, entry.ref) == (
        "acme",
        "run.evidence",
        "controlplane-worker",
        f"run:acme/{run_id}",
    )
    assert (entry.object_key, entry.version_id, entry.payload_sha256) == (key, "v1", first.sha256)
    assert entry.retention_class == "standard" and entry.retain_until == timestamp(lock.retain_until)
    assert json.loads(entry.attributes) == {"run_id": run_id, "run_kind": "audit"}


def test_a_ledger_that_cannot_append_stays_retryable():
    acts = RunActivities(None, Objects(fail=False), UUIDv7Generator(), Ledger(away=True))  # type: ignore[arg-type]
    inp = StoreEvidenceInput(str(uuid.uuid4()), "acme", "evidence", "2026-01-01T00:00:00+00:00", {"x": "ok"})
    with pytest.raises(DependencyError, match="nothing was appended"):
        asyncio.run(acts.store_evidence(inp))
