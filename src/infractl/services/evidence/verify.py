"""`infractl evidence verify`: recompute the chain, check every signature against the keys in the WORM bucket,
every signed checkpoint in the bucket against the chain, and every payload version (present, its SHA-256, locked
until its recorded retain-until) unless it was lawfully disposed of. Every problem is a Finding naming the entry;
the report's `first` is the first broken entry.

The chain check is the hot loop (docs/evidence.md#performance): the database rebuilds each entry's canonical body
(chain.BODY_SQL) in batches, a thread fetches the next batch while this one is hashed, and the loop only compares
each body's first 64 bytes with the previous hash. Everything is read in one REPEATABLE READ snapshot."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from hashlib import sha256
from typing import Any

from infractl.adapters import worm
from infractl.adapters.ledger import chain, objects, signers
from infractl.models.evidence import REASONS, Finding, VerifyReport
from infractl.services.evidence.access import CHECKPOINTS, KEYS, Ledger

BATCH = 5000
FETCHERS = 2
PAYLOAD_THREADS = 8
_BATCH_SQL = (
    f"SELECT convert_to(string_agg({chain.BODY_SQL}, E'\\n' ORDER BY seq), 'UTF8')"
    " FROM evidence_entries WHERE seq >= %s AND seq < %s"
)


def finding(seq: int | None, reason: str, detail: str = "") -> Finding:
    return Finding(seq=seq, reason=reason, detail=detail or REASONS[reason])


def verify(
    ledger: Ledger, *, from_seq: int = 1, payloads: bool = True, progress: Callable[[str], None] | None = None
) -> VerifyReport:
    say = progress or (lambda _m: None)
    report = VerifyReport(env=ledger.env, bucket=ledger.bucket, from_seq=from_seq)
    with ledger.connect() as conn:
        conn.autocommit = False
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            head_seq, head_hash = conn.execute("SELECT seq, entry_hash FROM evidence_head").fetchone()
            last = conn.execute("SELECT coalesce(max(seq), 0) FROM evidence_entries").fetchone()[0]
            report.head_seq, report.head_hash = int(head_seq), str(head_hash)
            start_prev = _prev_of(conn, from_seq)
            say(f"chain: entries {from_seq}..{last}")
            began = time.perf_counter()
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            batches = chain_batches(ledger, snapshot, from_seq, last)
            hashes = check_chain(batches, start_prev, from_seq, report.findings)
            report.chain_seconds = round(time.perf_counter() - began, 3)
            report.entries = len(hashes)
            _check_head(report, hashes, from_seq)
            say(f"signatures: {len(hashes)} entries")
            keyring = public_keys(ledger)
            report.keys = sorted(keyring)
            _check_signatures(conn, keyring, hashes, from_seq, report)
            say("checkpoints")
            _check_checkpoints(ledger, conn, keyring, hashes, from_seq, report)
            if payloads:
                say("payloads")
                _check_payloads(ledger, conn, from_seq, report)
        finally:
            conn.rollback()
    report.findings.sort(key=lambda f: (f.seq is None, f.seq or 0))
    return report


def check_chain(batches: Iterator[bytes], prev_hash: str, from_seq: int, findings: list[Finding]) -> list[bytes]:
    """Hash every body; each must begin with the hash of the one before. The computed hashes (hex, as bytes), in
    order: the signatures and checkpoints are checked against them, not against the stored column.

    Per batch, the hashes and the links are compared as whole lists (the comparisons run in C); only a batch with
    a broken link is walked entry by entry to name it."""
    hashes: list[bytes] = []
    prev = prev_hash.encode()
    for blob in batches:
        bodies = blob.split(b"\n")
        computed = [sha256(body).hexdigest().encode() for body in bodies]
        links = [body[:64] for body in bodies]
        if links[0] != prev or links[1:] != computed[:-1]:
            for i, (link, want) in enumerate(zip(links, [prev, *computed[:-1]], strict=True)):
                if link != want:
                    findings.append(_link_finding(bodies[i], from_seq + len(hashes) + i))
        hashes.extend(computed)
        prev = computed[-1]
    return hashes


def _link_finding(body: bytes, expected_seq: int) -> Finding:
    seq = int(body.split(b"\t", 2)[1])
    if seq > expected_seq:
        return finding(seq, "missing", f"entries {expected_seq}..{seq - 1} are missing (deleted)")
    if seq < expected_seq:
        return finding(seq, "out-of-order")
    return finding(
        seq,
        "broken-link",
        f"its prev_hash is not the hash of entry {seq - 1}: entry {seq - 1} was edited, or it was moved",
    )


def chain_batches(ledger: Ledger, snapshot: str, first: int, last: int) -> Iterator[bytes]:
    """The bodies of entries first..last, BATCH per blob (LF-separated), in order. FETCHERS threads, each on its own
    connection in the verifier's snapshot (`SET TRANSACTION SNAPSHOT`), fetch alternate batches ahead while this
    thread hashes: the database builds the bodies on as many cores, and libpq waits without the GIL."""
    starts = list(range(first, last + 1, BATCH))
    lanes: list[queue.Queue[bytes | BaseException]] = [queue.Queue(maxsize=2) for _ in range(FETCHERS)]
    stop = threading.Event()

    def fetch(lane: int) -> None:
        try:
            with ledger.connect() as conn:
                conn.autocommit = False
                conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                conn.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                with conn.cursor(binary=True) as cur:
                    for lo in starts[lane::FETCHERS]:
                        if stop.is_set():
                            break
                        blob = cur.execute(_BATCH_SQL, (lo, lo + BATCH)).fetchone()[0]
                        lanes[lane].put(bytes(blob) if blob else b"")
                conn.rollback()
        except BaseException as exc:  # handed to the consumer, raised there
            lanes[lane].put(exc)

    workers = [
        threading.Thread(target=fetch, args=(i,), name=f"evidence-fetch-{i}", daemon=True) for i in range(FETCHERS)
    ]
    for w in workers:
        w.start()
    try:
        for k in range(len(starts)):
            item = lanes[k % FETCHERS].get()
            if isinstance(item, BaseException):
                raise item
            if item:
                yield item
    finally:
        stop.set()
        for lane in lanes:  # unblock a fetcher waiting to put
            while not lane.empty():
                lane.get_nowait()
        for w in workers:
            w.join()


def _prev_of(conn: Any, from_seq: int) -> str:
    if from_seq <= 1:
        return chain.GENESIS
    row = conn.execute("SELECT entry_hash FROM evidence_entries WHERE seq = %s", (from_seq - 1,)).fetchone()
    return str(row[0]) if row else chain.GENESIS


def _check_head(report: VerifyReport, hashes: list[bytes], from_seq: int) -> None:
    last_seq = from_seq + len(hashes) - 1
    if hashes and (report.head_seq != last_seq or report.head_hash.encode() != hashes[-1]):
        report.findings.append(
            finding(
                last_seq,
                "head-mismatch",
                f"the head record says entry {report.head_seq} ({report.head_hash[:12]}…), the chain ends at entry"
                f" {last_seq} ({hashes[-1][:12].decode()}…)",
            )
        )


def public_keys(ledger: Ledger) -> dict[str, bytes]:
    """The signing keys published to the WORM bucket (they cannot be replaced there): key id -> raw public key."""
    return {
        objects.key_id_of(key): objects.read_public_key(worm.get(ledger.s3, ledger.bucket, key))
        for key in worm.keys(ledger.s3, ledger.bucket, KEYS)
    }


def _check_signatures(
    conn: Any, keyring: dict[str, bytes], hashes: list[bytes], from_seq: int, report: VerifyReport
) -> None:
    checks = {key_id: signers.verifier(public) for key_id, public in keyring.items()}
    with conn.cursor(name="evidence-signatures") as cur:
        cur.itersize = 20000
        cur.execute(
            "SELECT seq, entry_hash, signature, key_id FROM evidence_entries WHERE seq >= %s ORDER BY seq", (from_seq,)
        )
        for seq, stored, signature, key_id in cur:
            i = seq - from_seq
            if i >= len(hashes):
                break
            computed = hashes[i].decode()
            if stored != computed:
                report.findings.append(finding(seq, "edited" if i + 1 < len(hashes) else "hash-column"))
            if not signature:
                report.findings.append(finding(seq, "unsigned"))
                continue
            check = checks.get(key_id)
            if check is None:
                report.findings.append(finding(seq, "unknown-key", f"signed with {key_id}, not in the bucket's keys"))
                continue
            if not check(chain.entry_message(computed), signature):
                report.findings.append(finding(seq, "bad-signature"))
            report.signatures_checked += 1


def _check_checkpoints(
    ledger: Ledger, conn: Any, keyring: dict[str, bytes], hashes: list[bytes], from_seq: int, report: VerifyReport
) -> None:
    last_seq = from_seq + len(hashes) - 1
    for key in worm.keys(ledger.s3, ledger.bucket, CHECKPOINTS):
        doc = json.loads(worm.get(ledger.s3, ledger.bucket, key))
        seq, entry_hash = int(doc["seq"]), str(doc["entry_hash"])
        public = keyring.get(doc.get("key_id", ""))
        if public is None or not signers.verify(public, chain.checkpoint_message(seq, entry_hash), doc["signature"]):
            report.findings.append(finding(seq, "bad-checkpoint", f"{key}: its signature does not verify"))
            continue
        report.checkpoints_checked += 1
        if seq > last_seq:
            report.findings.append(
                finding(
                    last_seq + 1, "truncated", f"a signed checkpoint covers entry {seq}; the chain ends at {last_seq}"
                )
            )
        elif seq >= from_seq and hashes[seq - from_seq] != entry_hash.encode():
            report.findings.append(finding(seq, "checkpoint-mismatch"))
    report.checkpoints_unpublished = conn.execute(
        "SELECT count(*) FROM evidence_checkpoints WHERE object_key = ''"
    ).fetchone()[0]


def _check_payloads(ledger: Ledger, conn: Any, from_seq: int, report: VerifyReport) -> None:
    disposed = {
        int(r[0])
        for r in conn.execute(
            "SELECT refers_to FROM evidence_entries WHERE kind = %s AND refers_to <> ''", (chain.DISPOSITION,)
        ).fetchall()
    }
    rows = conn.execute(
        "SELECT seq, object_key, version_id, payload_sha256, retain_until FROM evidence_entries"
        " WHERE object_key <> '' AND seq >= %s ORDER BY seq",
        (from_seq,),
    ).fetchall()
    report.disposed = sorted(s for s in disposed if s >= from_seq)
    live = [r for r in rows if r[0] not in disposed]

    def check(row: tuple[Any, ...]) -> tuple[int, worm.ObjectState, str, str]:
        seq, key, version, sha, until = row
        return seq, worm.head(ledger.s3, ledger.bucket, key, version), sha, until

    with ThreadPoolExecutor(PAYLOAD_THREADS) as pool:
        for seq, state, sha, until in pool.map(check, live):
            report.payloads_checked += 1
            if not state.exists:
                report.findings.append(finding(seq, "payload-missing", f"{state.key}?versionId={state.version_id}"))
                continue
            if state.sha256 != sha:
                report.findings.append(finding(seq, "payload-edited"))
            if state.legal_hold:
                report.held.append(seq)
            if until and not _locked_until(state, chain.parse_time(until)):
                report.findings.append(
                    finding(seq, "payload-unlocked", f"locked {state.mode or 'not at all'} until {state.retain_until}")
                )


def _locked_until(state: worm.ObjectState, until: datetime) -> bool:
    return bool(state.mode) and state.retain_until is not None and state.retain_until >= until.replace(microsecond=0)
