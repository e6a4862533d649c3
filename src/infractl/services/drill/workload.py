"""The fault drill's workload: N runs started through the api (POST /v1/tenants/{tenant}/runs, each with its own
Idempotency-Key, retried with the SAME key until the api accepts it), then waited for, then checked FROM THE DATABASE
(never from logs): every accepted run completed, each effect exactly once.

Each workload has its own tenant (`drill-<scenario>-<random>`), so every row of that tenant belongs to it: a row the
api never answered with is a duplicate (a retried key that started a second run). The check reads, as the admin role
in database `controlplane`: runs, outbox (one run.recorded and one run.completed per run), delivered_events (one per
outbox event, and never two for one run and type), evidence_entries (one ledger entry per run, ref
`run:<tenant>/<run id>`) and idempotency_keys; and HEADs each pinned evidence version in S3 (exists, same SHA-256).
`evaluate` is the pure part (tested without any engine).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infractl.adapters import pg, worm
from infractl.errors import ExternalToolError, InfractlError
from infractl.models.drill import WorkloadCheck

DB_NAME = "controlplane"
KIND = "drill"
RECORDED, COMPLETED, FAILED = "run.recorded", "run.completed", "run.failed"  # controlplane.models.EventType
LEDGER_KIND = "run.evidence"  # controlplane.activities.EVIDENCE_ENTRY_KIND
POST_TIMEOUT_S = 5.0
RETRY_S = 0.2
CONCURRENCY = 4
SPREAD_S = 1.5  # the starts are spread over this long, so that requests are still being made when a fault hits
MAX_PROBLEMS = 50


def ledger_ref(tenant: str, run_id: str) -> str:
    return f"run:{tenant}/{run_id}"  # controlplane.workflows.ledger_ref


def new_tenant(scenario: str) -> str:
    return f"drill-{scenario}-{secrets.token_hex(3)}"[:63]


# --- the check (pure) --------------------------------------------------------------------------------------------


@dataclass
class Observed:
    """What the database (and S3) hold for one workload's tenant."""

    runs: list[tuple[str, str]] = field(default_factory=list)  # id, status
    outbox: list[tuple[str, str, str, bool]] = field(default_factory=list)  # id, run id, type, published
    delivered: list[tuple[str, str, str]] = field(default_factory=list)  # event id, run id, type
    ledger: list[tuple[int, str, str, str, str]] = field(default_factory=list)  # seq, ref, key, version, sha256
    keys: list[tuple[str, str]] = field(default_factory=list)  # idempotency key, run id
    objects: dict[int, tuple[bool, str]] = field(default_factory=dict)  # ledger seq -> exists, sha256 in S3


def evaluate(
    tenant: str, accepted: Mapping[str, str], answers: Mapping[str, set[str]], seen: Observed
) -> WorkloadCheck:
    """accepted: Idempotency-Key -> the run id the api answered; answers: every run id answered per key."""
    started = set(accepted.values())
    problems: list[str] = []
    lost = duplicated = completed = failed = 0

    def problem(text: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(text)

    for key, ids in answers.items():
        if len(ids) > 1:
            duplicated += len(ids) - 1
            problem(f"key {key}: answered with {len(ids)} different runs ({', '.join(sorted(ids))})")
    for key, run in seen.keys:
        if key in accepted and accepted[key] != run:
            duplicated += 1
            problem(f"key {key}: bound to run {run}, but the api answered {accepted[key]}")
    status = {rid: st for rid, st in seen.runs}
    for rid in sorted(started):
        st = status.get(rid)
        if st is None:
            lost += 1
            problem(f"run {rid}: accepted, but no row in runs (lost)")
        elif st == "completed":
            completed += 1
        elif st == "failed":
            failed += 1
            problem(f"run {rid}: failed")
        else:
            lost += 1
            problem(f"run {rid}: still {st} at the deadline (not completed)")
    for rid in sorted(set(status) - started):
        duplicated += 1
        problem(f"run {rid}: a row no accepted request answered with (a retry started a second run)")

    events = Counter((rid, et) for _id, rid, et, _pub in seen.outbox)
    for rid in sorted(started & set(status)):
        for et in (RECORDED, COMPLETED):
            n = events.get((rid, et), 0)
            if n == 0 and (et == RECORDED or status.get(rid) == "completed"):
                lost += 1
                problem(f"run {rid}: no {et} event in the outbox")
            elif n > 1:
                duplicated += n - 1
                problem(f"run {rid}: {n} {et} events in the outbox")
        if events.get((rid, FAILED)):
            problem(f"run {rid}: a {FAILED} event")

    delivered_ids = Counter(eid for eid, _rid, _et in seen.delivered)
    outbox_ids = {eid for eid, _rid, _et, _pub in seen.outbox}
    for eid, rid, et, _pub in seen.outbox:
        if delivered_ids.get(eid, 0) == 0:
            lost += 1
            problem(f"run {rid}: {et} event {eid} was never delivered")
        elif delivered_ids[eid] > 1:
            duplicated += delivered_ids[eid] - 1
            problem(f"run {rid}: {et} event {eid} delivered {delivered_ids[eid]} times")
    per_type = Counter((rid, et) for _eid, rid, et in seen.delivered)
    for (rid, et), n in sorted(per_type.items()):
        if n > 1:
            duplicated += n - 1
            problem(f"run {rid}: {n} delivered {et} events (one per run expected)")
    for eid, rid, et in seen.delivered:
        if eid not in outbox_ids and per_type[(rid, et)] == 1:
            duplicated += 1
            problem(f"run {rid}: delivered {et} event {eid} that is not in the outbox")

    refs = Counter(ref for _seq, ref, _k, _v, _s in seen.ledger)
    for rid in sorted(started):
        n = refs.get(ledger_ref(tenant, rid), 0)
        if n == 0:
            if status.get(rid) == "completed":
                lost += 1
                problem(f"run {rid}: no ledger entry")
        elif n > 1:
            duplicated += n - 1
            problem(f"run {rid}: {n} ledger entries")
    known = {ledger_ref(tenant, rid) for rid in started}
    for seq, ref, key, version, sha in seen.ledger:
        if ref not in known:
            duplicated += 1
            problem(f"ledger entry {seq}: ref {ref} of no accepted run")
        exists, stored = seen.objects.get(seq, (False, ""))
        if not exists:
            lost += 1
            problem(f"ledger entry {seq} ({ref}): evidence {key} version {version} not in the bucket")
        elif stored and stored != sha:
            lost += 1
            problem(f"ledger entry {seq} ({ref}): evidence {key} has SHA-256 {stored}, the ledger pins {sha}")

    return WorkloadCheck(
        started=len(started),
        completed=completed,
        failed=failed,
        lost=lost,
        duplicated=duplicated,
        outbox_events=len(seen.outbox),
        delivered_events=len(seen.delivered),
        evidence_entries=len(seen.ledger),
        problems=problems,
    )


# --- the workload ------------------------------------------------------------------------------------------------


@dataclass
class Workload:
    api_url: str
    tenant: str
    n: int
    db: Callable[[], pg.PgServer]  # where to read the database now (a failover moves it)
    s3: Callable[[], Any]
    bucket: str
    deadline_s: float
    accepted: dict[str, str] = field(default_factory=dict)  # key -> run id
    answers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    attempts: int = 0  # POSTs made (retries included)
    refused: int = 0  # POSTs that failed (connection refused, 5xx, timeout) and were retried
    fault_at: datetime | None = None  # wall clock of the fault (runs.completed_at is the database's wall clock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _errors: list[str] = field(default_factory=list)
    _accept_times: list[float] = field(default_factory=list)

    # --- starting --------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start posting in the background: N requests spread over SPREAD_S, CONCURRENCY at a time."""
        self._thread = threading.Thread(target=self._post_all, name=f"workload-{self.tenant}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(POST_TIMEOUT_S + 5)

    def posting_done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def _post_all(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        gap = SPREAD_S / max(1, self.n)
        with ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="post") as pool:
            for i in range(self.n):
                if self._stop.is_set():
                    break
                pool.submit(self._post_until_accepted, i)
                time.sleep(gap)

    def _post_until_accepted(self, i: int) -> None:
        key = str(uuid.uuid4())
        body = json.dumps({"kind": KIND, "evidence": {"drill": self.tenant, "n": i}}).encode()
        url = f"{self.api_url}/v1/tenants/{self.tenant}/runs"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.deadline_s
        while not self._stop.is_set() and time.monotonic() < deadline:
            req = urllib.request.Request(url, data=body, method="POST")
            req.add_header("Content-Type", "application/json")
            req.add_header("Idempotency-Key", key)
            with self._lock:
                self.attempts += 1
            try:
                with opener.open(req, timeout=POST_TIMEOUT_S) as resp:
                    run_id = str(json.loads(resp.read())["run_id"])
                with self._lock:
                    self.answers[key].add(run_id)
                    self.accepted.setdefault(key, run_id)
                    self._accept_times.append(time.monotonic())
                return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:  # a request the api refuses for good: the workload is wrong
                    with self._lock:
                        self._errors.append(f"POST {url}: {exc.code} {exc.read()[:200]!r}")
                    return
            except (urllib.error.URLError, OSError, ValueError, KeyError):
                pass
            with self._lock:
                self.refused += 1
            time.sleep(RETRY_S)
        with self._lock:
            self._errors.append(f"key {key}: not accepted within {self.deadline_s:.0f} s")

    def first_accept_after(self, t: float) -> float | None:
        """The monotonic time of the first request accepted after t (None: none yet)."""
        with self._lock:
            later = [a for a in self._accept_times if a > t]
        return min(later) if later else None

    # --- waiting ---------------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int] | None:
        """accepted, recorded, completed (from the database; None when it does not answer)."""
        rows = self._query("SELECT status, count(*) FROM runs WHERE tenant = %s GROUP BY status", (self.tenant,))
        if rows is None:
            return None
        by = {str(s): int(n) for s, n in rows}
        with self._lock:
            accepted = len(self.accepted)
        return {"accepted": accepted, "recorded": sum(by.values()), "completed": by.get("completed", 0)}

    def wait_in_flight(self, min_accepted: int, timeout: float) -> dict[str, int]:
        """Until at least min_accepted runs are accepted and one is recorded but not completed (in flight)."""
        deadline = time.monotonic() + timeout
        while True:
            c = self.counts()
            if c and c["accepted"] >= min_accepted and c["recorded"] > c["completed"]:
                return c
            if self._errors:
                raise ExternalToolError("the workload failed", details=self._errors[:5])
            if time.monotonic() >= deadline:
                raise ExternalToolError(f"no run in flight within {timeout:.0f} s (counts: {c})")
            time.sleep(0.05)

    def wait_done(self, timeout: float) -> float:
        """Until every request is accepted and every accepted run completed with its events delivered; the seconds
        waited. ExternalToolError (with the counts) after timeout."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        state: Any = None
        while True:
            if self.posting_done():
                state = self._done_state()
                if state is True:
                    return round(time.monotonic() - t0, 3)
            if time.monotonic() >= deadline:
                raise ExternalToolError(
                    f"not every run completed within {timeout:.0f} s",
                    details=[str(state), *self._errors[:5]],
                    hint="the check below names each run that did not",
                )
            time.sleep(0.2)

    def _done_state(self) -> Any:
        with self._lock:
            ids = list(self.accepted.values())
        rows = self._query(
            "SELECT (SELECT count(*) FROM runs WHERE tenant = %s AND id = ANY(%s::uuid[]) AND status <> 'running'),"
            " (SELECT count(*) FROM outbox o WHERE o.tenant = %s AND NOT EXISTS"
            "   (SELECT 1 FROM delivered_events d WHERE d.event_id = o.id))",
            (self.tenant, ids, self.tenant),
        )
        if not rows:
            return "database unavailable"
        final, undelivered = rows[0]
        if final == len(ids) and undelivered == 0:
            return True
        return f"{final} of {len(ids)} runs final, {undelivered} events not delivered yet"

    def first_completion_after(self, t: datetime) -> datetime | None:
        rows = self._query(
            "SELECT min(completed_at) FROM runs WHERE tenant = %s AND completed_at > %s", (self.tenant, t)
        )
        return rows[0][0] if rows else None

    # --- checking --------------------------------------------------------------------------------------------

    def check(self) -> WorkloadCheck:
        seen = self.observe()
        with self._lock:
            accepted, answers = dict(self.accepted), {k: set(v) for k, v in self.answers.items()}
            errors = list(self._errors)
        result = evaluate(self.tenant, accepted, answers, seen)
        result.problems = [f"workload: {e}" for e in errors] + result.problems
        if errors:
            result.lost += sum(1 for e in errors if "not accepted" in e)
        last = self._query("SELECT max(completed_at) FROM runs WHERE tenant = %s", (self.tenant,))
        if self.fault_at is not None and last and last[0][0] is not None:
            result.seconds_to_complete = round(max(0.0, (last[0][0] - self.fault_at).total_seconds()), 3)
        return result

    def observe(self) -> Observed:
        t = (self.tenant,)
        with self._connect() as conn:
            seen = Observed(
                runs=[(str(a), str(b)) for a, b in conn.execute("SELECT id, status FROM runs WHERE tenant = %s", t)],
                outbox=[
                    (str(a), str(b), str(c), bool(d))
                    for a, b, c, d in conn.execute(
                        "SELECT id, aggregate_id, event_type, published_at IS NOT NULL FROM outbox WHERE tenant = %s", t
                    )
                ],
                delivered=[
                    (str(a), str(b), str(c))
                    for a, b, c in conn.execute(
                        "SELECT event_id, aggregate_id, event_type FROM delivered_events WHERE tenant = %s", t
                    )
                ],
                ledger=[
                    (int(a), str(b), str(c), str(d), str(e))
                    for a, b, c, d, e in conn.execute(
                        "SELECT seq, ref, object_key, version_id, payload_sha256 FROM evidence_entries"
                        " WHERE tenant = %s AND kind = %s",
                        (self.tenant, LEDGER_KIND),
                    )
                ],
                keys=[
                    (str(a), str(b))
                    for a, b in conn.execute("SELECT key, run_id FROM idempotency_keys WHERE tenant = %s", t)
                ],
            )
        s3 = self.s3()
        for seq, _ref, key, version, _sha in seen.ledger:
            state = worm.head(s3, self.bucket, key, version) if version else None
            seen.objects[seq] = (bool(state and state.exists), state.sha256 if state else "")
        return seen

    # --- database --------------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        return pg.connect(self.db(), DB_NAME, application_name="infractl-drill")

    def _query(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]] | None:
        """Rows, or None when the database does not answer right now (a fault is on)."""
        try:
            with contextlib.closing(self._connect()) as conn:
                return list(conn.execute(sql, tuple(params)))
        except (InfractlError, OSError):
            return None
        except Exception as exc:  # psycopg's errors while the server goes away
            if type(exc).__module__.startswith("psycopg"):
                return None
            raise


def now() -> datetime:
    return datetime.now(UTC)
