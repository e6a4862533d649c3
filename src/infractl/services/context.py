"""What every service needs to reach its targets: the project, the settings, the emulator or the cloud."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infractl.adapters import emulator
from infractl.adapters.aws import AwsTarget
from infractl.errors import CloudError, ConfigError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.settings import Settings


@dataclass
class Context:
    project: Project
    settings: Settings
    emulate: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def emulator_state(self, *, start: bool = False) -> emulator.EmulatorState:
        """The running emulator; started when `start`, else a CloudError telling how to start it."""
        if start:
            state, _ = emulator.start(self.project.emulator_dir)
            return state
        state = emulator.status(self.project.emulator_dir)
        if not state.running:
            raise CloudError(
                "the local AWS emulator is not running",
                hint="start it with `infractl emulator start` (or run `infractl bootstrap ENV --emulate`)",
            )
        return state

    def aws_target(self, env: Environment, *, start_emulator: bool = False) -> AwsTarget:
        if env.cloud != "aws":
            raise ConfigError(
                f"{self.project.rel(self.project.env_file(env.name))}: cloud: {env.cloud!r} stacks are not"
                " deployable by this version of infractl",
                hint="only cloud: aws is implemented so far",
            )
        if not self.emulate:
            return AwsTarget(region=env.region)
        state = self.emulator_state(start=start_emulator)
        return AwsTarget(
            region=env.region,
            endpoint_url=state.url,
            ca_file=state.ca_file,
            access_key=emulator.FAKE_ACCESS_KEY,
            secret_key=emulator.FAKE_SECRET_KEY,
        )

    @property
    def cli_config_path(self) -> Path:
        return self.project.work_dir / "terraformrc"

    @property
    def plugin_cache(self) -> Path:
        return self.settings.plugin_cache_dir or (self.project.work_dir / "plugin-cache")


def load_settings(env_file: Path | None = None) -> Settings:
    """The one loader of INFRACTL_* variables (and of a machine-local settings.env, which variables override); a bad
    value is a ConfigError naming the variable."""
    from pydantic import ValidationError

    from infractl.adapters.files import validation_line

    try:
        return Settings(_env_file=env_file) if env_file else Settings()
    except ValidationError as exc:
        lines = [
            validation_line(f"environment variable INFRACTL_{str(e['loc'][0]).upper()}", {**e, "loc": ()}).replace(
                ": (top level): ", ": "
            )
            for e in exc.errors()
        ]
        raise ConfigError(lines[0], details=lines[1:], hint="fix or unset the variable") from None


def build(*, root: Path | None = None, emulate: bool = False) -> Context:
    """The context of one command: settings, the project (--root, else INFRACTL_ROOT, else found from the working
    folder), emulate mode (--emulate or INFRACTL_EMULATE)."""
    from infractl.services.project import find_project

    settings = load_settings()
    project = find_project(Path.cwd(), root=root or settings.root, work_dir=settings.work_dir)
    local = project.work_dir / "settings.env"
    if local.is_file():  # machine-local defaults (e.g. the provider mirror `make` found); variables win
        settings = load_settings(local)
    return Context(project=project, settings=settings, emulate=emulate or settings.emulate)
