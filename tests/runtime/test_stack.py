"""The runtime against real services (tests/runtime/conftest.py): e2e, readiness, tracing, outbox, secrets
(test_telemetry.py: metrics, exemplars, exported logs, the evidence chain check, the fault switch).

The canary test is the last one of the file on purpose: it inspects everything the earlier tests made the
runtime log, export and answer.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infractl.adapters import localservices as ls
from tests.kubernetes_fakes import FakeTokenReview, self_signed_pem, service_account_jwt
from tests.runtime.conftest import wait_for as _wait

pytestmark = pytest.mark.integration


def _delivered(stack, run_id: str) -> list[tuple[str, int]]:
    return stack.sql(
        "SELECT event_type, count(*) FROM delivered_events WHERE aggregate_id = %s GROUP BY event_type ORDER BY 1",
        (run_id,),
    )


# ---------------------------------------------------------------- e2e


def test_e2e_run_is_recorded_with_its_outbox_events_and_evidence_object(stack):
    evidence = {"control": "cis-1.1", "result": "pass", "items": [1, 2, 3]}
    with stack.client() as client:
        response = client.post("/v1/tenants/acme/runs", json={"kind": "evidence", "evidence": evidence})
        assert response.status_code == 202, response.text
        accepted = response.json()
        run_id = accepted["run_id"]
        assert uuid.UUID(run_id).version == 7
        assert accepted["status"] == "pending"
        assert response.headers["location"] == f"/v1/tenants/acme/runs/{run_id}" == accepted["links"]["self"]
        body = stack.wait_run(client, accepted["links"]["self"])
        # another tenant does not see it
        assert client.get(f"/v1/tenants/other/runs/{run_id}").status_code == 404
        assert client.get(f"/v1/tenants/acme/runs/{uuid.uuid4()}").status_code == 404
    assert body["source"] == "database" and body["kind"] == "evidence" and body["completed_at"]
    assert body["evidence_key"] == f"tenants/acme/runs/{run_id}/evidence.json"

    rows = stack.sql("SELECT tenant, kind, status, evidence_key, evidence_sha256 FROM runs WHERE id = %s", (run_id,))
    assert rows == [("acme", "evidence", "completed", body["evidence_key"], body["evidence_sha256"])]
    events = stack.sql("SELECT event_type, payload FROM outbox WHERE aggregate_id = %s ORDER BY id", (run_id,))
    assert [e[0] for e in events] == ["run.recorded", "run.completed"]  # exactly one event per state change
    assert events[1][1]["evidence_key"] == body["evidence_key"]

    obj = stack.s3().get_object(Bucket=stack.settings.evidence_bucket, Key=body["evidence_key"])
    document = json.loads(obj["Body"].read())
    assert document == {
        "evidence": evidence,
        "kind": "evidence",
        "requested_at": document["requested_at"],
        "run_id": run_id,
        "tenant": "acme",
    }
    assert obj["Metadata"]["sha256"] == body["evidence_sha256"]

    delivered = _wait(lambda: (d := _delivered(stack, run_id)) and len(d) == 2 and d, 10, "the relay")
    assert delivered == [("run.completed", 1), ("run.recorded", 1)]
    _assert_in_ledger(stack, "acme", run_id, body["evidence_key"], body["evidence_sha256"])


def _ledger_entries(stack, tenant: str, run_id: str) -> list:
    from controlplane.ledger import store

    rows = stack.sql(store.SELECT_ENTRIES + " WHERE ref = %s", (f"run:{tenant}/{run_id}",))
    return [store.row_entry(r) for r in rows]


def _assert_in_ledger(stack, tenant: str, run_id: str, key: str, sha256: str) -> None:
    """One signed entry pins a locked version of the run's document; its signature verifies with the transit key,
    which is published in the bucket as the verifier expects it."""
    import base64

    import hvac

    from controlplane.ledger import chain, objects, signers

    (entry,) = _ledger_entries(stack, tenant, run_id)
    assert (entry.tenant, entry.kind, entry.actor) == (tenant, "run.evidence", "controlplane-worker")
    assert (entry.object_key, entry.payload_sha256, entry.retention_class) == (key, sha256, "standard")
    assert json.loads(entry.attributes) == {"run_id": run_id, "run_kind": "evidence"}
    assert chain.digest(entry.body()) == entry.entry_hash

    s3, bucket = stack.s3(), stack.settings.evidence_bucket
    head = s3.head_object(Bucket=bucket, Key=key, VersionId=entry.version_id, ChecksumMode="ENABLED")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == chain.parse_time(entry.retain_until)
    assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC)
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == sha256
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert [v["VersionId"] for v in versions] == [entry.version_id]  # uploaded once, retries included

    vault = hvac.Client(url=stack.env["VAULT_ADDR"], token=stack.root_token)
    transit = signers.TransitSigner(vault, stack.settings.evidence_transit_key, mount="transit")
    public = transit.public_keys()[entry.key_id]
    assert entry.key_id == f"transit:transit/{stack.settings.evidence_transit_key}:v1"
    assert signers.verify(public, chain.entry_message(entry.entry_hash), entry.signature)
    published = s3.get_object(Bucket=bucket, Key=objects.key_object(entry.key_id))["Body"].read()
    assert objects.read_public_key(published) == public


def test_api_rejects_bad_input_without_starting_anything(stack):
    with stack.client() as client:
        assert client.post("/v1/tenants/Not_A_Tenant/runs", json={}).status_code == 422
        assert client.post("/v1/tenants/acme/runs", json={"evidence": {}, "extra": 1}).status_code == 422
        assert client.get("/v1/tenants/acme/runs/not-a-uuid").status_code == 422


# ---------------------------------------------------------------- outbox exactly once


def test_retried_activities_write_one_event_each_and_the_relay_delivers_each_once(stack):
    stack.faults.arm("record_run")  # fails after its transaction committed: Temporal runs it again
    stack.faults.arm("store_evidence")  # fails after its ledger entry committed: the retry finds it
    stack.faults.arm("complete_run")
    with stack.client() as client:
        accepted = client.post("/v1/tenants/acme/runs", json={"evidence": {"retry": True}}).json()
        stack.wait_run(client, accepted["links"]["self"])
    run_id = accepted["run_id"]
    assert stack.faults.injected == ["record_run", "store_evidence", "complete_run"]
    # the run reads completed once complete_run's first attempt committed; its retry comes right after
    _wait(lambda: ("complete_run", 2) in stack.faults.calls, 10, "the retry of complete_run")
    assert ("record_run", 2) in stack.faults.calls and ("store_evidence", 2) in stack.faults.calls
    (entry,) = _ledger_entries(stack, "acme", run_id)  # the retried store_evidence appended nothing
    key = f"tenants/acme/runs/{run_id}/evidence.json"
    versions = stack.s3().list_object_versions(Bucket=stack.settings.evidence_bucket, Prefix=key)["Versions"]
    assert [v["VersionId"] for v in versions] == [entry.version_id]  # ... and uploaded nothing

    assert stack.sql("SELECT count(*) FROM runs WHERE id = %s", (run_id,)) == [(1,)]
    events = stack.sql("SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY id", (run_id,))
    assert events == [("run.recorded",), ("run.completed",)]
    _wait(lambda: len(_delivered(stack, run_id)) == 2, 10, "the relay")
    assert _delivered(stack, run_id) == [("run.completed", 1), ("run.recorded", 1)]
    # nothing was ever delivered twice, and nothing published was left undelivered
    assert stack.sql("SELECT count(*) FROM delivered_events d JOIN outbox o ON o.id = d.event_id") == stack.sql(
        "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
    )


def test_a_failing_run_is_marked_failed_with_its_own_event(stack):
    stack.faults.injected.clear()
    stack.faults.arm_permanent("store_evidence")
    with stack.client() as client:
        accepted = client.post("/v1/tenants/acme/runs", json={"evidence": {"doomed": True}}).json()
        body = stack.wait_run(client, accepted["links"]["self"], status="failed")
    assert stack.faults.injected == ["store_evidence"]
    assert "injected permanent failure in store_evidence" in body["error"]
    assert body["evidence_key"] is None
    events = stack.sql("SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY id", (accepted["run_id"],))
    assert events == [("run.recorded",), ("run.failed",)]


@pytest.fixture
def scratch_db(stack):
    """A fresh database with the schema (its own ledger) and its own locked evidence bucket, for relays and
    activities that must not race the stack's worker. A checkpoint every 2 entries."""
    from controlplane.devtools.seed import seed_bucket
    from controlplane.migrate import migrate

    name = "scratch_" + uuid.uuid4().hex[:8]
    admin = stack.admin_url
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{stack.settings.db_user}"')
    settings = stack.settings.model_copy(
        update={
            "db_name": name,
            "db_pool_max": 6,
            "evidence_bucket": name.replace("_", "-"),
            "evidence_checkpoint_every": 2,
        }
    )
    keys = (stack.canaries["s3_access_key_id"], stack.canaries["s3_secret_access_key"])
    assert "created (Object Lock, COMPLIANCE 1d)" in seed_bucket(settings, keys, 10)

    asyncio.run(migrate(settings, wait=10, phase="contract"))  # to head: the ledger's tables (0005)
    yield settings
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_concurrent_relays_with_a_sink_that_fails_after_delivering_deliver_each_event_once(scratch_db):
    from controlplane.adapters.postgres import PostgresEventSink, PostgresOutbox
    from controlplane.ids import UUIDv7Generator
    from controlplane.models import NewRun, OutboxEvent
    from controlplane.relay import OutboxRelay
    from controlplane.runtime import build

    ids = UUIDv7Generator()

    class CrashingSink:
        """Delivers, then every 4th call raises: the relay dies between publishing and marking published."""

        def __init__(self, inner):
            self.inner, self.calls, self.new, self.duplicates = inner, 0, 0, 0

        async def publish(self, event):
            self.calls += 1
            new = await self.inner.publish(event)
            self.new += new
            self.duplicates += not new
            if self.calls % 4 == 0:
                raise ConnectionError("sink connection lost after delivering")
            return new

    async def scenario():
        components = build(scratch_db, application_name="tests")
        await components.open()
        try:
            for n in range(30):
                run_id = ids.new()
                await components.store.record_run(
                    NewRun(run_id, "acme", "evidence", f"wf-{n}", datetime.now(UTC)),
                    OutboxEvent(ids.new(), "run.recorded", "acme", run_id, {"n": n}),
                )
            sinks = [CrashingSink(PostgresEventSink(components.pool)) for _ in range(3)]
            relays = [OutboxRelay(PostgresOutbox(components.pool), s, batch=5) for s in sinks]
            for _ in range(40):  # three relays race until the outbox is empty
                results = await asyncio.gather(*(r.outbox.relay_once(r.sink, r.batch) for r in relays))
                if not any(results) and await relays[0].outbox.pending() == 0:
                    break
            async with components.pool.connection() as conn:
                delivered = await (
                    await conn.execute("SELECT count(*), count(DISTINCT event_id) FROM delivered_events")
                ).fetchone()
                unpublished = await (
                    await conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL")
                ).fetchone()
            return delivered, unpublished, sum(s.new for s in sinks), sum(s.duplicates for s in sinks)
        finally:
            await components.close()

    delivered, unpublished, new, duplicates = asyncio.run(scenario())
    assert unpublished == (0,)
    assert delivered == (30, 30)
    assert new == 30  # each event took effect exactly once ...
    assert duplicates > 0  # ... although the crashes made the relays offer some again: the sink's key absorbed them


def test_activities_run_twice_write_once_and_the_ledger_publishes_its_checkpoints(stack, scratch_db):
    from controlplane.activities import RunActivities
    from controlplane.ledger import chain, objects, signers
    from controlplane.runtime import build
    from controlplane.workflows import FinishRunInput, RecordRunInput, StoreEvidenceInput

    async def scenario():
        components = build(scratch_db, application_name="tests")
        await components.open()
        try:
            acts = RunActivities(components.store, components.objects, components.ids, components.ledger)
            run_id = str(components.ids.new())
            now = datetime.now(UTC).isoformat()
            record = RecordRunInput(run_id, "acme", "evidence", f"run-acme-{run_id}", now)
            first, second = await acts.record_run(record), await acts.record_run(record)
            store = StoreEvidenceInput(run_id, "acme", "evidence", now, {"x": 1})
            ref1, ref2 = await acts.store_evidence(store), await acts.store_evidence(store)
            finish = FinishRunInput(run_id, "acme", evidence=ref1)
            done1, done2 = await acts.complete_run(finish), await acts.complete_run(finish)
            failed = await acts.fail_run(FinishRunInput(run_id, "acme", error="late failure"))
            other = StoreEvidenceInput(str(components.ids.new()), "acme", "evidence", now, {"x": 2})
            ref3 = await acts.store_evidence(other)  # entry 2: a checkpoint, published to the bucket
            async with components.pool.connection() as conn:
                cur = await conn.execute("SELECT event_type FROM outbox WHERE aggregate_id = %s ORDER BY id", (run_id,))
                events = [r[0] for r in await cur.fetchall()]
                cur = await conn.execute("SELECT seq, entry_hash, object_key, version_id FROM evidence_checkpoints")
                checkpoints = await cur.fetchall()
            run = await components.store.get_run("acme", uuid.UUID(run_id))
            public = await asyncio.to_thread(components.ledger.signer.public_keys)
            return (first, second), (ref1, ref2, ref3), (done1, done2), failed, events, run, checkpoints, public
        finally:
            await components.close()

    recorded, refs, done, failed, events, run, checkpoints, public = asyncio.run(scenario())
    assert recorded == (True, False)
    assert refs[0] == refs[1] and (refs[0].seq, refs[2].seq) == (1, 2)  # the retry found entry 1: appended once
    assert refs[0].version_id and refs[0].bucket == scratch_db.evidence_bucket
    assert done == (True, False) and failed is False  # a final state is never left
    assert events == ["run.recorded", "run.completed"]
    assert run.status == "completed" and run.evidence_key == refs[0].key

    ((seq, entry_hash, key, version),) = checkpoints
    assert (seq, key) == (2, objects.checkpoint_object(2)) == (2, "ledger/checkpoints/00000000000000000002.json")
    s3 = stack.s3()
    head = s3.head_object(Bucket=scratch_db.evidence_bucket, Key=key, VersionId=version)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    document = json.loads(s3.get_object(Bucket=scratch_db.evidence_bucket, Key=key, VersionId=version)["Body"].read())
    assert (document["seq"], document["entry_hash"]) == (2, entry_hash)
    message = chain.checkpoint_message(2, entry_hash)
    assert signers.verify(public[document["key_id"]], message, document["signature"])


# ---------------------------------------------------------------- readiness


def test_readyz_turns_503_when_a_dependency_stops_and_200_when_it_returns(stack):
    with stack.client() as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "temporal", "object_store", "secrets"}
        assert client.get("/livez").json() == {"status": "ok"}

        # the secrets backend goes away (in-memory dev server: its secrets go with it)
        ls.stop(stack.services["openbao"])
        body = client.get("/readyz")
        assert body.status_code == 503
        checks = body.json()["checks"]
        assert checks["secrets"]["status"] == "error" and checks["secrets"]["error"]
        assert {n for n, c in checks.items() if c["status"] == "ok"} == {"database", "temporal", "object_store"}
        port = stack.services["openbao"].port
        stack.services["openbao"] = ls.start_openbao(stack.base, port, stack.root_token)
        stack.reseed_vault()
        _wait(lambda: client.get("/readyz").status_code == 200, 10, "ready again after OpenBao returned")

        # the database goes away
        ls.stop(stack.services["postgres"])
        body = _wait(lambda: (r := client.get("/readyz")).status_code == 503 and r, 10, "unready without PostgreSQL")
        checks = body.json()["checks"]
        assert checks["database"]["status"] == "error"
        assert {n for n, c in checks.items() if c["status"] == "ok"} == {"secrets", "temporal", "object_store"}
        stack.services["postgres"] = stack.postgres.start()  # same data folder and port
        started = time.monotonic()
        _wait(lambda: client.get("/readyz").status_code == 200, 20, "ready again after PostgreSQL returned", 0.25)
        assert time.monotonic() - started < 20

        # the workflow engine goes away (its SQLite file keeps the namespace and the history)
        temporal = stack.services["temporal"]
        ls.stop(temporal)
        body = _wait(lambda: (r := client.get("/readyz")).status_code == 503 and r, 10, "unready without Temporal")
        assert body.json()["checks"]["temporal"]["status"] == "error"
        stack.services["temporal"] = ls.start_temporal(
            stack.base, temporal.port, int(temporal.extra["ui_port"]), http_port=int(temporal.extra["http_port"])
        )
        _wait(lambda: client.get("/readyz").status_code == 200, 20, "ready again after Temporal returned", 0.25)

        # and runs work again end to end (the in-process worker reconnected by itself)
        accepted = client.post("/v1/tenants/acme/runs", json={"evidence": {"after": "outage"}}).json()
        stack.wait_run(client, accepted["links"]["self"])


# ---------------------------------------------------------------- tracing


def _ancestors(span, by_id):
    names = []
    while span.get("parent_span_id") and span["parent_span_id"] in by_id:
        span = by_id[span["parent_span_id"]]
        names.append(span["name"])
    return names


def test_one_trace_spans_the_request_workflow_activities_db_and_s3(stack):
    with stack.client() as client:
        accepted = client.post("/v1/tenants/acme/runs", json={"evidence": {"trace": True}}).json()
        stack.wait_run(client, accepted["links"]["self"])
    run_id = accepted["run_id"]
    stack.telemetry.force_flush()

    def trace():
        spans = stack.spans()
        start = [s for s in spans if s["name"] == "StartRun" and s["attributes"].get("controlplane.run_id") == run_id]
        if not start:
            return None
        members = [s for s in spans if s["trace_id"] == start[0]["trace_id"]]
        return members if any(s["name"] == "CompleteWorkflow:RunWorkflow" for s in members) else None

    spans = _wait(trace, 10, "the run's spans at the OTLP receiver", 0.2)
    by_id = {s["span_id"]: s for s in spans}
    names = {s["name"] for s in spans}
    assert {
        "POST /v1/tenants/{tenant}/runs",
        "StartRun",
        "StartWorkflow:RunWorkflow",
        "RunWorkflow:RunWorkflow",
        "RunActivity:record_run",
        "RunActivity:store_evidence",
        "RunActivity:complete_run",
    } <= names
    server = next(s for s in spans if s["kind"] == "SERVER" and s["attributes"].get("http.route"))
    assert server["parent_span_id"] is None  # the request is the root: everything below hangs off it
    db = [s for s in spans if s["attributes"].get("db.system") == "postgresql" and s["name"] == "INSERT"]
    assert any("RunActivity:record_run" in _ancestors(s, by_id) for s in db)
    assert any(s["attributes"]["db.statement"].startswith("INSERT INTO outbox") for s in db)
    s3 = [
        s
        for s in spans
        if s["attributes"].get("rpc.service") == "S3" and s["attributes"].get("rpc.method") == "PutObject"
    ]
    assert s3 and "RunActivity:store_evidence" in _ancestors(s3[0], by_id)
    for span in spans:  # every span reaches the request span
        assert span is server or _ancestors(span, by_id)[-1] == server["name"], span["name"]
    # SQL parameters are never recorded
    assert not any(k.startswith("db.statement.parameters") for s in spans for k in s["attributes"])

    # the run moved the api's and the worker's metrics (served on /metrics, not exported over OTLP)
    api, worker = stack.scrape("api"), stack.scrape("worker")
    assert {"controlplane_http_requests", "controlplane_http_request_duration_seconds"} <= set(api)
    assert stack.sample("api", "controlplane_runs_started_total", kind="evidence") >= 1
    assert {"controlplane_workflow_completions", "controlplane_activity_executions"} <= set(worker)
    assert not stack.scrape_text("worker").count("controlplane_http_requests")  # each role has its own families


# ---------------------------------------------------------------- Kubernetes auth


def test_kubernetes_auth_reads_secrets_and_logs_in_again_when_its_token_expires(stack, tmp_path):
    import hvac

    from controlplane.adapters.vault import VaultSecretStore
    from controlplane.redaction import SECRETS
    from controlplane.settings import VaultAuth

    jwt = service_account_jwt("controlplane", "controlplane-worker", "uid-1234")
    review = FakeTokenReview({jwt: ("controlplane", "controlplane-worker", "uid-1234")})
    admin = hvac.Client(url=stack.settings.vault_addr, token=stack.root_token)
    try:
        if "kubernetes/" not in admin.sys.list_auth_methods()["data"]:
            admin.sys.enable_auth_method("kubernetes")
        admin.auth.kubernetes.configure(
            kubernetes_host=review.url,
            kubernetes_ca_cert=self_signed_pem(),  # required by the API; unused over plain http
            token_reviewer_jwt="reviewer-jwt",
            disable_local_ca_jwt=True,
        )
        admin.sys.create_or_update_policy(
            "controlplane-read", 'path "secret/data/controlplane/*" { capabilities = ["read"] }'
        )
        admin.auth.kubernetes.create_role(
            "controlplane",
            bound_service_account_names=["controlplane-worker"],
            bound_service_account_namespaces=["controlplane"],
            policies=["controlplane-read"],
            ttl="5m",
        )
        token_file = tmp_path / "token"
        token_file.write_text(jwt)
        store = VaultSecretStore(
            stack.settings.vault_addr,
            auth=VaultAuth.KUBERNETES,
            role="controlplane",
            jwt_path=str(token_file),
            cache_seconds=0,
        )
        assert store.read_key_sync("controlplane/database", "password") == stack.canaries["db_password"]
        assert review.calls == 1
        assert jwt in SECRETS  # the service-account token and the Vault token are redacted like any secret
        assert store._client.token in SECRETS

        admin.auth.token.revoke(store._client.token)  # the login token expires
        assert store.read_key_sync("controlplane/object-store", "access_key_id") == stack.canaries["s3_access_key_id"]
        assert review.calls == 2  # one new login
        asyncio.run(store.ping())

        bad = VaultSecretStore(
            stack.settings.vault_addr, auth=VaultAuth.KUBERNETES, role="nope", jwt_path=str(token_file)
        )
        with pytest.raises(Exception, match="secrets backend") as err:
            bad.read_sync("controlplane/database")
        assert jwt not in str(err.value)
    finally:
        review.close()


# ---------------------------------------------------------------- entry points


def _module(stack, module: str, *args: str, env_extra: dict[str, str] | None = None, timeout: float = 60):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLPLANE_", "VAULT_", "OTEL_"))}
    env |= stack.env | {"CONTROLPLANE_LOG_LEVEL": "INFO", "OTEL_EXPORTER_OTLP_ENDPOINT": ""} | (env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_migrate_and_seed_entry_points_are_idempotent(stack):
    migrated = _module(stack, "controlplane.migrate", "--wait", "10")
    assert migrated.returncode == 0, migrated.stderr
    assert "applied now: none (already current)" in migrated.stdout
    seeded = _module(
        stack,
        "controlplane.devtools.seed",
        "--wait",
        "10",
        env_extra={
            "CONTROLPLANE_DB_ADMIN_URL": stack.admin_url,
            "CONTROLPLANE_SEED_DB_PASSWORD": stack.canaries["db_password"],
            "CONTROLPLANE_SEED_S3_ACCESS_KEY_ID": stack.canaries["s3_access_key_id"],
            "CONTROLPLANE_SEED_S3_SECRET_ACCESS_KEY": stack.canaries["s3_secret_access_key"],
        },
    )
    assert seeded.returncode == 0, seeded.stderr
    assert "vault: secret/controlplane/database: unchanged" in seeded.stdout
    assert "postgres: database controlplane: exists" in seeded.stdout
    assert "s3: bucket controlplane-evidence: exists (Object Lock, COMPLIANCE 1d)" in seeded.stdout
    assert "vault: transit/keys/infractl-evidence-dev: ed25519 key present" in seeded.stdout
    for value in stack.canaries.values():
        assert value not in seeded.stdout + seeded.stderr + migrated.stdout + migrated.stderr


def test_seed_refuses_an_evidence_bucket_without_object_lock(stack):
    from controlplane.devtools.seed import seed_bucket
    from controlplane.errors import ControlPlaneError

    bucket = "unlocked-" + uuid.uuid4().hex[:8]
    stack.s3().create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": stack.settings.s3_region})
    keys = (stack.canaries["s3_access_key_id"], stack.canaries["s3_secret_access_key"])
    with pytest.raises(ControlPlaneError, match=f"{bucket} exists without Object Lock"):
        seed_bucket(stack.settings.model_copy(update={"evidence_bucket": bucket}), keys, 5)


def _spawn(stack, module: str, log: Path, **extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLPLANE_", "VAULT_", "OTEL_"))}
    env |= stack.env | {"CONTROLPLANE_LOG_LEVEL": "INFO"} | extra
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def test_api_and_worker_entry_points_serve_and_exit_0_on_sigterm(stack):
    port, api_metrics, worker_metrics = ls.free_port(), ls.free_port(), ls.free_port()
    api_log, worker_log = stack.base / "entry-api.log", stack.base / "entry-worker.log"
    common = {"CONTROLPLANE_METRICS_HOST": "127.0.0.1"}
    api = _spawn(
        stack,
        "controlplane.api",
        api_log,
        CONTROLPLANE_API_PORT=str(port),
        OTEL_SERVICE_NAME="controlplane-api",
        CONTROLPLANE_METRICS_PORT=str(api_metrics),
        **common,
    )
    # its own task queue: this worker must not take the in-process worker's tasks
    worker = _spawn(
        stack,
        "controlplane.worker",
        worker_log,
        CONTROLPLANE_TASK_QUEUE="entry-point-test",
        OTEL_SERVICE_NAME="controlplane-worker",
        CONTROLPLANE_METRICS_PORT=str(worker_metrics),
        **common,
    )
    try:
        import httpx

        def ready():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2, trust_env=False).status_code == 200
            except httpx.HTTPError:
                return False

        _wait(ready, 30, "the API process to be ready", 0.2)
        _wait(lambda: "worker serving task queue entry-point-test" in worker_log.read_text(), 30, "the worker")
        httpx.get(f"http://127.0.0.1:{port}/v1/tenants/acme/runs/{uuid.uuid4()}", timeout=5, trust_env=False)
        scraped = {
            role: httpx.get(f"http://127.0.0.1:{p}/metrics", timeout=5, trust_env=False).text
            for role, p in (("api", api_metrics), ("worker", worker_metrics))
        }
        assert (
            'controlplane_http_requests_total{code="404",method="GET",route="/v1/tenants/{tenant}/runs/{run_id}"}'
            in (scraped["api"])
        )
        assert "controlplane_evidence_verifications_total" in scraped["worker"]
        # each process logs its lines to stdout with the trace and span ids
        assert "trace=" in api_log.read_text() and "span=" in worker_log.read_text()
    finally:
        for proc in (api, worker):
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(20) for proc in (api, worker)]
    logs = api_log.read_text() + worker_log.read_text()
    assert codes == [0, 0], logs[-3000:]
    assert "Application startup complete" in logs and "worker stopped" in logs
    for p in (api_metrics, worker_metrics):  # the metrics servers stopped with their process
        assert ls.port_is_free(p)
    assert "Traceback" not in logs
    for value in stack.canaries.values():
        assert value not in logs


# ---------------------------------------------------------------- secrets (keep last)


def test_canary_secrets_never_appear_in_logs_spans_metrics_or_api_responses(stack):
    import logging

    import psycopg

    canaries = list(stack.canaries.values())
    # this test makes its own traffic (a run end to end, a readiness check), so it holds run alone or in any order
    with stack.client() as client:
        accepted = client.post("/v1/tenants/acme/runs", json={"evidence": {"canary": True}})
        assert accepted.status_code == 202, accepted.text
        stack.wait_run(client, accepted.json()["links"]["self"])
        client.get("/readyz")
    # the canaries were really used: the DB role logs in with the one from OpenBao, and the worker signed S3 calls
    url = f"postgresql://{stack.settings.db_user}:{stack.canaries['db_password']}@127.0.0.1:{stack.settings.db_port}/{stack.settings.db_name}"
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] >= 1
    # the redaction guard is engaged: a careless log call would be masked
    logging.getLogger("tests.runtime").warning("careless %s", stack.canaries["db_password"])

    stack.telemetry.force_flush()
    logs = stack.logs.text()
    assert "careless [REDACTED]" in logs
    assert len(logs) > 10_000  # DEBUG logs of psycopg, botocore, hvac's urllib3, temporal, uvicorn were captured
    exported = stack.receiver_out.read_text()
    assert "RunActivity:record_run" in exported
    # the same DEBUG records were exported over OTLP, the careless one masked there too
    _wait(lambda: any(r["body"] == "careless [REDACTED]" for r in stack.exported_logs()), 10, "the exported logs")
    exported_logs = stack.exported_logs()
    assert {r["scope"] for r in exported_logs} >= {"botocore.endpoint", "psycopg.pool", "uvicorn.access"}
    exported = stack.receiver_out.read_text()
    metrics = stack.scrape_text("api") + stack.scrape_text("worker")
    assert "controlplane_http_request_duration_seconds_bucket" in metrics
    responses = "\n".join(stack.api_responses)
    assert "readyz" in responses or "checks" in responses
    for value in canaries:
        assert value not in logs, "a secret reached the logs"
        assert value not in exported, "a secret reached the exported spans/logs"
        assert value not in metrics, "a secret reached a metric's labels or values"
        assert value not in responses, "a secret reached an API response"
