"""The run workflow and the data it exchanges with its activities.

This module is imported inside Temporal's workflow sandbox: only the standard library and temporalio here.
Activities are called by name (their code is in activities.py); every one of them is idempotent, because Temporal
runs an activity again when its result was lost (worker crash, timeout, a server restart mid-activity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

WORKFLOW_NAME = "RunWorkflow"
RECORD_RUN = "record_run"
STORE_EVIDENCE = "store_evidence"
COMPLETE_RUN = "complete_run"
FAIL_RUN = "fail_run"
# The ApplicationError type of an activity's permanent failure (bad input): not retried, the run fails at once.
PERMANENT_ERROR = "PermanentError"


def workflow_id(tenant: str, run_id: str) -> str:
    return f"run-{tenant}-{run_id}"


def evidence_key(tenant: str, run_id: str) -> str:
    """Deterministic: the run's document is always at this key (a locked version of it is pinned by the ledger)."""
    return f"tenants/{tenant}/runs/{run_id}/evidence.json"


def ledger_ref(tenant: str, run_id: str) -> str:
    """The ledger entry's idempotency reference: a retried store_evidence appends once."""
    return f"run:{tenant}/{run_id}"


@dataclass
class RunInput:
    run_id: str
    tenant: str
    kind: str
    requested_at: str  # ISO 8601, set by the API
    evidence: dict[str, Any] = field(default_factory=dict)
    retry_initial_seconds: float = 0.5


@dataclass
class RecordRunInput:
    run_id: str
    tenant: str
    kind: str
    workflow_id: str
    requested_at: str


@dataclass
class StoreEvidenceInput:
    run_id: str
    tenant: str
    kind: str
    requested_at: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvidenceRef:
    bucket: str
    key: str
    sha256: str
    size: int
    version_id: str = ""  # the locked version the ledger entry pins
    seq: int = 0  # the ledger entry's sequence number


@dataclass
class FinishRunInput:
    run_id: str
    tenant: str
    evidence: EvidenceRef | None = None
    error: str | None = None


@dataclass
class RunResult:
    run_id: str
    status: str
    evidence_key: str | None = None


@workflow.defn(name=WORKFLOW_NAME)
class RunWorkflow:
    def __init__(self) -> None:
        self._stage = "starting"

    @workflow.query
    def stage(self) -> str:
        return self._stage

    @workflow.run
    async def run(self, inp: RunInput) -> RunResult:
        options: dict[str, Any] = {
            "start_to_close_timeout": timedelta(seconds=30),
            "schedule_to_close_timeout": timedelta(hours=1),  # keep retrying through a dependency outage
            "retry_policy": RetryPolicy(
                initial_interval=timedelta(seconds=inp.retry_initial_seconds),
                backoff_coefficient=2.0,
                maximum_interval=timedelta(seconds=30),
                # activities raise it non-retryable themselves; named here too, for a raiser that forgets the flag
                non_retryable_error_types=[PERMANENT_ERROR],
            ),
        }
        wf_id = workflow.info().workflow_id
        try:
            self._stage = "recording"
            await workflow.execute_activity(
                RECORD_RUN,
                RecordRunInput(inp.run_id, inp.tenant, inp.kind, wf_id, inp.requested_at),
                result_type=bool,
                **options,
            )
            self._stage = "storing evidence"
            ref = await workflow.execute_activity(
                STORE_EVIDENCE,
                StoreEvidenceInput(inp.run_id, inp.tenant, inp.kind, inp.requested_at, inp.evidence),
                result_type=EvidenceRef,
                **options,
            )
            self._stage = "completing"
            await workflow.execute_activity(
                COMPLETE_RUN, FinishRunInput(inp.run_id, inp.tenant, evidence=ref), result_type=bool, **options
            )
        except ActivityError as err:
            self._stage = "failing"
            # the reason is stored (text and jsonb columns): no NUL, no lone surrogate, whatever the cause said
            reason = str(err.cause or err)[:500].replace("\x00", "").encode("utf-8", "backslashreplace").decode()
            await workflow.execute_activity(
                FAIL_RUN, FinishRunInput(inp.run_id, inp.tenant, error=reason), result_type=bool, **options
            )
            raise ApplicationError(f"run {inp.run_id} failed: {reason}", non_retryable=True) from err
        self._stage = "completed"
        return RunResult(inp.run_id, "completed", ref.key)
