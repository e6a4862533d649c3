"""The state one `infractl validate` run shares across its steps, passed explicitly to static.py, plans.py,
security.py and placement.py: the run's inputs (context, manifest, envs, gates), its stop flag and locks, the
emulator it plans against, the env-wide findings and the timings; and `StackWork`, what is known of one stack.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from infractl.adapters import aws, terraform
from infractl.models.environment import Environment
from infractl.models.runs import Progress
from infractl.models.stacks import Manifest, Stack
from infractl.models.validation import GATES, Finding
from infractl.services.context import Context
from infractl.services.stacks import workspace


@dataclass
class StackWork:
    """One stack of the run: the envs it is validated in, its findings, plan files, gate status and timings."""

    stack: Stack
    envs: list[str]
    findings: list[Finding] = field(default_factory=list)
    plans: dict[str, Path] = field(default_factory=dict)  # env -> plan JSON file
    status: dict[tuple[str, str | None], str] = field(default_factory=dict)  # (gate, env) -> pass | fail
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    valid: bool = False  # fmt aside, the stack passed init + validate: it can be planned

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.monotonic() - began, 2)


@dataclass
class RunState:
    """What every step of one run reads (inputs, paths, a Terraform runner) and writes (stop, env findings, timings)."""

    ctx: Context
    manifest: Manifest
    envs: dict[str, Environment]
    progress: Progress
    jobs: int
    fail_fast: bool
    gates: tuple[str, ...] = GATES
    stop: threading.Event = field(default_factory=threading.Event)
    init_lock: threading.Lock = field(default_factory=threading.Lock)  # one plugin cache, which Terraform does not lock
    emulator_url: str = ""
    ca_file: str = ""
    env_findings: list[Finding] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards env_findings and timings
    timings: dict[str, dict[str, float]] = field(default_factory=dict)  # task -> phase -> seconds

    @property
    def display(self) -> str:
        return self.ctx.project.rel(self.ctx.project.manifest_path)

    def rel(self, path: Path | str) -> str:
        real = Path(os.path.realpath(path))
        return self.ctx.project.rel(real)

    @functools.cached_property
    def deployed_clouds(self) -> set[str]:
        """The clouds of the environments validated: their stacks are planned; other clouds' are checked statically
        and their findings are named "<cloud>/<stack>"."""
        return {env.cloud for env in self.envs.values()}

    def stack_dir(self, stack: Stack) -> Path:
        return self.ctx.project.terraform_dir / "stacks" / stack.spec.path

    def ws(self, kind: str, name: str) -> Path:
        return self.ctx.project.work_dir / "validate" / kind / name

    def failed(self) -> None:
        """A gate failed: with --fail-fast, nothing new starts."""
        if self.fail_fast:
            self.stop.set()

    def runner(self, ws_dir: Path, chdir: Path, label: tuple[str, str], shown: str) -> terraform.Runner:
        # nothing of this machine's AWS setup may reach a plan: no variables, no ~/.aws files, no instance metadata
        extra = dict(aws.NO_LOCAL_AWS_CONFIG)
        if self.ca_file:
            extra.update(SSL_CERT_FILE=self.ca_file, AWS_CA_BUNDLE=self.ca_file)
        return workspace.runner(
            self.ctx.environ,
            terraform_bin=self.ctx.settings.terraform_bin,
            cli_config=self.ctx.cli_config_path,
            chdir=chdir,
            data_dir=ws_dir / "data",
            label=label,
            on_event=lambda e: self.progress.stack_event(shown, e),
            extra=extra,
            emulated=True,
        )


def phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())
