"""Benchmark: the evidence ledger (issue 17) — `evidence verify`'s chain check, and appends signed through Vault
transit vs unsigned, in the same run, as ratios.

Run with `make bench` (or `python benchmarks/evidence.py`; BENCH_EVIDENCE_ENTRIES=50000 for a quick look). It starts
its own PostgreSQL, OpenBao and moto S3 on free loopback ports (recorded as the dev stack, what --emulate uses)
and removes them afterwards.

1. Chain check: N entries (default 200,000) appended unsigned in batches, then
   - end to end: verify's chain check as `infractl evidence verify` runs it — the database rebuilds every body in
     batches (a thread fetches the next while this one is hashed), each body hashed and linked — in entries/s
     (target >= 200,000/s; signatures and payloads are checked separately and not counted here);
   - the hot loop alone on the same bodies in memory vs raw `hashlib.sha256(body).digest()` over the same bytes
     (target >= 0.5x of raw); the end-to-end rate against raw is printed too.
2. Appends: M entries (default 10,000) in batches of 500, signed by OpenBao's transit engine (one sign request per
   400 entries) vs unsigned, entries/s and the ratio; and single-entry appends (200 each), the latency a command
   recording one action sees."""

from __future__ import annotations

import hashlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

ENTRIES = int(os.environ.get("BENCH_EVIDENCE_ENTRIES", "200000"))
APPENDS = int(os.environ.get("BENCH_EVIDENCE_APPENDS", "10000"))
ROUNDS = int(os.environ.get("BENCH_EVIDENCE_ROUNDS", "3"))
BATCH = 500
SINGLE = 200
TARGET_RATE = 200_000
TARGET_RATIO = 0.5


def main() -> None:
    from tests.tenant_stack import local_tenant_stack

    from infractl.adapters.ledger import chain, store
    from infractl.services.context import build
    from infractl.services.evidence import verify
    from infractl.services.evidence.access import open_ledger

    def entries(n: int, start: int = 0) -> list[chain.NewEntry]:
        return [
            chain.NewEntry(
                tenant=("acme", "globex", "initech")[i % 3],
                kind="bench.evidence",
                actor="bench",
                ref="",
                payload_sha256=hashlib.sha256(str(i).encode()).hexdigest(),
                object_key=f"tenants/acme/runs/{i:08d}/evidence.json",
                version_id="3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
                retention_class="standard",
                retain_until="2033-12-07T15:00:00.000000Z",
                attributes={"run_id": f"r{i}", "n": i},
            )
            for i in range(start, start + n)
        ]

    with (
        tempfile.TemporaryDirectory(prefix="infractl-bench-evidence-") as tmp,
        local_tenant_stack(Path(tmp), ()) as local,
    ):
        ledger = open_ledger(build(root=local.root, emulate=True), "dev")
        with ledger.connect() as conn:
            for lo in range(0, ENTRIES, 5000):
                store.append(conn, entries(min(5000, ENTRIES - lo), lo), None, checkpoint_every=0)
            last = store.head(conn)[0]
            conn.execute("VACUUM ANALYZE evidence_entries")
            print(f"evidence: {last} entries in the ledger")
            conn.autocommit = False
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]

            # 1. chain check, end to end and the hot loop alone
            blobs = list(verify.chain_batches(ledger, snapshot, 1, last))
            bodies = [b for blob in blobs for b in blob.split(b"\n")]
            assert len(bodies) == last
            e2e, loop, raw = [], [], []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                findings: list = []
                hashes = verify.check_chain(verify.chain_batches(ledger, snapshot, 1, last), chain.GENESIS, 1, findings)
                e2e.append(time.perf_counter() - began)
                assert not findings and len(hashes) == last
                began = time.perf_counter()
                verify.check_chain(iter(blobs), chain.GENESIS, 1, findings)
                loop.append(time.perf_counter() - began)
                sha = hashlib.sha256
                began = time.perf_counter()
                for body in bodies:
                    sha(body).digest()
                raw.append(time.perf_counter() - began)
            conn.rollback()
            conn.autocommit = True
        t_e2e, t_loop, t_raw = statistics.median(e2e), statistics.median(loop), statistics.median(raw)
        rate = last / t_e2e
        ratio = t_raw / t_loop
        print(
            f"evidence verify chain check, end to end: {rate:,.0f} entries/s "
            f"({'met' if rate >= TARGET_RATE else 'NOT met'}: target >= {TARGET_RATE:,}/s)"
        )
        print(
            f"evidence verify hot loop vs raw sha256 over the same bytes: {last / t_loop:,.0f} vs "
            f"{last / t_raw:,.0f} entries/s = {ratio:.2f}x of raw "
            f"({'met' if ratio >= TARGET_RATIO else 'NOT met'}: target >= {TARGET_RATIO}x); "
            f"end to end = {t_raw / t_e2e:.2f}x of raw"
        )

        # 2. appends: signed by transit vs unsigned
        signer = ledger.signer()
        signer.sign([b"warm-up"])
        with ledger.connect() as conn:
            timings: dict[str, list[float]] = {"signed": [], "unsigned": []}
            single: dict[str, list[float]] = {"signed": [], "unsigned": []}
            n = 0
            for r in range(ROUNDS):
                for name in ("signed", "unsigned") if r % 2 == 0 else ("unsigned", "signed"):
                    use = signer if name == "signed" else None
                    began = time.perf_counter()
                    for _ in range(0, APPENDS, BATCH):
                        store.append(conn, entries(BATCH, n), use)
                        n += BATCH
                    timings[name].append(time.perf_counter() - began)
                    began = time.perf_counter()
                    for _ in range(SINGLE):
                        store.append(conn, entries(1, n), use)
                        n += 1
                    single[name].append(time.perf_counter() - began)
        signed, unsigned = statistics.median(timings["signed"]), statistics.median(timings["unsigned"])
        print(
            f"evidence append, batches of {BATCH}: signed (transit) {APPENDS / signed:,.0f} entries/s vs unsigned "
            f"{APPENDS / unsigned:,.0f} entries/s = {signed / unsigned:.2f}x the time"
        )
        s1, u1 = statistics.median(single["signed"]), statistics.median(single["unsigned"])
        print(
            f"evidence append, one entry each: signed {1000 * s1 / SINGLE:.1f} ms vs unsigned "
            f"{1000 * u1 / SINGLE:.1f} ms per append = {s1 / u1:.2f}x"
        )


if __name__ == "__main__":
    main()
