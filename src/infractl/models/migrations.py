"""Results of `infractl db` (migrate, rollback, status, lint): per target, per revision, per finding
(docs/migrations.md). The target and its result (Target, TargetResult) are in models/db.py."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from infractl.models.db import Phase, TargetKind, TargetResult


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Planned(_Model):
    """What a dry run would do to one target."""

    target: str
    kind: TargetKind
    tenant: str | None = None
    current: str | None = None
    revisions: list[str] = Field(default_factory=list)  # in the order they would run (reverted: newest first)


class FanOutResult(_Model):
    """`db migrate` / `db rollback` over the shared target and the tenants' targets."""

    env: str
    action: Literal["migrate", "rollback"]
    phase: Phase | None = None  # migrate: the phase whose target each target is brought to (unless `to`)
    to: str | None = None  # an explicit revision (--to), else per target: its phase target or --steps below it
    dry_run: bool = False
    parallel: int = 1
    results: list[TargetResult] = Field(default_factory=list)
    planned: list[Planned] = Field(default_factory=list)  # dry runs
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("applied", "skipped", "pending", "failed")}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return all(r.status != "failed" for r in self.results)

    @property
    def failed(self) -> list[TargetResult]:
        return [r for r in self.results if r.status == "failed"]


class PendingRevision(_Model):
    id: str
    phase: Phase
    description: str = ""


class TargetState(_Model):
    """`db status` of one target: where it is, what is left, what the last run saved."""

    target: str
    kind: TargetKind
    tenant: str | None = None
    where: str  # database, or database/schema
    current: str | None = None
    head: str
    pending: list[PendingRevision] = Field(default_factory=list)
    saved_status: str | None = None  # the last migrate/rollback's outcome (infractl.migration_targets)
    saved_error: str | None = None
    saved_at: str | None = None
    error: str | None = None  # why the current revision could not be read now


class StatusReport(_Model):
    env: str
    head: str
    targets: list[TargetState] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def at_head(self) -> int:
        return sum(1 for t in self.targets if t.current == self.head)


LintSource = Literal["squawk", "infractl"]


class LintFinding(_Model):
    file: str  # relative to the project root
    line: int
    rule: str  # squawk's rule name, or one of ours (docs/migrations.md#lint-rules)
    message: str
    source: LintSource = "infractl"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


class LintReport(_Model):
    directory: str
    revisions: list[str] = Field(default_factory=list)  # the ids checked, base → head
    findings: list[LintFinding] = Field(default_factory=list)
    squawk_excluded: list[str] = Field(default_factory=list)  # squawk rules not applied (and why: the docs)
    seconds: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.findings
