"""The evidence ledger on real engines (docs/evidence.md): PostgreSQL, OpenBao's transit engine (the signer), and
the S3 emulator's Object Lock bucket, started once for this module and recorded as the dev stack, so the ledger is
opened exactly as `--emulate` does (services/evidence/access.open_ledger).

Tamper cases run on copies of the seeded ledger database (CREATE DATABASE … TEMPLATE), each changed as an attacker
with the table owner's rights would (triggers off), and verify must name the first broken entry and why."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg
import pytest

from infractl.adapters.ledger import chain, signers, store
from infractl.errors import RefusedError
from infractl.services.evidence import export, retention, seed, verify
from infractl.services.evidence.access import Ledger, open_ledger

pytestmark = pytest.mark.integration

CHECKPOINT_EVERY = 50
SEEDED = 300  # entries 1..300, checkpoints at 50, 100, ..., 300
TEMPLATE = "ledger_seeded"


@dataclass
class Stack:
    root: Path
    ports: dict[str, int]
    ledger: Ledger

    def admin(self, database: str = "controlplane") -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.ports["postgres"], user="postgres", dbname=database, autocommit=True
        )

    def copy(self, name: str) -> Ledger:
        """A ledger on a copy of the seeded database (same bucket, same keys)."""
        with self.admin("postgres") as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return replace(self.ledger, endpoint=replace(self.ledger.endpoint, database=name))

    def tamper(self, database: str, *statements: str) -> None:
        with self.admin(database) as conn:
            conn.execute("SET session_replication_role = replica")  # an owner disabling the append-only trigger
            for sql in statements:
                conn.execute(sql)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from infractl.services.context import build
    from tests.tenant_stack import local_tenant_stack

    model = {"evidence": {"checkpoint_every": CHECKPOINT_EVERY}}
    with local_tenant_stack(tmp_path_factory.mktemp("evidence-stack"), (), env_model=model) as local:
        ledger = open_ledger(build(root=local.root, emulate=True), "dev")
        seeded = seed.seed(ledger, SEEDED - 20, ["standard"], payloads=False)
        assert (seeded.first_seq, seeded.last_seq) == (1, SEEDED - 20)
        seed.seed(ledger, 20, ["standard"], payloads=True)
        stack = Stack(root=local.root, ports=local.ports, ledger=ledger)
        with stack.admin("postgres") as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE} TEMPLATE controlplane")
        yield stack


def test_a_seeded_ledger_verifies_with_signatures_checkpoints_and_payloads(stack: Stack) -> None:
    report = verify.verify(stack.ledger)
    assert report.ok, report.findings
    assert (report.entries, report.head_seq) == (SEEDED, SEEDED)
    assert report.signatures_checked == SEEDED and report.keys == ["transit:transit/infractl-evidence-dev:v1"]
    assert report.checkpoints_checked == SEEDED // CHECKPOINT_EVERY and report.checkpoints_unpublished == 0
    assert report.payloads_checked == 20


def test_entries_are_append_only_for_the_runtime_role(stack: Stack) -> None:
    with stack.admin() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        conn.execute("UPDATE evidence_entries SET actor = 'someone' WHERE seq = 1")


TAMPER = {
    # case: (statements, first broken entry, its reason)
    "edited-entry": (["UPDATE evidence_entries SET attributes = '{\"n\":1}' WHERE seq = 100"], 100, "edited"),
    "edited-entry-and-its-hash": (
        [
            "UPDATE evidence_entries SET actor = 'mallory', entry_hash = "
            f"encode(sha256(convert_to(replace({chain.BODY_SQL}, 'infractl-seed', 'mallory'), 'UTF8')), 'hex')"
            " WHERE seq = 110"
        ],
        110,
        "bad-signature",
    ),
    "deleted-entry": (["DELETE FROM evidence_entries WHERE seq = 120"], 121, "missing"),
    "reordered": (
        [
            "UPDATE evidence_entries SET seq = 1000130 WHERE seq = 130",
            "UPDATE evidence_entries SET seq = 130 WHERE seq = 131",
            "UPDATE evidence_entries SET seq = 131 WHERE seq = 1000130",
        ],
        130,
        "broken-link",
    ),
    "truncated-after-a-checkpoint": (
        [
            "DELETE FROM evidence_entries WHERE seq > 260",
            "DELETE FROM evidence_checkpoints WHERE seq > 260",
            "UPDATE evidence_head SET seq = 260,"
            " entry_hash = (SELECT entry_hash FROM evidence_entries WHERE seq = 260)",
        ],
        261,
        "truncated",
    ),
}


@pytest.mark.parametrize("case", sorted(TAMPER))
def test_tampering_is_detected_at_the_first_broken_entry(stack: Stack, case: str) -> None:
    statements, seq, reason = TAMPER[case]
    database = "t_" + case.replace("-", "_")
    ledger = stack.copy(database)
    stack.tamper(database, *statements)
    report = verify.verify(ledger, payloads=False)
    assert not report.ok
    assert (report.first.seq, report.first.reason) == (seq, reason), report.findings


def test_a_forged_signature_is_detected(stack: Stack, tmp_path: Path) -> None:
    ledger = stack.copy("t_forged")
    forger = signers.LocalSigner.from_file(tmp_path / "forger.pem", create=True)
    with stack.admin("t_forged") as conn:
        (entry_hash,) = conn.execute("SELECT entry_hash FROM evidence_entries WHERE seq = 140").fetchone()
    ((signature, _),) = forger.sign([chain.entry_message(entry_hash)])
    stack.tamper("t_forged", f"UPDATE evidence_entries SET signature = '{signature}' WHERE seq = 140")
    report = verify.verify(ledger, payloads=False)
    assert (report.first.seq, report.first.reason) == (140, "bad-signature")


def test_a_replaced_payload_is_detected(stack: Stack) -> None:
    """An attacker with governance bypass cannot touch a COMPLIANCE version; the chain pins the version id, so a
    payload written again under the same key is not the recorded one: the pinned version is what verify checks."""
    ledger = stack.copy("t_payload")
    with stack.admin("t_payload") as conn:
        seq, key, version = conn.execute(
            "SELECT seq, object_key, version_id FROM evidence_entries WHERE object_key <> '' ORDER BY seq LIMIT 1"
        ).fetchone()
    ledger.s3.put_object(Bucket=ledger.bucket, Key=key, Body=b'{"edited":true}')  # a new version: allowed
    stack.tamper("t_payload", f"UPDATE evidence_entries SET version_id = 'forged-{version}' WHERE seq = {seq}")
    report = verify.verify(ledger)
    reasons = {(f.seq, f.reason) for f in report.findings}
    assert (seq, "edited") in reasons and (seq, "payload-missing") in reasons


def test_disposition_keeps_the_chain_verifiable_and_legal_hold_blocks_it(stack: Stack) -> None:
    ledger = stack.ledger
    made = seed.seed(ledger, 3, ["expiring:3s"], payloads=True)
    held, other, third = range(made.first_seq, made.last_seq + 1)
    retention.hold(ledger, held, on=True, reason="case 2026-114")
    with pytest.raises(RefusedError, match="retention has not passed"):
        retention.dispose(ledger, seqs=[other])
    time.sleep(3.5)  # the fixture class's retention passes
    with pytest.raises(RefusedError, match="under legal hold"):
        retention.dispose(ledger, seqs=[held])
    assert retention.dispose(ledger, dry_run=True).pending == [other, third]
    swept = retention.dispose(ledger)
    assert swept.disposed == [other, third] and swept.held == [held] and len(swept.entries) == 2
    report = verify.verify(ledger)
    assert report.ok, report.findings
    assert report.disposed == [other, third] and report.held == [held]
    retention.hold(ledger, held, on=False, reason="case 2026-114 closed")
    assert retention.dispose(ledger, seqs=[held]).disposed == [held]
    report = verify.verify(ledger)
    assert report.ok and report.disposed == [held, other, third]
    shown = export.show(ledger, held)
    assert [r["kind"] for r in shown["related"]] == [chain.LEGAL_HOLD, chain.LEGAL_HOLD, chain.DISPOSITION]
    assert shown["payload"]["exists"] is False


def test_key_rotation_keeps_old_entries_verifiable(stack: Stack) -> None:
    ledger = stack.ledger
    client = ledger.signer().client
    client.secrets.transit.rotate_key(name="infractl-evidence-dev", mount_point="transit")
    seed.seed(ledger, 5, ["standard"], payloads=False)
    report = verify.verify(ledger, payloads=False)
    assert report.ok, report.findings
    assert report.keys == ["transit:transit/infractl-evidence-dev:v1", "transit:transit/infractl-evidence-dev:v2"]


def test_two_concurrent_appenders_make_one_chain(stack: Stack, tmp_path: Path) -> None:
    ledger = stack.ledger
    signer = signers.LocalSigner.from_file(tmp_path / "local.pem", create=True)
    with ledger.connect() as conn:
        start, _ = store.head(conn)
    errors: list[BaseException] = []

    def appender(name: str) -> None:
        try:
            with ledger.connect() as conn:
                for i in range(1000):
                    store.append(
                        conn,
                        [chain.NewEntry(tenant="-", kind="test.concurrent", actor=name, attributes={"i": i})],
                        signer,
                    )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=appender, args=(f"appender-{n}",)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with ledger.connect() as conn:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM evidence_entries WHERE seq > %s ORDER BY seq", (start,))]
        actors = {r[0] for r in conn.execute("SELECT DISTINCT actor FROM evidence_entries WHERE seq > %s", (start,))}
        from infractl.services.evidence import record

        record.publish(replace(ledger, _signer=signer), conn, {signer.key_id})
    assert seqs == list(range(start + 1, start + 2001)) and actors == {"appender-1", "appender-2"}
    report = verify.verify(ledger, payloads=False)
    assert report.ok, report.findings


def test_an_exported_proof_checks_offline(stack: Stack) -> None:
    doc = export.export(stack.ledger, 77)
    assert doc["proof"]["checkpoint"]["seq"] == 100 and len(doc["proof"]["segment"]) == 24
    assert export.check_proof(doc) == []
    body = doc["proof"]["segment"][3]["body"]
    doc["proof"]["segment"][3]["body"] = body.replace("infractl-seed", "mallory")
    assert export.check_proof(doc) == ["entry 81: does not chain to entry 80"]


def test_a_ledger_of_100k_entries_verifies_and_a_broken_one_exits_5_naming_the_entry(
    stack: Stack, invoke, monkeypatch
) -> None:
    import json

    monkeypatch.setenv("INFRACTL_WORK_DIR", str(stack.ledger.project_root.parent / "work"))
    args = ("--emulate", "--json")
    seeded = invoke("evidence", "seed", "dev", "--entries", "100000", "--no-payloads", *args, root=stack.root)
    last = json.loads(seeded.stdout)["last_seq"]
    report = json.loads(invoke("evidence", "verify", "dev", *args, root=stack.root).stdout)
    assert report["ok"] and report["entries"] == last and report["signatures_checked"] == last
    edited = last - 10
    with stack.admin() as conn:
        (original,) = conn.execute("SELECT actor FROM evidence_entries WHERE seq = %s", (edited,)).fetchone()
    stack.tamper("controlplane", f"UPDATE evidence_entries SET actor = 'mallory' WHERE seq = {edited}")
    try:
        since = str(last - 100)
        summary = stack.root / "verify.md"
        argv = ("evidence", "verify", "dev", "--from", since, "--no-payloads", "--markdown", str(summary), "--emulate")
        failed = invoke(*argv, root=stack.root, code=5)
        assert f"**does not verify**: entry {edited}: edited" in summary.read_text()
        assert f"does not verify: entry {edited}: edited" in failed.stderr
        assert f"entry {edited + 1}: broken-link" in failed.stderr
    finally:
        stack.tamper("controlplane", f"UPDATE evidence_entries SET actor = '{original}' WHERE seq = {edited}")
