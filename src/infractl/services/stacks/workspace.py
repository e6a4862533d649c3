"""One (env, stack) workspace: staged sources, generated inputs and backend config, a Terraform runner; and
`runner`, the one place any service builds a Terraform runner (workspaces, `infractl validate`, parity's fmt)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import aws, aws_endpoints, files, terraform
from infractl.adapters.emulator import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from infractl.errors import ConfigError, UsageError
from infractl.models.environment import Environment
from infractl.models.runs import Event
from infractl.models.stacks import Stack
from infractl.models.state import StateBackend
from infractl.services.context import Context
from infractl.services.stacks.state import backend_config

OVERRIDE_FILE = "zz_infractl_emulator_override.tf"
# A stack that declares no aws provider block gets this one (an override file cannot add a block).
PROVIDER_FILE = "zz_infractl_emulator_provider.tf"
# Real credentials never go to the emulator, and fake ones never leave it.
AWS_ENV_PREFIXES = ("AWS_",)


@dataclass
class Workspace:
    env: str
    stack: str
    dir: Path
    runner: terraform.Runner
    backend_file: Path
    inputs_file: Path
    _lock_fd: int | None = None

    @property
    def plan_file(self) -> Path:
        return self.dir / "plan.tfplan"

    @property
    def plan_meta(self) -> Path:
        return self.dir / "plan.json"

    def release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def runner(
    environ: Mapping[str, str],
    *,
    terraform_bin: str,
    cli_config: Path,
    chdir: Path,
    data_dir: Path,
    label: tuple[str, str],
    on_event: Callable[[Event], None] | None = None,
    extra: Mapping[str, str] | None = None,
    emulated: bool = False,
) -> terraform.Runner:
    """A Terraform runner in `chdir`: the binary `terraform_bin` names, a child environment built from `environ`
    (this CLI config, its own data dir, `extra` on top), and with `emulated` no AWS_* variable of this machine and no
    ~/.aws file or instance metadata (aws.NO_LOCAL_AWS_CONFIG)."""
    env = terraform.child_env(
        environ,
        cli_config=cli_config,
        data_dir=data_dir,
        extra={**aws.NO_LOCAL_AWS_CONFIG, **(extra or {})} if emulated else extra,
        drop_prefixes=AWS_ENV_PREFIXES if emulated else (),
    )
    events = {"on_event": on_event} if on_event is not None else {}
    return terraform.Runner(binary=terraform.find_binary(terraform_bin), chdir=chdir, env=env, label=label, **events)


def emulator_services(ctx: Context) -> tuple[str, ...]:
    """Every service endpoint of the aws provider version this machine's stacks get (its mirror or plugin cache),
    from the provider's own schema: packaged for known versions, else derived once and cached in the work dir."""
    version = aws_endpoints.local_version([ctx.settings.provider_mirror, ctx.plugin_cache])
    cache = ctx.project.work_dir / "cache" / "aws-endpoints"

    def derive(v: str) -> list[str]:
        env = terraform.child_env(
            ctx.environ,
            cli_config=ctx.cli_config_path,
            data_dir=cache / f"probe-{v}" / ".terraform",
            drop_prefixes=AWS_ENV_PREFIXES,
        )
        return aws_endpoints.derive(terraform.find_binary(ctx.settings.terraform_bin), cache / f"probe-{v}", env, v)[1]

    return aws_endpoints.endpoints(version, cache_dir=cache, derive_version=derive)


def emulator_settings(url: str, access_key: str = FAKE_ACCESS_KEY, services: Sequence[str] | None = None) -> str:
    """The provider arguments that point an aws provider configuration at the emulator: credentials it accepts, and
    every service endpoint the provider has (`services`; default: the newest packaged provider version's) on its one
    URL, so no call of any service reaches an AWS host; no FIPS or dual-stack endpoint variants."""
    names = services if services is not None else aws_endpoints.endpoints(None)
    endpoints = "\n".join(f'    {svc} = "{url}"' for svc in names)
    return (
        f'  access_key                  = "{access_key}"\n'
        + f'  secret_key                  = "{FAKE_SECRET_KEY}"\n'
        + "  skip_metadata_api_check     = true\n"
        + "  s3_use_path_style           = true\n"
        + "  use_fips_endpoint           = false\n"
        + "  use_dualstack_endpoint      = false\n"
        + f"  endpoints {{\n{endpoints}\n  }}\n"
    )


def emulator_override(
    aliases: list[str | None], url: str, access_key: str = FAKE_ACCESS_KEY, services: Sequence[str] | None = None
) -> str:
    """An override file for every aws provider configuration of a root module (default and aliases)."""
    blocks = []
    for alias in aliases:
        alias_line = f'  alias = "{alias}"\n' if alias else ""
        blocks.append('provider "aws" {\n' + alias_line + emulator_settings(url, access_key, services) + "}\n")
    return "# Generated by infractl for the local emulator (loopback only). Not part of the stack.\n" + "\n".join(
        blocks
    )


def emulator_provider(region: str, url: str, services: Sequence[str] | None = None) -> str:
    """The default aws provider configuration, emulated, for a root module that declares none."""
    return (
        "# Generated by infractl for the local emulator (loopback only): the stack declares no aws provider.\n"
        + f'provider "aws" {{\n  region = "{region}"\n'
        + emulator_settings(url, services=services)
        + "}\n"
    )


def resolve_inputs(
    stack: Stack,
    env: Environment,
    upstream: dict[str, dict[str, Any]],
    *,
    manifest_display: str,
    backend: StateBackend | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Terraform variables for one stack from its manifest `inputs`: env.<path>, stack.<name>.<output>, state.<f>.
    Not strict: an upstream output that does not exist is left out instead of failing (used to look at a stack
    whose upstream stacks are already gone)."""
    data = env.model_dump(mode="json")
    values: dict[str, Any] = {}
    for var, ref in stack.spec.inputs.items():
        kind, *path = ref.split(".")
        if kind == "state":
            state_values = backend.model_dump() if backend else {}
            values[var] = state_values.get(path[0])
        elif kind == "env":
            node: Any = data
            for part in path:
                if not isinstance(node, dict) or part not in node:
                    raise ConfigError(
                        f"{manifest_display}: stacks.{stack.name}.inputs.{var}: {ref} is not in environment {env.name}",
                        hint=f"add {'.'.join(path)} to environments/{env.name}.yaml or fix the reference",
                    )
                node = node[part]
            values[var] = node
        else:
            upstream_stack, output = path
            outputs = upstream.get(upstream_stack, {})
            if output not in outputs:
                if not strict:
                    continue
                raise UsageError(
                    f"stack {stack.name} needs output {output!r} of stack {upstream_stack}, which has no such"
                    " output in its state",
                    hint=f"apply {upstream_stack} first: infractl apply {env.name} --stack {upstream_stack}",
                )
            values[var] = outputs[output]["value"]
    return values


def _lock(ws_dir: Path, label: str) -> int:
    """Create the workspace folder (0700: plans, inputs and state caches may hold sensitive values) and hold this
    machine's lock on it; the returned descriptor releases it when closed."""
    ws_dir.mkdir(parents=True, exist_ok=True)
    ws_dir.chmod(0o700)
    fd = os.open(ws_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UsageError(
            f"another infractl run on this machine is using {label}",
            hint="wait for it to finish; workspaces are per (env, stack), so other stacks and envs can run",
        ) from None
    return fd


@contextlib.contextmanager
def hold_workspace(ws_dir: Path, label: str) -> Iterator[Path]:
    """A workspace folder held for the duration of the block."""
    fd = _lock(ws_dir, label)
    try:
        yield ws_dir
    finally:
        os.close(fd)


def open_workspace(
    ctx: Context,
    env: Environment,
    stack: Stack,
    backend: StateBackend,
    inputs: dict[str, Any],
    on_event: Callable[[Event], None],
) -> Workspace:
    """Stage the stack, write inputs and backend config, and hold this machine's lock on the workspace."""
    project = ctx.project
    ws_dir = project.workspace(env.name, stack.name)
    fd = _lock(ws_dir, f"{env.name}/{stack.name}")
    try:
        files.write_private(
            project.work_dir / "terraformrc",
            terraform.cli_config_text(mirror=ctx.settings.provider_mirror, plugin_cache=ctx.plugin_cache),
        )
        ctx.plugin_cache.mkdir(parents=True, exist_ok=True)
        extra_env: dict[str, str] = {}
        generated: dict[str, str] = {}
        emulator_url = None
        if ctx.emulate:
            state = ctx.emulator_state()
            emulator_url = state.url
            aliases = terraform.provider_aliases(project.terraform_dir / "stacks" / stack.spec.path, "aws")
            services = emulator_services(ctx)
            if aliases:
                generated[OVERRIDE_FILE] = emulator_override(aliases, state.url, services=services)
            else:  # the implicit default configuration would reach AWS's own endpoints: declare it, emulated
                generated[PROVIDER_FILE] = emulator_provider(env.region, state.url, services=services)
            # Trust only the emulator's CA (the AWS SDK reads AWS_CA_BUNDLE, Go's TLS reads SSL_CERT_FILE).
            extra_env["SSL_CERT_FILE"] = extra_env["AWS_CA_BUNDLE"] = state.ca_file or ""
        chdir = terraform.stage_root_module(project.terraform_dir, stack.spec.path, ws_dir / "src", generated)
        backend_file = ws_dir / "backend.hcl"
        files.write_private(backend_file, backend_config(backend, stack.name, emulator_url=emulator_url))
        inputs_file = ws_dir / "inputs.tfvars.json"
        files.write_json(inputs_file, inputs)
        tf = runner(
            ctx.environ,
            terraform_bin=ctx.settings.terraform_bin,
            cli_config=ctx.cli_config_path,
            chdir=chdir,
            data_dir=ws_dir / "data",
            label=(env.name, stack.name),
            on_event=on_event,
            extra=extra_env,
            emulated=ctx.emulate,
        )
        return Workspace(env.name, stack.name, ws_dir, tf, backend_file, inputs_file, fd)
    except BaseException:
        os.close(fd)
        raise
