"""Results of `infractl drill dr` and `infractl drill faults` (docs/drills.md): timed steps, the measured RPO and RTO
against the env model's targets, and per fault scenario the workload's check (lost or duplicated effects, counted
from the database). No model here holds a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

StepStatus = Literal["passed", "failed", "skipped"]
DR_PARTS = ("database", "cluster", "evidence")
SCENARIOS = ("temporal-restart", "worker-kill", "api-kill", "db-failover", "network-partition")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """A report read back from its JSON: the computed fields (passed, failures) are derived again, not input."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        return data


class DrillStep(_Model):
    """One timed step: `part.step` (e.g. database.restore), when it started, how long it took, what it found."""

    name: str
    status: StepStatus
    started_at: datetime
    seconds: float
    detail: str = ""  # one line: what it did or measured
    reason: str | None = None  # failed: why, and what to do about it
    facts: dict[str, Any] = Field(default_factory=dict)  # its numbers (rows, segments, objects, …)


class Measure(_Model):
    """A recovery objective: measured against the env model's target (minutes). passed is None when not measured."""

    name: Literal["rpo", "rto"]
    scope: str = ""  # what was recovered: database, cluster
    target_minutes: int
    measured_seconds: float | None = None
    detail: str = ""  # how it was measured (e.g. 0 committed writes lost of 1,532)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool | None:
        if self.measured_seconds is None:
            return None
        return self.measured_seconds <= self.target_minutes * 60


class PartResult(_Model):
    """What one part of a drill returns: its steps, and the measures it took (the database part: RPO and RTO)."""

    part: str
    steps: list[DrillStep] = Field(default_factory=list)
    measures: list[Measure] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # e.g. timings on the emulator mean nothing

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(s.status != "failed" for s in self.steps) and all(m.passed is not False for m in self.measures)


class LedgerRef(_Model):
    seq: int
    ref: str


class DrReport(_Model):
    kind: Literal["dr"] = "dr"
    env: str
    emulate: bool
    target: Literal["local", "aws"]  # local: the dev stack + emulator; aws: RDS PITR, the env's buckets
    started_at: datetime
    finished_at: datetime
    parts: list[PartResult]
    measures: list[Measure]
    notes: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # the report files written
    ledger: LedgerRef | None = None  # the evidence entry the report was appended as

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parts) and all(m.passed is not False for m in self.measures)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def failures(self) -> list[str]:
        out = [f"{s.name}: {s.reason or s.detail}" for p in self.parts for s in p.steps if s.status == "failed"]
        out += [f"{m.name}: {m.detail}" for m in self.measures if m.passed is False]
        return out


class WorkloadCheck(_Model):
    """The workload's history checked from the database (never from logs): every started workflow completed, each
    effect exactly once."""

    started: int
    completed: int = 0
    failed: int = 0  # runs that ended failed
    lost: int = 0  # started, but no row, or not completed by the deadline
    duplicated: int = 0  # effects seen more than once (outbox events, delivered events, ledger entries, objects)
    outbox_events: int = 0
    delivered_events: int = 0
    evidence_entries: int = 0
    seconds_to_complete: float | None = None  # from the fault's start to the last completion
    problems: list[str] = Field(default_factory=list)  # each lost or duplicated effect, named

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.failed == 0 and self.completed == self.started


class ScenarioResult(_Model):
    scenario: str
    steps: list[DrillStep] = Field(default_factory=list)
    check: WorkloadCheck | None = None
    recovery_seconds: float | None = None  # fault injected -> the system serving again (first write / ready)
    notes: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return self.check is not None and self.check.passed and all(s.status != "failed" for s in self.steps)


class FaultsReport(_Model):
    kind: Literal["faults"] = "faults"
    env: str
    workflows: int
    started_at: datetime
    finished_at: datetime
    scenarios: list[ScenarioResult]
    notes: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    ledger: LedgerRef | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return bool(self.scenarios) and all(s.passed for s in self.scenarios)
