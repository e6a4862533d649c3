"""The API's hardening against the real stack (tests/runtime/conftest.py): the Idempotency-Key under concurrency,
strict JSON, the body limit before parsing, and permanent activity errors that fail a run at once.

The live server is uvicorn in the test process; the requests come over real sockets, from threads.
"""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.runtime.conftest import wait_for as _wait

pytestmark = pytest.mark.integration

RUNS = "/v1/tenants/acme/runs"


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


# ---------------------------------------------------------------- Idempotency-Key


def test_twenty_concurrent_posts_with_one_idempotency_key_create_exactly_one_run(stack):
    key = f"burst-{uuid.uuid4()}"
    body = {"kind": "evidence", "evidence": {"burst": key}}
    n = 20
    barrier = threading.Barrier(n)

    def post(_: int):
        with stack.client() as client:  # one connection per thread
            client.get("/livez")  # connected before the barrier: the POSTs leave together
            barrier.wait(30)
            return client.post(RUNS, json=body, headers={"Idempotency-Key": key})

    started_at = datetime.now(UTC)  # the server stamps StartTime after this
    with ThreadPoolExecutor(n) as pool:
        responses = list(pool.map(post, range(n)))
    ended_at = datetime.now(UTC) + timedelta(seconds=1)

    assert [r.status_code for r in responses] == [202] * n, [r.text for r in responses if r.status_code != 202]
    answers = {json.dumps(r.json(), sort_keys=True) for r in responses}
    assert len(answers) == 1, f"{len(answers)} different runs for one key"
    assert {r.headers["location"] for r in responses} == {responses[0].json()["links"]["self"]}
    replayed = sorted(r.headers.get("idempotent-replayed", "first") for r in responses)
    assert replayed == ["first"] + ["true"] * (n - 1)

    accepted = responses[0].json()
    with stack.client() as client:
        stack.wait_run(client, accepted["links"]["self"])
    run_id = accepted["run_id"]
    assert stack.sql("SELECT count(*) FROM runs WHERE id = %s", (run_id,)) == [(1,)]
    assert stack.sql(
        "SELECT run_id::text, started_at IS NOT NULL, expires_at - created_at FROM idempotency_keys"
        " WHERE tenant = 'acme' AND key = %s",
        (key,),
    ) == [(run_id, True, timedelta(days=1))]
    # the workflow engine got exactly one workflow out of the burst
    assert _wait(
        lambda: _workflows_started_between(stack, started_at, ended_at), 10, "the run in Temporal's visibility"
    ) == [accepted["workflow_id"]]


def test_an_idempotency_key_is_bound_to_its_body_per_tenant_until_it_expires(stack):
    key = f"bound-{uuid.uuid4()}"
    first_body, other_body = {"evidence": {"v": 1}}, {"evidence": {"v": 2}}
    with stack.client() as client:
        first = client.post(RUNS, json=first_body, headers={"Idempotency-Key": key})
        assert first.status_code == 202, first.text

        reused = client.post(RUNS, json=other_body, headers={"Idempotency-Key": key})
        assert reused.status_code == 422
        (error,) = reused.json()["detail"]
        assert error["type"] == "idempotency_key_reused" and error["loc"] == ["header", "Idempotency-Key"]
        assert key in error["msg"] and "different request body" in error["msg"]

        # the same key of another tenant is another key
        beta = client.post("/v1/tenants/beta/runs", json=other_body, headers={"Idempotency-Key": key})
        assert beta.status_code == 202 and "idempotent-replayed" not in beta.headers
        assert beta.json()["run_id"] != first.json()["run_id"]

        # once expired, the key is free: it binds to the new request (and expired records are purged)
        stack.sql("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = %s", (key,))
        stale = f"stale-{uuid.uuid4()}"
        stack.sql(
            "INSERT INTO idempotency_keys (tenant, key, request_sha256, run_id, requested_at, expires_at)"
            " VALUES ('acme', %s, 'x', %s, now(), now() - interval '1 hour')",
            (stale, uuid.uuid4()),
        )
        renewed = client.post(RUNS, json=other_body, headers={"Idempotency-Key": key})
        assert renewed.status_code == 202 and "idempotent-replayed" not in renewed.headers
        assert renewed.json()["run_id"] not in {first.json()["run_id"], beta.json()["run_id"]}
        assert stack.sql("SELECT count(*) FROM idempotency_keys WHERE key = %s", (stale,)) == [(0,)]
        for done in (first, beta, renewed):
            stack.wait_run(client, done.json()["links"]["self"])


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


# ---------------------------------------------------------------- body limit


def _connect(stack) -> socket.socket:
    url = urlsplit(stack.api_url)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read the response until the server closes the connection; its status, headers and body."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:  # closed with our unread body in its buffer: the answer arrived before
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


LIMIT = 256 * 1024  # CONTROLPLANE_MAX_BODY_BYTES' default (the stack does not set it)


def test_a_content_length_over_the_limit_is_refused_413_without_reading_the_body(stack):
    limit = LIMIT
    # Content-Length over the limit and no body at all: the answer comes without the body ever being sent
    with _connect(stack) as sock:
        sock.sendall(
            f"POST {RUNS} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * limit}\r\n\r\n".encode()
        )
        status, headers, body = _answer(sock)  # returns only because the server closed the connection
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body) == {"detail": f"request body larger than {limit} bytes (CONTROLPLANE_MAX_BODY_BYTES)"}


def test_a_chunked_body_is_cut_off_413_at_the_limit_while_it_is_read(stack):
    limit = LIMIT
    # chunked, no Content-Length, never terminated: the server answers once it has read past the limit
    sent = 0
    with _connect(stack) as sock:
        sock.sendall(
            f"POST {RUNS} HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b'{"evidence": {"blob": "' + b"x" * 16_000
        while sent < 4 * limit and not select.select([sock], [], [], 0)[0]:  # stop once the answer is there
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            chunk = b"x" * 16_000
        status, headers, body = _answer(sock)
    assert status == 413 and headers["connection"] == "close"
    assert json.loads(body)["detail"].startswith("request body larger than")
    assert sent > limit  # it was the size that was refused, not the syntax

    with stack.client() as client:  # the API still serves
        assert client.post(RUNS, json={"evidence": {"blob": "x" * (limit // 2)}}).status_code == 202


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
