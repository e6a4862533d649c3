"""Results of plan / apply / bootstrap / destroy runs, and the progress interface services report to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, computed_field


@dataclass(frozen=True)
class Event:
    """One line of a tool's machine-readable output (Terraform's -json lines), made readable."""

    level: str  # info | warn | error
    message: str
    kind: str = ""


# stopped: an interrupt stopped it while it ran; not-started: an interrupt came before it could start.
StackStatus = Literal[
    "up-to-date", "changes", "applied", "destroyed", "failed", "not-reached", "stopped", "not-started"
]


class StackResult(BaseModel):
    stack: str
    status: StackStatus
    add: int = 0
    change: int = 0
    destroy: int = 0
    destroyed: list[str] = []  # addresses a plan deletes or replaces
    retained: list[str] = []  # addresses destroy kept because they hold data under retention
    duration_s: float = 0.0
    plan_file: str | None = None
    plan_sha256: str | None = None  # the SHA-256 of the plan file an apply or destroy applied (evidence)
    error: str | None = None
    error_details: list[str] = []
    hint: str | None = None
    exit_code: int = 0


class RunResult(BaseModel):
    env: str
    operation: Literal["plan", "apply", "bootstrap", "destroy"]
    emulated: bool
    stacks: list[StackResult]
    interrupted: bool = False  # an interrupt (SIGINT) stopped the run: the command exits 130

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.interrupted and all(
            s.status not in ("failed", "not-reached", "stopped", "not-started") for s in self.stacks
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def changes_present(self) -> bool:
        return any(s.status == "changes" for s in self.stacks)


class Progress(Protocol):
    def stack_started(self, stack: str, phase: str) -> None: ...
    def stack_event(self, stack: str, event: Event) -> None: ...
    def stack_finished(self, result: StackResult) -> None: ...
    def note(self, message: str) -> None: ...


class NullProgress:
    def stack_started(self, stack: str, phase: str) -> None:
        pass

    def stack_event(self, stack: str, event: Event) -> None:
        pass

    def stack_finished(self, result: StackResult) -> None:
        pass

    def note(self, message: str) -> None:
        pass
