"""The Terraform runner: pure argument builders, one execution path, typed results and errors.

Not the old PyPI wrapper library (unmaintained since 2019; it emits flags Terraform removed):
see docs/adr/0001-own-terraform-runner.md.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from infractl.adapters import process
from infractl.adapters.terraform_env import allowed_env
from infractl.errors import CommandError, ExternalToolError, StateLockedError
from infractl.models.runs import Event

STAGE_SKIP = {".terraform", "terraform.tfstate", "terraform.tfstate.backup", ".terraform.lock.hcl"}


# ---------------------------------------------------------------- argument builders (pure, unit-tested)
@dataclass(frozen=True)
class PlanOptions:
    var_files: Sequence[Path] = ()
    out: Path | None = None
    destroy: bool = False
    lock_timeout: str = "0s"
    refresh: bool = True
    lock: bool = True  # False: a read-only look that must work while a killed run's lock is still held


@dataclass(frozen=True)
class ApplyOptions:
    plan_file: Path | None = None  # apply exactly this saved plan
    var_files: Sequence[Path] = ()  # used only without a plan file
    destroy: bool = False
    lock_timeout: str = "0s"


def build_init_args(*, backend_config: Path | None = None, backend: bool = True) -> list[str]:
    args = ["init", "-input=false", "-no-color", "-reconfigure"]
    if not backend:
        args.append("-backend=false")
    elif backend_config is not None:
        args.append(f"-backend-config={backend_config}")
    return args


def build_plan_args(opts: PlanOptions) -> list[str]:
    args = ["plan", "-json", "-input=false", "-detailed-exitcode"]
    args.append(f"-lock-timeout={opts.lock_timeout}" if opts.lock else "-lock=false")
    if opts.destroy:
        args.append("-destroy")
    if not opts.refresh:
        args.append("-refresh=false")
    args += [f"-var-file={f}" for f in opts.var_files]
    if opts.out is not None:
        args.append(f"-out={opts.out}")
    return args


def build_apply_args(opts: ApplyOptions) -> list[str]:
    args = ["apply", "-json", "-input=false", "-auto-approve", f"-lock-timeout={opts.lock_timeout}"]
    if opts.plan_file is not None:
        if opts.destroy or opts.var_files:
            raise ValueError("a saved plan already fixes the variables and the mode")
        return [*args, str(opts.plan_file)]
    if opts.destroy:
        args.append("-destroy")
    args += [f"-var-file={f}" for f in opts.var_files]
    return args


def build_output_args() -> list[str]:
    return ["output", "-json", "-no-color"]


def build_show_state_args() -> list[str]:
    return ["show", "-json", "-no-color"]


def build_state_rm_args(addresses: Sequence[str], *, lock_timeout: str = "0s") -> list[str]:
    return ["state", "rm", f"-lock-timeout={lock_timeout}", *addresses]


def build_force_unlock_args(lock_id: str) -> list[str]:
    return ["force-unlock", "-force", "-no-color", lock_id]


def build_validate_args() -> list[str]:
    return ["validate", "-json", "-no-color"]


def build_fmt_check_args(directory: Path) -> list[str]:
    """fmt -check on one folder (not recursive: a stack and each module it uses are listed one by one)."""
    return ["fmt", "-check", "-list=true", "-no-color", str(directory)]


def build_show_plan_args(plan_file: Path) -> list[str]:
    return ["show", "-json", "-no-color", str(plan_file)]


def cli_config_text(*, mirror: Path | None, plugin_cache: Path | None) -> str:
    """Terraform CLI configuration: provider installation from a filesystem mirror when given, shared cache."""
    lines = []
    if plugin_cache is not None:
        lines.append(f"plugin_cache_dir = {json.dumps(str(plugin_cache))}")
        lines.append("plugin_cache_may_break_dependency_lock_file = true")
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f"    path    = {json.dumps(str(mirror))}",
            '    include = ["registry.terraform.io/*/*"]',
            "  }",
            "  direct {",
            '    exclude = ["registry.terraform.io/*/*"]',
            "  }",
            "}",
        ]
    return "\n".join(lines) + "\n"


def child_env(
    base: Mapping[str, str],
    *,
    cli_config: Path,
    data_dir: Path,
    extra: Mapping[str, str] | None = None,
    drop_prefixes: Sequence[str] = (),
) -> dict[str, str]:
    """Terraform's environment: the allowed variables of base, less drop_prefixes (e.g. AWS_* when emulating),
    plus what infractl sets and `extra`."""
    env = process.clean_env(allowed_env(base), drop_prefixes=tuple(drop_prefixes))
    env.update(
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_DATA_DIR=str(data_dir),
    )
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class StagedStack:
    """How one stack folder is staged: its files linked except `exclude`, plus `generated` files."""

    generated: Mapping[str, str] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()


def stage_tree(terraform_root: Path, dest: Path, stacks: Mapping[str, StagedStack]) -> dict[str, Path]:
    """Mirror terraform_root under dest with symlinks; each stack folder (a path under stacks/) is a real folder
    holding links to its files plus its generated files. Relative module sources keep resolving; the source tree is
    never written to. Returns the staged folder of each stack."""
    if dest.exists():
        shutil.rmtree(dest)
    leaves = {Path("stacks", rel): rel for rel in stacks}
    real = {parent for leaf in leaves for parent in leaf.parents} | set(leaves)

    def mirror(rel: Path) -> None:
        src, dst = terraform_root / rel, dest / rel
        dst.mkdir(parents=True, exist_ok=True)
        spec = stacks[leaves[rel]] if rel in leaves else None
        for entry in sorted(src.iterdir()):
            child = rel / entry.name
            if child in real and entry.is_dir():
                mirror(child)
            elif spec is None or (entry.name not in STAGE_SKIP and entry.name not in spec.exclude):
                (dst / entry.name).symlink_to(entry.resolve())
        if spec is not None:
            lock = src / ".terraform.lock.hcl"
            if lock.is_file():
                shutil.copy2(lock, dst / lock.name)  # Terraform may rewrite it; the committed one stays as it is
            for name, text in spec.generated.items():
                (dst / name).write_text(text, encoding="utf-8")

    mirror(Path("."))
    return {rel: dest / "stacks" / rel for rel in stacks}


def stage_root_module(terraform_root: Path, stack_rel: str, dest: Path, generated: Mapping[str, str]) -> Path:
    """Stage one stack as a root module (see stage_tree). Returns the staged stack folder."""
    return stage_tree(terraform_root, dest, {stack_rel: StagedStack(generated=dict(generated))})[stack_rel]


def provider_aliases(stack_dir: Path, provider: str) -> list[str | None]:
    """The configurations of `provider` in a root module (None is the default one); empty when there are none."""
    from infractl.adapters import hcl

    return [
        hcl.string_value(block.attributes.get("alias")) or None
        for tf in sorted(stack_dir.glob("*.tf"))
        for block in hcl.read_blocks(tf.read_text(encoding="utf-8"), "provider")
        if block.name == provider
    ]


# ---------------------------------------------------------------- typed results
class PlanResult(BaseModel):
    changes_present: bool
    add: int = 0
    change: int = 0
    destroy: int = 0
    destroyed: list[str] = []  # addresses deleted or replaced
    plan_file: str | None = None


class ApplyResult(BaseModel):
    add: int = 0
    change: int = 0
    destroy: int = 0


# An `apply_complete` message's hook action -> the count it adds to (a replacement is a delete and a create;
# data source reads count as nothing). The same counts as Terraform's closing change_summary.
APPLIED_ACTIONS = {"create": "add", "update": "change", "delete": "destroy"}


@dataclass
class Runner:
    """Runs the terraform binary for one (env, stack) workspace."""

    binary: str
    chdir: Path
    env: dict[str, str]
    label: tuple[str, str]  # (env, stack) for messages
    on_event: Callable[[Event], None] = lambda e: None
    diagnostics: list[dict[str, Any]] = field(default_factory=list)
    applied: ApplyResult = field(default_factory=lambda: ApplyResult())  # what the current/last apply did so far

    def _run(self, args: list[str], *, ok_codes: tuple[int, ...] = (0,), stream: bool = True) -> process.Completed:
        self.diagnostics = []
        argv = [self.binary, f"-chdir={self.chdir}", *args]
        try:
            return process.run(argv, env=self.env, on_line=self._line if stream else None, ok_codes=ok_codes)
        except CommandError as exc:
            raise self._failure(args[0], exc) from None

    def init(self, *, backend_config: Path | None = None, backend: bool = True) -> None:
        self._run(build_init_args(backend_config=backend_config, backend=backend))

    def plan(self, opts: PlanOptions) -> PlanResult:
        self._summary: dict[str, int] = {}
        self._destroyed: list[str] = []
        done = self._run(build_plan_args(opts), ok_codes=(0, 2))
        return PlanResult(
            changes_present=done.returncode == 2,
            add=self._summary.get("add", 0),
            change=self._summary.get("change", 0),
            destroy=self._summary.get("remove", 0),
            destroyed=sorted(set(self._destroyed)),
            plan_file=str(opts.out) if opts.out and done.returncode == 2 else None,
        )

    def apply(self, opts: ApplyOptions) -> ApplyResult:
        """Apply; `self.applied` counts what Terraform really did as it happens (one `apply_complete` message per
        resource), so a failed or interrupted apply still tells what it added, changed and destroyed."""
        self._summary = {}
        self._destroyed = []
        self.applied = ApplyResult()
        self._run(build_apply_args(opts))
        if not self._summary:
            return self.applied.model_copy()
        return ApplyResult(
            add=self._summary.get("add", 0),
            change=self._summary.get("change", 0),
            destroy=self._summary.get("remove", 0),
        )

    def output(self) -> dict[str, Any]:
        done = self._run(build_output_args(), stream=False)
        try:
            return json.loads(done.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise ExternalToolError(f"terraform output returned invalid JSON: {exc}") from None

    def state_resources(self) -> list[dict[str, Any]]:
        """Every resource in the state (root and child modules), as `terraform show -json` describes them."""
        done = self._run(build_show_state_args(), stream=False)
        try:
            doc = json.loads(done.stdout or "{}")
        except json.JSONDecodeError as exc:
            raise ExternalToolError(f"terraform show returned invalid JSON: {exc}") from None
        found: list[dict[str, Any]] = []
        pending = [doc.get("values", {}).get("root_module", {})]
        while pending:
            module = pending.pop()
            found += module.get("resources", [])
            pending += module.get("child_modules", [])
        return found

    def validate(self) -> list[dict[str, Any]]:
        """`terraform validate`: its diagnostics (errors and warnings); empty when the configuration is clean."""
        done = self._run(build_validate_args(), ok_codes=(0, 1), stream=False)
        try:
            doc = json.loads(done.stdout or "{}")
        except json.JSONDecodeError:
            raise ExternalToolError(
                f"terraform validate failed for {self.label[1]}", details=done.stderr.splitlines()[-15:]
            ) from None
        return list(doc.get("diagnostics", []))

    def fmt_check(self, directory: Path) -> tuple[list[Path], list[str]]:
        """(unformatted files, syntax error lines) of one folder; fmt parses every file, so it sees syntax errors.
        Terraform prints the files relative to its -chdir: they are returned resolved against it."""
        done = self._run(build_fmt_check_args(directory), ok_codes=(0, 2, 3), stream=False)
        unformatted = [
            Path(os.path.normpath(self.chdir / line.strip())) for line in done.stdout.splitlines() if line.strip()
        ]
        errors = []
        if done.returncode == 2:
            errors = [
                line.rstrip() for line in done.stderr.splitlines() if line.strip() and not _cli_config_noise(line)
            ]
        return unformatted, errors

    def show_plan(self, plan_file: Path) -> dict[str, Any]:
        done = self._run(build_show_plan_args(plan_file), stream=False)
        try:
            return json.loads(done.stdout)
        except json.JSONDecodeError as exc:
            raise ExternalToolError(f"terraform show returned invalid JSON: {exc}") from None

    def state_rm(self, addresses: Sequence[str]) -> None:
        self._run(build_state_rm_args(addresses), stream=False)

    def force_unlock(self, lock_id: str) -> None:
        self._run(build_force_unlock_args(lock_id), stream=False)

    # ------------------------------------------------------------ machine-readable output
    def _line(self, line: str) -> None:
        try:
            msg = json.loads(line)
        except json.JSONDecodeError:
            if line.strip():
                self.on_event(Event("info", line.strip()))
            return
        if not isinstance(msg, dict):
            return
        kind = msg.get("type", "")
        if kind == "diagnostic":
            diag = msg.get("diagnostic", {})
            self.diagnostics.append(diag)
            level = "error" if diag.get("severity") == "error" else "warn"
            self.on_event(Event(level, diag.get("summary", ""), kind))
        elif kind == "change_summary":
            self._summary = msg.get("changes", {})
            self.on_event(Event("info", msg.get("@message", ""), kind))
        elif kind in ("planned_change", "resource_drift"):
            change = msg.get("change", {})
            if kind == "planned_change" and change.get("action") in ("delete", "replace"):
                self._destroyed.append(change.get("resource", {}).get("addr", "?"))
            self.on_event(Event("info", msg.get("@message", ""), kind))
        elif kind == "apply_complete":
            action = (msg.get("hook") or {}).get("action")
            counter = APPLIED_ACTIONS.get(action or "")
            if counter:
                setattr(self.applied, counter, getattr(self.applied, counter) + 1)
            self.on_event(Event("info", msg.get("@message", ""), kind))
        elif kind in (
            "apply_start",
            "apply_errored",
            "apply_progress",
            "refresh_start",
            "refresh_complete",
            "provision_start",
            "provision_complete",
            "provision_errored",
            "outputs",
            "version",
            "log",
            "init_output",
        ):
            self.on_event(Event("error" if kind.endswith("errored") else "info", msg.get("@message", ""), kind))

    def _failure(self, subcommand: str, exc: CommandError) -> Exception:
        env, stack = self.label
        errors = [d for d in self.diagnostics if d.get("severity") == "error"]
        text = "\n".join(f"{d.get('summary', '')}\n{d.get('detail', '')}" for d in errors) + "\n" + exc.stderr_tail
        lock = parse_lock_info(text)
        if lock is not None:
            return StateLockedError(env=env, stack=stack, **lock)
        details = []
        for d in errors:
            rng = d.get("range") or {}
            where = f"{rng.get('filename')}:{rng.get('start', {}).get('line')}: " if rng.get("filename") else ""
            details.append(f"{where}{d.get('summary', '')}")
            details += [f"  {ln}" for ln in (d.get("detail") or "").splitlines()[:8] if ln.strip()]
        if not errors:
            details = exc.details
        return ExternalToolError(f"terraform {subcommand} failed for {env}/{stack}", details=details)


def _cli_config_noise(line: str) -> bool:
    return "CLI configuration" in line or line.strip() in ("│", "╷", "╵")


LOCK_FIELDS = {"ID": "lock_id", "Who": "who", "Operation": "operation", "Created": "created"}


def parse_lock_info(text: str) -> dict[str, str] | None:
    """The holder of a state lock, from Terraform's "Error acquiring the state lock" diagnostic."""
    if "Error acquiring the state lock" not in text and "Error locking state" not in text:
        return None
    info = {v: "" for v in LOCK_FIELDS.values()}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key in LOCK_FIELDS and not info[LOCK_FIELDS[key]]:
            info[LOCK_FIELDS[key]] = value.strip()
    return info


def find_binary(name: str) -> str:
    """The configured Terraform (INFRACTL_TERRAFORM_BIN: a path, or a name on PATH; default `terraform`)."""
    return process.find_binary(
        "terraform",
        configured=name,
        hint="install Terraform >= 1.9 and put it on PATH, or set INFRACTL_TERRAFORM_BIN",
    )
