"""Timing drill steps: `Steps.step(name)` times a block and records it as a DrillStep; an InfractlError inside it
fails the step with its message and hint as the reason (and is re-raised as StepFailed, so the part stops there)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infractl.errors import InfractlError
from infractl.models.drill import DrillStep

Progress = Callable[[str], None]


def describe(exc: InfractlError) -> str:
    """An error as a step's reason: its message, the first of its details, its hint (what to do)."""
    details = f": {'; '.join(exc.details[:3])}" if exc.details else ""
    return f"{exc}{details}" + (f" ({exc.hint})" if exc.hint else "")


class _Found(Exception):
    def __init__(self, reason: str, facts: dict[str, Any]) -> None:
        super().__init__(reason)
        self.reason, self.facts = reason, facts


class StepFailed(InfractlError):
    """A drill step failed; its reason is recorded in the step. A part catches it and stops (`Steps.part`)."""


@dataclass
class Timed:
    """What a step's block may set: its one-line detail and its facts."""

    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None  # set: the step is recorded as skipped, with this as its detail


@dataclass
class Steps:
    prefix: str  # the part (database, cluster, evidence) or the scenario
    progress: Progress = lambda _m: None
    steps: list[DrillStep] = field(default_factory=list)
    _active: list[str] = field(default_factory=list)  # the names of the steps running now (innermost last)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[Timed]:
        full = f"{self.prefix}.{name}"
        started = datetime.now(UTC)
        t0 = time.monotonic()
        timed = Timed()
        self.progress(f"{full}: …")
        self._active.append(full)
        try:
            yield timed
        except _Found as found:  # fail() inside this step: the step failed, timed
            self._record(full, "failed", started, t0, timed, found.reason, found.facts)
            raise StepFailed(f"{full}: {found.reason}") from None
        except StepFailed:
            raise
        except InfractlError as exc:
            reason = describe(exc)
            self._record(full, "failed", started, t0, timed, reason)
            raise StepFailed(f"{full}: {reason}") from exc
        finally:
            self._active.pop()
        status = "skipped" if timed.skipped is not None else "passed"
        if timed.skipped is not None:
            timed.detail = timed.skipped
        self._record(full, status, started, t0, timed, None)

    def fail(self, name: str, reason: str, **facts: Any) -> None:
        """A check found a problem (not an error of a tool): the step `name` fails with reason (the fix included) and
        the part stops. Inside that step's block, the step is recorded with its time and its facts plus these."""
        if self._active and self._active[-1] == f"{self.prefix}.{name}":
            raise _Found(reason, facts)
        now = datetime.now(UTC)
        self.steps.append(
            DrillStep(
                name=f"{self.prefix}.{name}", status="failed", started_at=now, seconds=0.0, reason=reason, facts=facts
            )
        )
        self.progress(f"{self.prefix}.{name}: FAILED: {reason}")
        raise StepFailed(f"{self.prefix}.{name}: {reason}")

    def _record(
        self,
        name: str,
        status: str,
        started: datetime,
        t0: float,
        timed: Timed,
        reason: str | None,
        more: dict[str, Any] | None = None,
    ) -> None:
        seconds = round(time.monotonic() - t0, 3)
        self.steps.append(
            DrillStep(
                name=name,
                status=status,  # type: ignore[arg-type]
                started_at=started,
                seconds=seconds,
                detail=timed.detail,
                reason=reason,
                facts={**timed.facts, **(more or {})},
            )
        )
        self.progress(
            f"{name}: {status} ({seconds:.1f} s){' — ' + (reason or timed.detail) if (reason or timed.detail) else ''}"
        )

    @contextlib.contextmanager
    def part(self) -> Iterator[None]:
        """Run a part's steps; a StepFailed ends it quietly (the failed step says why)."""
        with contextlib.suppress(StepFailed):
            yield
