"""Results of `infractl scan`: the security gates (API compatibility, secrets, workflows, dependencies)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, computed_field

# passed: the tool ran and found nothing; failed: it found something (or could not check what it must);
# not-run: the gate could not run here (no base to compare with, no vulnerability service): never a pass.
GateStatus = Literal["passed", "failed", "not-run"]


class Finding(BaseModel):
    """One problem a gate found: where (repository-relative file, or a path inside an image layer) and what."""

    file: str = ""
    line: int | None = None
    rule: str  # the tool's own rule or code: path.remove, AWS Access Key, template-injection, PYSEC-2024-1
    message: str  # never the secret itself

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else self.file


class Gate(BaseModel):
    name: str  # openapi, secrets, secrets:<layer>, workflows-zizmor, workflows-actionlint, dependencies
    status: GateStatus
    tool: str
    tool_version: str = ""
    findings: list[Finding] = []
    note: str = ""  # what was compared or scanned; for not-run, why
    duration_s: float = 0.0


class ScanReport(BaseModel):
    root: str
    base: str | None = None  # the commit the API was compared with (None: no base)
    gates: list[Gate]
    duration_s: float = 0.0
    # when the run ended (UTC): `infractl gate` judges the report's age by it (older reports: the file's mtime)
    finished_at: datetime | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        """No gate failed. A gate that did not run is not a failure, and not a pass either."""
        return not any(g.status == "failed" for g in self.gates)

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise KeyError(name)

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "not-run": 0}
        for g in self.gates:
            out[g.status] += 1
        return out
