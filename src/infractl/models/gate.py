"""The phase gates of `infractl gate infra|security ENV` (docs/gates.md): their definitions (gates/<gate>.yaml) and
the verdict, criterion by criterion, with the evidence that decided each. No model here holds a secret."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from infractl.models.slo import parse_duration

GATES = ("infra", "security")
# Where a check's evidence comes from. Files: the reports the other commands write; live: read when the gate runs.
CHECK_KINDS = ("tests", "drill", "scan", "validate", "ledger", "parity", "policy", "duties")
FILE_KINDS = ("tests", "drill", "scan", "validate")
POLICIES = ("tenant-isolation", "sandboxing")
Status = Literal["met", "not-met", "stale"]
# what each kind of check must say
NEEDS = {"tests": "select", "drill": "drill", "scan": "gates", "validate": "validate_gates", "policy": "policy"}


def age_text(seconds: float | None) -> str:
    """An evidence's age for people: 40s, 12.5m, 3.0h, 40.0d; '-' when unknown."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CheckDef(_Strict):
    """One piece of evidence a criterion needs. `max_age` (e.g. 7d, 12h) applies to the evidence's own time: a
    report older than it is stale; live checks are read when the gate runs."""

    kind: Literal["tests", "drill", "scan", "validate", "ledger", "parity", "policy", "duties"]
    max_age: str | None = None
    # tests: the test modules (globs of repository paths, e.g. tests/integration/test_tenant.py) that must have run
    # and passed, none skipped
    select: list[str] = Field(default_factory=list)
    drill: Literal["dr", "faults"] | None = None  # drill: which report
    # drill: the env whose report counts, when not the gate's (the fault drill runs on the dev stack only: it tests
    # the code's behaviour under faults, the same in every env)
    report_env: str | None = None
    gates: list[str] = Field(default_factory=list)  # scan: its gates that must pass (globs: secrets*)
    validate_gates: list[str] = Field(default_factory=list)  # validate: the gates of the env's cells that must pass
    policy: Literal["tenant-isolation", "sandboxing"] | None = None  # policy: which rule set
    rules: list[str] = Field(default_factory=list)  # policy sandboxing: the checkov Kubernetes checks (CKV_K8S_*)

    @field_validator("max_age")
    @classmethod
    def _age(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v

    @model_validator(mode="after")
    def _needs(self) -> CheckDef:
        field = NEEDS.get(self.kind)
        if field and not getattr(self, field):
            raise ValueError(f"a {self.kind} check needs {field}")
        if self.policy == "sandboxing" and not self.rules:
            raise ValueError("the sandboxing policy needs rules (checkov's CKV_K8S_* checks)")
        if self.kind in FILE_KINDS and not self.max_age:
            raise ValueError(f"a {self.kind} check reads a report: it needs max_age (how old it may be)")
        return self


class CriterionDef(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str = Field(min_length=1)
    why: str = ""  # what holding it means, for the report
    checks: list[CheckDef] = Field(min_length=1)


class GateDef(_Strict):
    gate: Literal["infra", "security"]
    title: str
    criteria: list[CriterionDef] = Field(min_length=1)
    file: str = ""  # where it was read from (set by the loader)
    sha256: str = ""  # of that file's bytes (set by the loader)

    @field_validator("criteria")
    @classmethod
    def _unique(cls, v: list[CriterionDef]) -> list[CriterionDef]:
        ids = [c.id for c in v]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"criterion ids must be unique: {', '.join(dupes)}")
        return v


class Evidence(BaseModel):
    """What one check found: the source it read (a file, or `live: …`), when that evidence was made, and why it
    decided as it did."""

    kind: str
    source: str
    status: Status
    detail: str
    observed_at: datetime | None = None
    age_seconds: float | None = None
    max_age: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


class CriterionResult(BaseModel):
    id: str
    title: str
    evidence: list[Evidence]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> Status:
        """not-met when any evidence says so, else stale when any is too old, else met."""
        found = {e.status for e in self.evidence}
        return "not-met" if "not-met" in found else "stale" if "stale" in found else "met"


class LedgerRef(BaseModel):
    seq: int
    ref: str


class Verdict(BaseModel):
    gate: str
    title: str
    env: str
    definition: str  # the gates/<gate>.yaml it was evaluated from
    definition_sha256: str = ""  # of that file, so a verdict names exactly the rules it applied
    evidence_dir: str
    commit: str | None = None  # the checkout's commit when the gate ran
    started_at: datetime
    finished_at: datetime
    criteria: list[CriterionResult]
    files: list[str] = Field(default_factory=list)
    ledger: LedgerRef | None = None
    notes: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return all(c.status == "met" for c in self.criteria)

    def failing(self) -> list[CriterionResult]:
        return [c for c in self.criteria if c.status != "met"]
