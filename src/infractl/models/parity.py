"""The stack contract (terraform/contracts/<stack>.yaml), each cloud's binding to it (terraform/stacks/<cloud>/<stack>/
parity.yaml) and the result of `infractl parity`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

CLOUDS: tuple[str, ...] = ("aws", "azure", "gcp")
CapabilityStatus = Literal["same", "differs", "missing"]


class InputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(description="Terraform type expression, e.g. list(string)")
    meaning: str


class Contract(BaseModel):
    """What every cloud's implementation of one stack exposes and provides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    stack: str
    meaning: str
    inputs: dict[str, InputSpec]
    outputs: dict[str, str]  # name -> meaning
    capabilities: dict[str, str]  # id -> what it guarantees


class CapabilityBinding(BaseModel):
    """How one cloud's stack provides a capability: the resource types behind it, the settings they must carry."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    resources: list[str] = Field(default_factory=list)
    match: dict[str, str] = Field(default_factory=dict)  # resource type -> regex one of its blocks must contain
    forbid: list[str] = Field(default_factory=list)
    status: CapabilityStatus = "same"
    gap: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> CapabilityBinding:
        if self.status != "same" and len(self.gap.strip()) < 20:
            raise ValueError(f"status {self.status!r} needs a gap explaining the difference (at least 20 characters)")
        if self.status != "missing" and not self.resources:
            raise ValueError("resources: name the resource types that provide it (or status: missing with a gap)")
        unknown = sorted(set(self.match) - set(self.resources))
        if unknown:
            raise ValueError(f"match: {', '.join(unknown)} not in resources")
        return self


class Binding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    extra_inputs: dict[str, InputSpec] = Field(default_factory=dict)
    extra_outputs: dict[str, str] = Field(default_factory=dict)
    capabilities: dict[str, CapabilityBinding] = Field(default_factory=dict)


class Violation(BaseModel):
    """A place where a cloud's stack breaks its contract."""

    cloud: str
    stack: str
    field: str  # the input, output or capability concerned ("" for the whole stack)
    rule: str  # missing-stack, missing-input, type-mismatch, undeclared-input, missing-output, ...
    message: str
    file: str = ""
    line: int = 0


class ParityCell(BaseModel):
    stack: str
    capability: str
    cloud: str
    status: Literal["same", "differs", "missing", "violated"]
    gap: str = ""


class CloudCheck(BaseModel):
    cloud: str
    schema_validated: bool  # its provider is installed, so `infractl validate` checks it against the schema
    checks: list[str]  # what was checked here


class UncheckedStack(BaseModel):
    """A stack of terraform/stacks/stacks.yaml that parity does not check, and why."""

    stack: str
    cloud: str
    reason: Literal["no-contract", "single-cloud"]  # no contract file | declared `parity: single-cloud`


class ParityReport(BaseModel):
    clouds: list[CloudCheck]
    stacks: list[str]
    cells: list[ParityCell]
    violations: list[Violation]
    docs: str = ""  # docs/parity.md: unchanged | updated | stale | not-checked (no contracts)
    unchecked: list[UncheckedStack] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # what was not checked, one line each, for people

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.violations and self.docs != "stale"
