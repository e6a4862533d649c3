"""The API over fakes of its ports: status codes, the readiness report, the DB -> workflow fallback."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from controlplane.app import ApiDeps, create_app
from controlplane.errors import DependencyError
from controlplane.ids import UUIDv7Generator
from controlplane.models import KeyClaim, RunRecord, RunStatus
from controlplane.workflows import RunInput


class FakeStore:
    def __init__(self) -> None:
        self.runs: dict[tuple[str, uuid.UUID], RunRecord] = {}
        self.down = False

    async def get_run(self, tenant, run_id):
        if self.down:
            raise ConnectionError("db down")
        return self.runs.get((tenant, run_id))

    async def ping(self):
        if self.down:
            raise DependencyError("database: connection refused")

    async def record_run(self, run, event):  # pragma: no cover - not used by the API
        raise NotImplementedError

    async def finish_run(self, *args, **kwargs):  # pragma: no cover
        raise NotImplementedError


class FakeWorkflows:
    def __init__(self) -> None:
        self.started: list[tuple[str, RunInput]] = []
        self.status: dict[str, str] = {}
        self.down = False

    async def start_run(self, workflow_id, payload):
        if self.down:
            raise DependencyError("workflow engine refused to start it: unavailable")
        if workflow_id in self.status:  # the id is taken (Temporal's REJECT_DUPLICATE)
            return False
        self.started.append((workflow_id, payload))
        self.status[workflow_id] = "RUNNING"
        return True

    async def describe(self, workflow_id):
        if self.down:
            raise DependencyError("workflow engine: describe: unavailable")
        return self.status.get(workflow_id)

    async def ping(self):
        if self.down:
            raise DependencyError("workflow engine unreachable")


class Probe:
    def __init__(self, behaviour: str = "ok") -> None:
        self.behaviour = behaviour

    async def ping(self):
        if self.behaviour == "slow":
            await asyncio.sleep(5)
        if self.behaviour == "broken":
            raise DependencyError("object store: bucket controlplane-evidence: AccessDenied")

    async def put(self, *a, **k):  # pragma: no cover
        raise NotImplementedError

    async def get(self, *a, **k):  # pragma: no cover
        raise NotImplementedError

    async def read(self, path):  # pragma: no cover
        return {}


class Client:
    """Synchronous calls into the ASGI app (httpx's ASGI transport: no server, no lifespan needed with deps)."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
                return await client.request(method, path, **kwargs)

        return asyncio.run(call())

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, json=None, **kwargs) -> httpx.Response:
        return self.request("POST", path, json=json, **kwargs)


class FakeKeys:
    """IdempotencyKeys in memory (the PostgreSQL one is tested against the real database in test_api_stack.py)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], KeyClaim] = {}
        self.down = False

    async def claim(self, tenant, key, request_sha256, run_id, requested_at, ttl_seconds):
        if self.down:
            raise ConnectionError("db down")
        held = self.records.get((tenant, key))
        if held is not None:
            return held
        self.records[(tenant, key)] = KeyClaim(run_id, requested_at, request_sha256, created=False, started=False)
        return KeyClaim(run_id, requested_at, request_sha256, created=True, started=False)

    async def mark_started(self, tenant, key):
        held = self.records[(tenant, key)]
        self.records[(tenant, key)] = KeyClaim(held.run_id, held.requested_at, held.request_sha256, False, True)


@pytest.fixture
def api():
    store, workflows, objects, secrets = FakeStore(), FakeWorkflows(), Probe(), Probe()
    deps = ApiDeps(store, workflows, objects, secrets, UUIDv7Generator(), keys=FakeKeys(), ready_timeout=0.3)
    return Client(create_app(deps=deps, instrument=False)), deps


def test_livez_and_ready(api):
    client, _ = api
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert {n: c["status"] for n, c in ready.json()["checks"].items()} == {
        "database": "ok",
        "temporal": "ok",
        "object_store": "ok",
        "secrets": "ok",
    }


def test_readyz_is_503_with_each_dependency_status_and_a_timeout_per_check(api):
    client, deps = api
    deps.objects.behaviour = "broken"
    deps.secrets.behaviour = "slow"
    deps.store.down = True
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unready"
    checks = body["checks"]
    assert checks["temporal"]["status"] == "ok"
    assert checks["database"] == {
        "status": "error",
        "latency_ms": checks["database"]["latency_ms"],
        "error": "database: connection refused",
    }
    assert checks["object_store"]["error"] == "object store: bucket controlplane-evidence: AccessDenied"
    assert checks["secrets"]["error"] == "no answer within 0.3s"
    assert checks["secrets"]["latency_ms"] < 2000  # the slow check was cut at its timeout


def test_start_run_returns_202_with_location_and_starts_the_workflow(api):
    client, deps = api
    response = client.post("/v1/tenants/acme-prod/runs", json={"kind": "evidence", "evidence": {"a": 1}})
    assert response.status_code == 202
    body = response.json()
    run_id = body["run_id"]
    assert response.headers["location"] == f"/v1/tenants/acme-prod/runs/{run_id}"
    assert body["workflow_id"] == f"run-acme-prod-{run_id}" and body["status"] == "pending"
    ((wf_id, payload),) = deps.workflows.started
    assert wf_id == body["workflow_id"]
    assert payload.run_id == run_id and payload.tenant == "acme-prod" and payload.evidence == {"a": 1}
    # not recorded yet: the workflow answers
    view = client.get(f"/v1/tenants/acme-prod/runs/{run_id}").json()
    assert view["status"] == "pending" and view["source"] == "workflow"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/tenants/ACME/runs", {}),
        ("/v1/tenants/-acme/runs", {}),
        ("/v1/tenants/acme/runs", {"kind": "Bad Kind"}),
        ("/v1/tenants/acme/runs", {"unknown": 1}),
        ("/v1/tenants/acme/runs", {"evidence": [1, 2]}),
    ],
)
def test_start_run_validates_its_input(api, path, body):
    client, deps = api
    assert client.post(path, json=body).status_code == 422
    assert deps.workflows.started == []


def test_start_run_is_413_for_oversized_evidence_and_503_when_temporal_is_down(api):
    client, deps = api
    assert client.post("/v1/tenants/acme/runs", json={"evidence": {"blob": "x" * 300_000}}).status_code == 413
    deps.workflows.down = True
    response = client.post("/v1/tenants/acme/runs", json={})
    assert response.status_code == 503
    assert "workflow engine" in response.json()["detail"]


def test_get_run_reads_the_database_first_then_the_workflow(api):
    client, deps = api
    run_id = uuid.uuid4()
    now = datetime.now(UTC)
    deps.store.runs[("acme", run_id)] = RunRecord(
        run_id, "acme", "evidence", RunStatus.COMPLETED, f"run-acme-{run_id}", now, now, now, "k", "sha"
    )
    view = client.get(f"/v1/tenants/acme/runs/{run_id}").json()
    assert view["status"] == "completed" and view["source"] == "database" and view["evidence_key"] == "k"
    assert client.get(f"/v1/tenants/other/runs/{run_id}").status_code == 404

    failed = uuid.uuid4()
    deps.workflows.status[f"run-acme-{failed}"] = "TERMINATED"
    assert client.get(f"/v1/tenants/acme/runs/{failed}").json()["status"] == "failed"


def test_get_run_degrades_when_the_database_is_down(api):
    client, deps = api
    deps.store.down = True
    running = uuid.uuid4()
    deps.workflows.status[f"run-acme-{running}"] = "RUNNING"
    assert client.get(f"/v1/tenants/acme/runs/{running}").json()["source"] == "workflow"
    unknown = client.get(f"/v1/tenants/acme/runs/{uuid.uuid4()}")
    assert unknown.status_code == 503 and "database unavailable" in unknown.json()["detail"]
    deps.workflows.down = True
    assert client.get(f"/v1/tenants/acme/runs/{running}").status_code == 503


def test_an_unwired_app_says_so():
    client = Client(create_app(instrument=False))
    assert client.get("/livez").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503 and "not wired" in response.json()["detail"]


# ---------------------------------------------------------------- Idempotency-Key (on fakes)

RUNS = "/v1/tenants/acme/runs"


def _key(value: str) -> dict[str, dict[str, str]]:
    return {"headers": {"Idempotency-Key": value}}


def test_a_replayed_idempotency_key_answers_the_first_run_and_starts_nothing(api):
    client, deps = api
    first = client.post(RUNS, json={"evidence": {"a": 1, "b": 2}}, **_key("k-1"))
    again = client.post(RUNS, json={"evidence": {"b": 2, "a": 1}}, **_key("k-1"))  # same body, other key order
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert first.headers["location"] == again.headers["location"]
    assert "idempotent-replayed" not in first.headers and again.headers["idempotent-replayed"] == "true"
    assert len(deps.workflows.started) == 1


def test_an_idempotency_key_with_another_body_is_422_and_keys_are_per_tenant(api):
    client, deps = api
    assert client.post(RUNS, json={"evidence": {"a": 1}}, **_key("k-2")).status_code == 202
    reused = client.post(RUNS, json={"evidence": {"a": 2}}, **_key("k-2"))
    assert reused.status_code == 422
    (error,) = reused.json()["detail"]
    assert error["type"] == "idempotency_key_reused" and error["loc"] == ["header", "Idempotency-Key"]
    assert "already used with a different request body" in error["msg"]
    other = client.post("/v1/tenants/other/runs", json={"evidence": {"a": 2}}, **_key("k-2"))
    assert other.status_code == 202 and "idempotent-replayed" not in other.headers
    assert len(deps.workflows.started) == 2


@pytest.mark.parametrize("key", ["", "with space", "é".encode(), "tab\t", "x" * 256])
def test_a_malformed_idempotency_key_is_422(api, key):
    client, deps = api
    response = client.post(RUNS, json={}, **_key(key))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    assert deps.workflows.started == []


def test_a_key_whose_first_request_failed_starts_the_run_on_replay_and_a_down_key_store_starts_nothing(api):
    client, deps = api
    deps.workflows.down = True
    failed = client.post(RUNS, json={"evidence": {"n": 1}}, **_key("k-3"))
    assert failed.status_code == 503
    deps.workflows.down = False
    replay = client.post(RUNS, json={"evidence": {"n": 1}}, **_key("k-3"))
    assert replay.status_code == 202 and replay.headers["idempotent-replayed"] == "true"
    ((wf_id, payload),) = deps.workflows.started
    assert wf_id == replay.json()["workflow_id"] and payload.run_id == replay.json()["run_id"]
    assert deps.keys.records[("acme", "k-3")].started

    deps.keys.down = True
    down = client.post(RUNS, json={"evidence": {"n": 2}}, **_key("k-4"))
    assert down.status_code == 503 and "Idempotency-Key not checked" in down.json()["detail"]
    assert len(deps.workflows.started) == 1


# ---------------------------------------------------------------- strict JSON and the body limit (on fakes)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"evidence": {"a": "\\ud800"}}', "lone surrogate \\ud800 in the string at /evidence/a"),
        (b'{"evidence": {"\\udc00x": 1}}', "lone surrogate \\udc00 in the key"),
        (b'{"evidence": {"a": ["ok", "\\udfff"]}}', "at /evidence/a/1"),
        (b'{"evidence": {"a": NaN}}', "NaN is not a JSON number"),
        (b'{"evidence": {"a": Infinity}}', "Infinity is not a JSON number"),
        (b'{"evidence": {"a": -Infinity}}', "-Infinity is not a JSON number"),
        (b'{"evidence": {"a": 1e999}}', "number 1e999 is out of range"),
        (b'{"evidence": {"a": 1, "a": 2}}', 'duplicate key "a"'),
        (b'{"kind": "evidence", "kind": "other"}', 'duplicate key "kind"'),
        (b'{"evidence": {"a": "\xff"}}', "not UTF-8 (byte 0xff at offset 20)"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper than 64 levels"),
        (b'{"evidence": ' + b'{"a": ' * 70 + b"1" + b"}" * 71, "nested deeper than 64 levels at /evidence/a/a"),
        (b'{"evidence": {"a": 1}', "Expecting ',' delimiter at line 1 column 22"),
    ],
)
def test_a_body_that_is_not_strict_json_is_400_with_one_reason_and_starts_nothing(api, raw, reason):
    client, deps = api
    response = client.request("POST", RUNS, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert detail.startswith("invalid JSON body: ") and reason in detail
    assert deps.workflows.started == []


def test_valid_unicode_and_big_numbers_pass(api):
    client, deps = api
    raw = '{"evidence": {"emoji": "\\ud83d\\ude00 \u00e9", "n": 1.5e300, "i": 12345678901234567890}}'.encode()
    response = client.request("POST", RUNS, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 202, response.text
    ((_, payload),) = deps.workflows.started
    assert payload.evidence == {"emoji": "\U0001f600 \u00e9", "n": 1.5e300, "i": 12345678901234567890}


def test_a_body_over_the_limit_is_413_and_a_chunked_one_is_cut_off_while_read():
    workflows = FakeWorkflows()
    deps = ApiDeps(FakeStore(), workflows, Probe(), Probe(), UUIDv7Generator(), keys=FakeKeys())
    client = Client(create_app(deps=deps, instrument=False, max_body_bytes=4096))
    declared = client.post(RUNS, json={"evidence": {"blob": "x" * 5000}})
    assert declared.status_code == 413
    assert declared.json() == {"detail": "request body larger than 4096 bytes (CONTROLPLANE_MAX_BODY_BYTES)"}
    assert declared.headers["connection"] == "close"

    pulled: list[int] = []

    async def chunks():  # no Content-Length: httpx streams it; 100 chunks of 1 KiB offered
        yield b'{"evidence": {"blob": "'
        for n in range(100):
            pulled.append(n)
            yield b"x" * 1024

    streamed = client.request("POST", RUNS, content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.headers["connection"] == "close"
    assert len(pulled) <= 5  # read up to the limit, not to the end
    assert client.post(RUNS, json={"evidence": {"blob": "x" * 4000}}).status_code == 202
    assert len(workflows.started) == 1


# ---------------------------------------------------------------- X-Controlplane-Release


def _with_release(release: str):
    from controlplane.settings import load_settings

    return load_settings({"VAULT_TOKEN": "t", "CONTROLPLANE_RELEASE": release})  # pragma: allowlist secret


def test_every_response_carries_the_release_when_one_is_set():
    """Probes, commands, every error (422, 413 from the body limit, 404, the 500 of an unhandled exception)."""
    settings = _with_release("canary-2")
    deps = ApiDeps(FakeStore(), FakeWorkflows(), Probe("broken"), Probe(), UUIDv7Generator(), keys=FakeKeys())
    app = create_app(settings, deps=deps, max_body_bytes=4096)  # instrumented as in production

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unhandled")

    async def call(method: str, path: str, **kwargs) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # the 500 as a client sees it
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.request(method, path, **kwargs)

    answers = {
        "livez": asyncio.run(call("GET", "/livez")),
        "readyz": asyncio.run(call("GET", "/readyz")),  # 503: the object store is broken
        "run": asyncio.run(call("POST", RUNS, json={"evidence": {}})),
        "invalid": asyncio.run(call("POST", RUNS, json={"nope": 1})),
        "too large": asyncio.run(call("POST", RUNS, json={"evidence": {"blob": "x" * 5000}})),
        "unknown": asyncio.run(call("GET", "/nowhere")),
        "unhandled": asyncio.run(call("GET", "/boom")),
    }
    assert {name: r.status_code for name, r in answers.items()} == {
        "livez": 200,
        "readyz": 503,
        "run": 202,
        "invalid": 422,
        "too large": 413,
        "unknown": 404,
        "unhandled": 500,
    }
    assert {name: r.headers.get_list("x-controlplane-release") for name, r in answers.items()} == {
        name: ["canary-2"] for name in answers
    }


def test_no_release_no_header():
    deps = ApiDeps(FakeStore(), FakeWorkflows(), Probe(), Probe(), UUIDv7Generator())
    for app in (create_app(deps=deps, instrument=False), create_app(_with_release(""), deps=deps, instrument=False)):
        assert "x-controlplane-release" not in Client(app).get("/livez").headers
