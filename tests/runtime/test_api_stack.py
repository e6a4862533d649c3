"""The API's hardening against the real stack (tests/runtime/conftest.py): the Idempotency-Key under concurrency,
strict JSON, the body limit before parsing, and permanent activity errors that fail a run at once.

The live server is uvicorn in the test process; the requests come over real sockets, from threads.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration

RUNS = "/v1/tenants/acme/runs"


def _wait(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


async def _temporal(stack):
    from temporalio.client import Client

    return await Client.connect(stack.settings.temporal_address, namespace=stack.settings.temporal_namespace)


def _workflows_started_between(stack, start: datetime, end: datetime) -> list[str]:
    """Workflow ids of RunWorkflow executions started in [start, end], from Temporal's visibility store."""
    query = (
        f"WorkflowType = 'RunWorkflow' AND StartTime >= '{start.isoformat().replace('+00:00', 'Z')}'"
        f" AND StartTime <= '{end.isoformat().replace('+00:00', 'Z')}'"
    )

    async def ids() -> list[str]:
        client = await _temporal(stack)
        return sorted([wf.id async for wf in client.list_workflows(query)])

    return asyncio.run(ids())


# ---------------------------------------------------------------- strict JSON


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (rb'{"evidence": {"control": "\ud800"}}', "lone surrogate \\ud800 in the string at /evidence/control"),
        (b'{"evidence": {"score": NaN}}', "NaN is not a JSON number"),
        (b'{"evidence": {"score": Infinity}}', "Infinity is not a JSON number"),
        (b'{"evidence": {"score": -Infinity}}', "-Infinity is not a JSON number"),
        (b'{"evidence": {"result": "pass", "result": "fail"}}', 'duplicate key "result" in an object'),
    ],
    ids=["lone-surrogate", "nan", "infinity", "minus-infinity", "duplicate-key"],
)
def test_a_body_that_is_not_strict_json_is_400_and_reaches_neither_the_worker_nor_the_database(stack, raw, reason):
    started_at = datetime.now(UTC)  # the server stamps StartTime after this
    with stack.client() as client:
        refused = client.post(RUNS, content=raw, headers={"content-type": "application/json"})
        assert refused.status_code == 400, refused.text
        assert refused.json()["detail"].startswith(f"invalid JSON body: {reason}")
        # a valid run after it: once it is visible, anything the refused body had started would be too
        good = client.post(RUNS, json={"evidence": {"after": reason}})
        assert good.status_code == 202
        stack.wait_run(client, good.json()["links"]["self"])
    ended_at = datetime.now(UTC) + timedelta(seconds=1)
    assert _wait(
        lambda: _workflows_started_between(stack, started_at, ended_at), 10, "the valid run in Temporal's visibility"
    ) == [good.json()["workflow_id"]]
    assert stack.sql("SELECT count(*) FROM runs WHERE created_at >= %s", (started_at,)) == [(1,)]


# ---------------------------------------------------------------- permanent activity errors


def test_a_poison_input_fails_its_run_within_one_attempt_with_the_reason(stack):
    """A lone surrogate sent to the workflow engine directly (not through the API, which refuses it) cannot be
    encoded as the evidence document: store_evidence fails for good on its first attempt, and the run is failed."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import WorkflowFailureError

    from controlplane.ids import UUIDv7Generator
    from controlplane.workflows import WORKFLOW_NAME, RunInput, workflow_id

    run_id = str(UUIDv7Generator().new())
    wf_id = workflow_id("acme", run_id)
    poison = RunInput(
        run_id=run_id,
        tenant="acme",
        kind="evidence",
        requested_at=datetime.now(UTC).isoformat(),
        evidence={"control": "\ud800"},
        retry_initial_seconds=stack.settings.activity_initial_retry,
    )

    async def scenario():
        client = await _temporal(stack)
        handle = await client.start_workflow(WORKFLOW_NAME, poison, id=wf_id, task_queue=stack.settings.task_queue)
        try:
            with pytest.raises(WorkflowFailureError) as failure:
                await asyncio.wait_for(handle.result(), 30)  # retried for an hour when not permanent
        finally:
            description = await handle.describe()
            if description.status is not None and description.status.name == "RUNNING":
                await handle.terminate("test over")
        history = [event async for event in handle.fetch_history_events()]
        return failure.value, history

    failure, history = asyncio.run(scenario())
    assert "store_evidence: UnicodeEncodeError" in str(failure.cause)
    assert "surrogates not allowed" in str(failure.cause)
    started = [
        e.activity_task_started_event_attributes.attempt
        for e in history
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    ]
    assert started == [1, 1, 1]  # record_run, store_evidence, fail_run: one attempt each
    (failed,) = [e for e in history if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED]
    info = failed.activity_task_failed_event_attributes.failure.application_failure_info
    assert info.type == "PermanentError" and info.non_retryable

    with stack.client() as client:
        body = stack.wait_run(client, f"{RUNS}/{run_id}", status="failed", timeout=10)
    assert "UnicodeEncodeError" in body["error"] and body["evidence_key"] is None
    events = stack.sql("SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY id", (run_id,))
    assert events == [("run.recorded",), ("run.failed",)]
