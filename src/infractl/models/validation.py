"""Results of `infractl validate` and `infractl cost`: findings per gate, cells (stack x env), cost lines."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, computed_field

from infractl.models.parity import ParityReport

Gate = Literal["fmt", "validate", "parity", "plan", "security", "tags", "cost"]
GATES: tuple[Gate, ...] = ("fmt", "validate", "parity", "plan", "security", "tags", "cost")
# once per stack, whatever the number of envs
STATIC_GATES: tuple[Gate, ...] = ("fmt", "validate", "parity")
GateStatus = Literal["pass", "fail", "not-run"]


class Finding(BaseModel):
    """One reason a gate failed: which gate and rule, where (stack, env, resource address, file and line)."""

    gate: Gate
    rule: str  # e.g. CKV_AWS_118, unformatted, syntax, missing-tag, unpriced, over-budget, skip-without-reason
    # "*" for an environment-wide finding (the budget); "<cloud>/<stack>" for another cloud's stack (parity, checkov)
    stack: str
    env: str | None  # None for findings of the stack's sources (every env)
    message: str
    address: str = ""
    file: str = ""  # repository-relative
    line: int = 0


class Waived(BaseModel):
    """A checkov failure skipped with a written reason (inline in the source or in the environment file)."""

    check: str
    stack: str
    env: str | None
    address: str
    reason: str
    where: str  # file:line of the skip


class CostLine(BaseModel):
    stack: str
    address: str
    type: str
    monthly_usd: float | None  # None: unpriced (never counted as zero)
    basis: str  # how the figure was made, or why there is none
    region: str = ""  # the region it was priced in
    region_unknown: str = ""  # why the provider's region could not be told (then the env's region was assumed)


class EnvCost(BaseModel):
    env: str
    catalog_version: str
    budget_usd: float
    lines: list[CostLine]
    complete: bool  # every stack of the env was planned (else the total is a lower bound)
    notes: list[str] = []  # what a reader must know of the figures (e.g. how a plan file's resources were attributed)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_usd(self) -> float:
        return round(sum(line.monthly_usd or 0.0 for line in self.lines), 2)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def unpriced(self) -> list[str]:
        return [line.address for line in self.lines if line.monthly_usd is None]

    def stack_total(self, stack: str) -> float:
        return round(sum(line.monthly_usd or 0.0 for line in self.lines if line.stack == stack), 2)


class Cell(BaseModel):
    stack: str
    env: str
    gates: dict[str, GateStatus]
    monthly_usd: float | None = None


class ValidationReport(BaseModel):
    envs: list[str]
    stacks: list[str]
    cells: list[Cell]
    findings: list[Finding]
    waived: list[Waived]
    costs: dict[str, EnvCost]
    duration_s: float = 0.0
    jobs: int = 1
    changed_since: str | None = None
    # seconds per task, run by run: "stack <name>" (fmt, init+validate), "plan <env>", "checkov <scan>"
    timings: dict[str, dict[str, float]] = {}
    # the contract check of every cloud's stacks (`infractl parity`); its violations are also findings of gate parity
    parity: ParityReport | None = None
    # when the run ended (UTC): `infractl gate` judges the report's age by it (older reports: the file's mtime)
    finished_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.findings and all(s != "not-run" for c in self.cells for s in c.gates.values())


class CostDelta(BaseModel):
    stack: str
    address: str
    a_usd: float | None  # None: absent, or unpriced
    b_usd: float | None
    delta_usd: float


class CostComparison(BaseModel):
    env: EnvCost
    other_name: str | None = None
    other: EnvCost | None = None
    differences: list[CostDelta] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta_usd(self) -> float | None:
        return None if self.other is None else round(self.other.total_usd - self.env.total_usd, 2)
