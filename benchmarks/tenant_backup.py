"""Benchmark: `tenant backup` + `tenant restore` of a tier C tenant holding ~1 GB against raw `pg_dump -Fd -j2` +
`pg_restore -j2` of the same database, in the same run, as a ratio (issue 16: at most 1.1x).

Run with `make bench` (or `python benchmarks/tenant_backup.py`; BENCH_TENANT_GB=0.2 for a quick look,
BENCH_TENANT_ROUNDS=1 for one round). It starts its own PostgreSQL, OpenBao and moto (S3 + KMS) on free loopback
ports under a temporary folder, recorded as the dev stack (what --emulate uses), and removes them afterwards.

What each side does — all read the same database on the same server, all use the same pg_dump/pg_restore:
- raw:  `pg_dump --format=directory --jobs=2` to a local folder; `createdb` + `pg_restore --jobs=2` from it
        (the issue's reference: pg_dump's default compression, gzip level 6).
- raw -Z1: the same with `--compress=1`, the level `tenant backup` dumps at (services/tenant/dump.COMPRESS), so
        the second ratio shows what our work around pg_dump costs, the compression choice left out.
- ours: `tenant backup`: pg_dump --compress=1 into a local spool folder in an exported snapshot, counting every table's
        rows in that snapshot meanwhile, uploading the files to S3 (moto, SSE-KMS) while pg_dump writes them, sha256
        on the way, the manifest; the spool is removed.
        `tenant restore --as NEW`: the tenant as `create` makes it (role, database, Vault's database secrets engine,
        KV), pg_restore --jobs=2 reading the data files as they stream from S3 through named pipes (sha256 checked),
        row counts checked against the manifest, migrations to head (a no-op here), catalog.
So ours does everything raw does plus the upload, the download, the checks and the tenant's provisioning; it does
not read the dump back from local disk on restore (the raw side does). One untimed raw run warms the server up;
then the rounds rotate which side runs first, and the medians are compared. The target (<= 1.1x) is judged
against the issue's reference; both ratios are printed."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

GB = float(os.environ.get("BENCH_TENANT_GB", "1.0"))
ROUNDS = int(os.environ.get("BENCH_TENANT_ROUNDS", "3"))
TARGET = 1.1
NAMES = ("bench", *(f"bench-r{i}" for i in range(1, 10)))


def main() -> None:
    import psycopg
    from tests.tenant_stack import local_tenant_stack

    from infractl.adapters import process
    from infractl.services.context import build
    from infractl.services.tenant import backup, create, delete, dump, restore, session

    with tempfile.TemporaryDirectory(prefix="infractl-bench-tenant-") as tmp:
        base = Path(tmp)
        with local_tenant_stack(base, NAMES) as local:
            ports = local.ports
            tenv = session.open_env(build(root=local.root, emulate=True), "dev")

            def admin(database: str) -> psycopg.Connection:
                return psycopg.connect(
                    host="127.0.0.1", port=ports["postgres"], user="postgres", dbname=database, autocommit=True
                )

            create.create(tenv, "bench", "C")
            size = generate(admin("tenant_bench"), GB)
            print(f"tier C tenant bench: {size / 2**30:.2f} GiB in its database (pg_database_size)")

            server = tenv.endpoint.server
            raw_dir = base / "raw"

            def raw(compress: int | None = None) -> tuple[float, float]:
                shutil.rmtree(raw_dir, ignore_errors=True)
                with admin("postgres") as conn:
                    conn.execute("DROP DATABASE IF EXISTS raw_restore")
                    conn.execute("CHECKPOINT")
                began = time.perf_counter()
                argv = dump.dump_argv(dump.tool("pg_dump"), raw_dir, "tenant_bench", compress=compress)
                process.run(argv, env=dump.env(server))
                dumped = time.perf_counter() - began
                began = time.perf_counter()
                with admin("postgres") as conn:
                    conn.execute("CREATE DATABASE raw_restore")
                process.run(
                    [dump.tool("pg_restore"), "--dbname=raw_restore", "--jobs=2", "--no-password", str(raw_dir)],
                    env=dump.env(server),
                )
                return dumped, time.perf_counter() - began

            copies = iter(NAMES[1:])

            def ours() -> tuple[float, float, dict, dict]:
                with admin("postgres") as conn:
                    conn.execute("CHECKPOINT")
                began = time.perf_counter()
                taken = backup.backup(tenv, "bench")
                backed = time.perf_counter() - began
                began = time.perf_counter()
                back = restore.restore(tenv, "bench", source_key=taken.manifest_key, as_name=next(copies))
                restored = time.perf_counter() - began
                assert all(c.rows == c.expected_rows for c in back.verified)
                delete.delete(tenv, back.tenant.name, confirm=lambda _q: True, force=True)  # not timed: disk space
                return backed, restored, taken.timings, {**back.timings, "objects": back.objects_verified,
                                                         "bytes": taken.manifest.size}  # fmt: skip

            raw()  # warm-up, not counted: the first read after the bulk load pays for it (hint bits, cache)
            with admin("postgres") as conn:
                conn.execute("DROP DATABASE IF EXISTS raw_restore")
            sides = {"raw": raw, "raw -Z1": lambda: raw(dump.COMPRESS), "ours": ours}
            runs: dict[str, list] = {name: [] for name in sides}
            for i in range(ROUNDS):
                order = list(sides)[i % 3 :] + list(sides)[: i % 3]
                for name in order:
                    runs[name].append(sides[name]())
                    with admin("postgres") as conn:
                        conn.execute("DROP DATABASE IF EXISTS raw_restore")
            report(runs["raw"], runs["ours"], "raw pg_dump -Fd -j2 (default gzip 6)", verdict=True)
            report(runs["raw -Z1"], runs["ours"], f"raw pg_dump -Fd -j2 -Z{dump.COMPRESS} (ours' level)")
            load = os.getloadavg()[0]
            print(f"load average at the end: {load:.1f} on {os.cpu_count()} CPUs (other work skews every side)")


def generate(conn, gb: float) -> int:
    """~gb GiB of runs and outbox rows (half each, so -j2 has two big tables), written as the tenant's role."""
    rows = int(gb * 1_800_000)
    conn.execute("SET ROLE tenant_bench")
    conn.execute(
        "INSERT INTO runs (id, tenant, kind, status, workflow_id, evidence_key, evidence_sha256, created_at,"
        " updated_at, completed_at) SELECT lpad(to_hex(g), 32, '0')::uuid, 'bench', 'deploy', 'completed',"
        " 'run-bench-' || g, 'tenants/bench/runs/' || g || '/evidence.json', md5(g::text) || md5((g + 1)::text),"
        " now(), now(), now() FROM generate_series(1, %s) g",
        (rows,),
    )
    conn.execute(
        "INSERT INTO outbox (id, event_type, tenant, aggregate_id, payload, traceparent, published_at, attempts)"
        " SELECT lpad(to_hex(g), 32, '0')::uuid, 'run.completed', 'bench', lpad(to_hex(g), 32, '0')::uuid,"
        " jsonb_build_object('run', g, 'status', 'completed', 'note', repeat(md5(g::text), 2)),"
        " '00-' || md5(g::text) || '-01', now(), 1 FROM generate_series(1, %s) g",
        (rows,),
    )
    conn.execute("RESET ROLE")
    conn.execute("VACUUM ANALYZE")
    return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]


def report(raw_runs: list, our_runs: list, what: str, *, verdict: bool = False) -> None:
    print(f"--- ours against {what}")
    raw_dump = statistics.median(r[0] for r in raw_runs)
    raw_restore = statistics.median(r[1] for r in raw_runs)
    our_backup = statistics.median(r[0] for r in our_runs)
    our_restore = statistics.median(r[1] for r in our_runs)
    raw_total, our_total = raw_dump + raw_restore, our_backup + our_restore
    pairs = [(o[0] + o[1]) / (r[0] + r[1]) for r, o in zip(raw_runs, our_runs, strict=True)]
    raw_s = [round(sum(r), 1) for r in raw_runs]
    our_s = [round(r[0] + r[1], 1) for r in our_runs]
    print(f"rounds: {len(raw_runs)}; raw {raw_s} s, ours {our_s} s; per-round ratio {[round(p, 2) for p in pairs]}")
    print(f"raw pg_dump -Fd -j2                {raw_dump:8.2f} s")
    print(f"raw createdb + pg_restore -j2      {raw_restore:8.2f} s")
    print(f"tenant backup (dump + S3 + counts) {our_backup:8.2f} s   ratio {our_backup / raw_dump:5.2f}x")
    print(f"tenant restore --as (S3 streamed)  {our_restore:8.2f} s   ratio {our_restore / raw_restore:5.2f}x")
    print(f"  last backup:  {our_runs[-1][2]}")
    print(f"  last restore: {our_runs[-1][3]}")
    ratio = statistics.median(pairs)
    print(f"backup + restore: medians ours {our_total:.2f} s vs raw {raw_total:.2f} s ({our_total / raw_total:.2f}x)")
    judged = f" (target <= {TARGET}x: {'met' if ratio <= TARGET else 'NOT met'})" if verdict else ""
    print(f"median of the rounds' ratios {ratio:.2f}x{judged}")


if __name__ == "__main__":
    main()
