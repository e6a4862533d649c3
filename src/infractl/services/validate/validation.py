"""`infractl validate` and the plans behind `infractl cost`: the CI validation matrix, with no cloud credentials.

Per stack, once whatever the number of envs: `fmt -check` (the stack and every local module it uses), then
`init -backend=false` and `validate` of all stacks in one Terraform run (each error goes to the stacks whose files
hold it; when that cannot be told, each stack is validated on its own, as its own root module). Per env: one plan
of all its stacks against the local emulator from an empty state, in the generated root of services/planroot.py,
split into one plan JSON per stack. Gates on each (stack, env) plan: security (checkov on the sources and on the
plan JSON), tags (services/tagging.py) and cost (services/pricing.py). docs/validate.md explains each.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import json
import os
import re
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infractl.adapters import checkov, emulator, files, terraform
from infractl.adapters.emulator_patches.iam import account_access_key
from infractl.errors import ConfigError, ExternalToolError, InfractlError, UsageError
from infractl.models.environment import Environment
from infractl.models.parity import ParityReport
from infractl.models.runs import Progress
from infractl.models.stacks import Manifest, Stack
from infractl.models.validation import GATES, STATIC_GATES, Cell, EnvCost, Finding, ValidationReport, Waived
from infractl.services import environments, parity
from infractl.services.context import Context
from infractl.services.stacks import graph, tfsource
from infractl.services.stacks.workspace import (
    AWS_ENV_PREFIXES,
    OVERRIDE_FILE,
    emulator_override,
    emulator_settings,
    hold_workspace,
)
from infractl.services.validate import changes, pricing
from infractl.services.validate.planroot import (
    ALIASES_FILE,
    ROOT_DIR,
    aliases_override,
    aws_version,
    escape,
    example_inputs,
    lift_providers,
    split_plan,
)
from infractl.services.validate.tagging import tag_findings

_FIRST_STEP = re.compile(r"(?<![\w.])module\.([A-Za-z0-9_-]+)")  # module.<name> not preceded by another step
_ON_LINE = re.compile(r"\bon (\S+\.tf(?:\.json)?) line (\d+)")  # where Terraform's text diagnostics point


# ---------------------------------------------------------------- the run
@dataclass
class _StackWork:
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
class _Validation:
    ctx: Context
    manifest: Manifest
    envs: dict[str, Environment]
    progress: Progress
    jobs: int
    fail_fast: bool
    gates: tuple[str, ...] = GATES
    stop: threading.Event = field(default_factory=threading.Event)
    init_lock: threading.Lock = field(default_factory=threading.Lock)
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

    def _ws(self, kind: str, name: str) -> Path:
        return self.ctx.project.work_dir / "validate" / kind / name

    def _fail_fast(self) -> None:
        if self.fail_fast:
            self.stop.set()

    def _runner(self, ws_dir: Path, chdir: Path, label: tuple[str, str], shown: str) -> terraform.Runner:
        # nothing of this machine's AWS setup may reach a plan: no variables, no ~/.aws files, no instance metadata
        extra = {
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.ca_file:
            extra.update(SSL_CERT_FILE=self.ca_file, AWS_CA_BUNDLE=self.ca_file)
        env = terraform.child_env(
            self.ctx.environ,
            cli_config=self.ctx.cli_config_path,
            data_dir=ws_dir / "data",
            extra=extra,
            drop_prefixes=AWS_ENV_PREFIXES,
        )
        return terraform.Runner(
            binary=terraform.find_binary(self.ctx.settings.terraform_bin),
            chdir=chdir,
            env=env,
            label=label,
            on_event=lambda e: self.progress.stack_event(shown, e),
        )

    # -------------------------------------------------------- per stack: fmt, init, validate
    def run_fmt(self, work: _StackWork) -> None:
        self.progress.stack_started(work.stack.name, "fmt")
        with work.phase("fmt"):
            fmt_ok = self._fmt(work)
        work.status[("fmt", None)] = "pass" if fmt_ok else "fail"
        if not fmt_ok:
            self._fail_fast()

    def validate_all(self, works: list[_StackWork]) -> bool:
        """`init -backend=false` and `validate` of every stack in one Terraform run (the provider schema is loaded
        once): a generated root calls each stack once, with its own provider blocks. Each error is attributed to
        the stacks whose files hold it. False when that cannot be done (a stack does not even initialise, or an
        error names no file): then each stack is validated on its own."""
        ws_dir = self._ws("all", "stacks")
        began = time.monotonic()
        self.progress.stack_started("validate", f"{len(works)} stack(s)")
        with hold_workspace(ws_dir, "validate/all"):
            staged = terraform.stage_tree(
                self.ctx.project.terraform_dir,
                ws_dir / "src",
                {w.stack.spec.path: terraform.StagedStack() for w in works},
            )
            root = ws_dir / "src" / ROOT_DIR
            root.mkdir()
            calls = {
                w.stack.name: {
                    "source": os.path.relpath(staged[w.stack.spec.path], root),
                    **escape(example_inputs(w.stack, self.envs[w.envs[0]], self.manifest, display=self.display)),
                }
                for w in works
            }
            files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
            runner = self._runner(ws_dir, root, ("-", "all stacks"), "validate")
            try:
                with self.init_lock:
                    runner.init(backend=False)
                diagnostics = runner.validate()
            except InfractlError:
                return False
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        owners = [self._owners(d, works, root) for d in errors]
        if any(not o for o in owners):
            return False
        seconds = round(time.monotonic() - began, 2)
        self.timings["validate all stacks"] = {"init+validate": seconds}
        for diag, found in zip(errors, owners, strict=True):
            for work in found:
                work.findings.append(self._diag_finding(work.stack.name, "validate", diag, None, root))
        failed = {w.stack.name for found in owners for w in found}
        for work in works:
            work.valid = work.stack.name not in failed
            work.status[("validate", None)] = "pass" if work.valid else "fail"
        if failed:
            self._fail_fast()
        self.progress.note(f"validate: {len(works) - len(failed)} of {len(works)} stack(s) valid ({seconds:.1f}s)")
        return True

    def _owners(self, diag: dict[str, Any], works: list[_StackWork], root: Path) -> list[_StackWork]:
        """The stacks an error of a generated root belongs to: the stack its address starts in; else the stack whose
        folder, or whose (transitively used) modules, hold its file; else the stacks its text names as the first
        step of an address (`module.<stack>.`, never a nested `module.<stack>.module.<x>`)."""
        by_name = {w.stack.name: w for w in works}
        parsed = tfsource.parse_address(diag.get("address") or "")
        if parsed is not None and parsed.modules and parsed.modules[0] in by_name:
            return [by_name[parsed.modules[0]]]
        filename = (diag.get("range") or {}).get("filename")
        if filename:
            staged = os.path.normpath(root / filename)
            for work in works:
                if f"/stacks/{work.stack.spec.path}/" in staged:
                    return [work]
            real = Path(os.path.realpath(staged)).parent
            users = [w for w in works if real in {Path(os.path.realpath(d)) for d in self.module_dirs(w)}]
            if users:
                return users
        text = " ".join(str(diag.get(k) or "") for k in ("summary", "detail", "snippet"))
        return [by_name[n] for n in dict.fromkeys(_FIRST_STEP.findall(text)) if n in by_name]

    def module_dirs(self, work: _StackWork) -> list[Path]:
        return tfsource.module_dirs(self.stack_dir(work.stack))

    def run_static(self, work: _StackWork) -> None:
        """init -backend=false and validate of one stack as its own root module."""
        if self.stop.is_set():
            return
        name = work.stack.name
        ws_dir = self._ws("stacks", name)
        with hold_workspace(ws_dir, f"validate/stacks/{name}"):
            staged = terraform.stage_root_module(
                self.ctx.project.terraform_dir, work.stack.spec.path, ws_dir / "src", {}
            )
            runner = self._runner(ws_dir, staged, ("-", name), name)
            self.progress.stack_started(name, "init + validate")
            with work.phase("init+validate"):
                work.valid = self._validate(work, runner, staged)
        work.status[("validate", None)] = "pass" if work.valid else "fail"
        if not work.valid:
            self._fail_fast()
        self.timings[f"stack {name}"] = work.timings
        self.progress.note(f"{name}: {'valid' if work.valid else 'invalid'} ({_phases(work.timings)})")

    def _fmt(self, work: _StackWork) -> bool:
        stack_dir = self.stack_dir(work.stack)
        runner = self._runner(self.ctx.project.work_dir, stack_dir, ("-", work.stack.name), work.stack.name)
        found: list[Finding] = []

        def add(rule: str, message: str, file: str, line: int = 0) -> None:
            found.append(
                Finding(gate="fmt", rule=rule, stack=work.stack.name, env=None, message=message, file=file, line=line)
            )

        for directory in tfsource.module_dirs(stack_dir):
            unformatted, errors = runner.fmt_check(directory)
            for full in unformatted:
                add("unformatted", "not in canonical format: run `terraform fmt` on it", self.rel(full))
            if errors:
                where = _ON_LINE.search("\n".join(errors))
                file = self.rel(directory / where.group(1)) if where else self.rel(directory)
                add("syntax", " ".join(" ".join(errors[:6]).split()), file, int(where.group(2)) if where else 0)
        work.findings += found
        return not found

    def _validate(self, work: _StackWork, runner: terraform.Runner, chdir: Path) -> bool:
        try:
            with self.init_lock:  # one shared plugin cache, which Terraform does not lock
                runner.init(backend=False)
            diagnostics = runner.validate()
        except InfractlError as exc:
            work.findings.append(self._tool_finding(work.stack.name, "validate", exc, chdir))
            return False
        errors = [d for d in diagnostics if d.get("severity") == "error"]
        for diag in errors:
            work.findings.append(self._diag_finding(work.stack.name, "validate", diag, None, chdir))
        return not errors

    # -------------------------------------------------------- per env: one plan of every stack
    def run_env(self, env_name: str, works: list[_StackWork]) -> None:
        pending = [w for w in works if w.valid and env_name in w.envs]
        if not pending or self.stop.is_set():
            return
        ws_dir = self._ws("envs", env_name)
        timings: dict[str, float] = {}
        with hold_workspace(ws_dir, f"validate/envs/{env_name}"):
            while pending and not self.stop.is_set():
                chdir = self._stage_env(env_name, pending, ws_dir)
                label = (env_name, "+".join(w.stack.name for w in pending))
                runner = self._runner(ws_dir, chdir, label, f"plan {env_name}")
                self.progress.stack_started(f"plan {env_name}", f"{len(pending)} stack(s)")
                began = time.monotonic()
                failed = self._plan_env(env_name, pending, runner, ws_dir, chdir)
                timings["plan+show"] = round(timings.get("plan+show", 0.0) + time.monotonic() - began, 2)
                if not failed:
                    break
                self._fail_fast()
                pending = [w for w in pending if w not in failed]  # plan the others again, without them
        self.timings[f"plan {env_name}"] = timings
        self.progress.note(f"plan {env_name}: done ({_phases(timings)})")

    def _stage_env(self, env_name: str, pending: list[_StackWork], ws_dir: Path) -> Path:
        """The generated root: every pending stack as a module with the env's inputs, and the lifted provider
        configurations, one per distinct rendered block."""
        env = self.envs[env_name]
        shared: dict[str, tuple[str, str]] = {}  # normalized body -> (root alias, body)
        staging: dict[str, terraform.StagedStack] = {}
        calls: dict[str, dict[str, Any]] = {}
        for work in pending:
            stack_dir = self.stack_dir(work.stack)
            inputs = example_inputs(work.stack, env, self.manifest, display=self.display)
            lifted = lift_providers(stack_dir, inputs)
            call: dict[str, Any] = {}
            if lifted is not None:
                mapping = {}
                for alias, body in lifted.blocks:
                    key = " ".join(body.split())
                    root_alias = shared.setdefault(key, (f"p{len(shared) + 1}", body))[0]
                    mapping["aws" if alias is None else f"aws.{alias}"] = f"aws.{root_alias}"
                aliases = [a for a, _ in lifted.blocks if a]
                generated = {ALIASES_FILE: aliases_override(aliases, aws_version(stack_dir))} if aliases else {}
                staging[work.stack.spec.path] = terraform.StagedStack(generated=generated, exclude=lifted.files)
                call["providers"] = mapping
            else:  # the stack keeps its own provider configurations, pointed at the emulator
                own = terraform.provider_aliases(stack_dir, "aws")
                key = account_access_key(env.account)  # the env's own account (emulator patch iam.py)
                override = {OVERRIDE_FILE: emulator_override(own, self.emulator_url, key)} if own else {}
                staging[work.stack.spec.path] = terraform.StagedStack(generated=override)
            calls[work.stack.name] = {**call, **escape(inputs)}
        staged = terraform.stage_tree(self.ctx.project.terraform_dir, ws_dir / "src", staging)
        root = ws_dir / "src" / ROOT_DIR
        root.mkdir()
        for work in pending:
            source = os.path.relpath(staged[work.stack.spec.path], root)
            calls[work.stack.name] = {"source": source, **calls[work.stack.name]}
        settings = emulator_settings(self.emulator_url, account_access_key(env.account))
        providers = "".join(
            f'provider "aws" {{\n  alias = "{alias}"\n{textwrap.indent(body, "  ")}\n\n{settings}}}\n\n'
            for alias, body in shared.values()
        )
        header = "# Generated by infractl validate: the stacks' provider blocks, rendered for this env.\n\n"
        files.write_private(root / "providers.tf", header + providers)
        files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
        return root

    def _plan_env(
        self, env_name: str, pending: list[_StackWork], runner: terraform.Runner, ws_dir: Path, chdir: Path
    ) -> list[_StackWork]:
        """Plan and split per stack. Returns the stacks the plan's errors belong to (every pending one when the
        errors name none)."""
        plan_file = ws_dir / "plan.tfplan"
        try:
            with self.init_lock:
                runner.init(backend=False)
            runner.plan(terraform.PlanOptions(out=plan_file, refresh=False))
            doc = runner.show_plan(plan_file)
        except InfractlError as exc:
            return self._plan_failed(env_name, pending, runner, exc, chdir)
        for work in pending:
            plan = split_plan(doc, work.stack.name)
            path = ws_dir / f"{work.stack.name}.plan.json"
            files.write_private(path, json.dumps(plan, indent=1))
            work.plans[env_name] = path
            work.status[("plan", env_name)] = "pass"
            if "tags" in self.gates:
                tag_problems = tag_findings(plan, self.envs[env_name], work.stack.name)
                work.findings += [self._locate(work.stack, f) for f in tag_problems]
                work.status[("tags", env_name)] = "fail" if tag_problems else "pass"
        return []

    def _plan_failed(
        self, env_name: str, pending: list[_StackWork], runner: terraform.Runner, exc: InfractlError, chdir: Path
    ) -> list[_StackWork]:
        diags = [d for d in runner.diagnostics if d.get("severity") == "error"]
        failed: dict[str, _StackWork] = {}
        unattributed = []
        for diag in diags:
            owners = self._owners(diag, pending, chdir)
            if not owners:
                unattributed.append(diag)
            for work in owners:
                failed[work.stack.name] = work
                work.findings.append(self._diag_finding(work.stack.name, "plan", diag, env_name, chdir))
        if unattributed or not diags:
            with self.lock:
                if diags:
                    self.env_findings += [self._diag_finding("*", "plan", d, env_name, chdir) for d in unattributed]
                else:
                    self.env_findings.append(
                        self._tool_finding("*", "plan", exc, chdir).model_copy(update={"env": env_name})
                    )
            failed = {w.stack.name: w for w in pending}
        for work in failed.values():
            work.status[("plan", env_name)] = "fail"
        return list(failed.values())

    def _diag_finding(self, stack: str, gate: str, diag: dict[str, Any], env: str | None, chdir: Path) -> Finding:
        rng = diag.get("range") or {}
        file, line = "", 0
        if rng.get("filename"):
            file = self.rel(chdir / rng["filename"])
            line = int(rng.get("start", {}).get("line") or 0)
        detail = " ".join((diag.get("detail") or "").split())
        address = diag.get("address") or ""
        if address.startswith(f"module.{stack}."):
            address = address[len(f"module.{stack}.") :]
        return Finding(
            gate=gate,  # type: ignore[arg-type]
            rule="terraform-error",
            stack=stack,
            env=env,
            message=f"{diag.get('summary', '')}{': ' + detail if detail else ''}",
            address=address,
            file=file,
            line=line,
        )

    def _tool_finding(self, stack: str, gate: str, exc: InfractlError, chdir: Path) -> Finding:
        """A failed command without JSON diagnostics (e.g. init): the first `on FILE line N` names the place."""
        text = "\n".join([exc.message, *exc.details])
        where = _ON_LINE.search(text)
        file, line = "", 0
        if where:
            file, line = self.rel(chdir / where.group(1)), int(where.group(2))
        return Finding(
            gate=gate,  # type: ignore[arg-type]
            rule="terraform-error",
            stack=stack,
            env=None,
            message=" ".join(" ".join([exc.message, *exc.details[:8]]).split()),
            file=file,
            line=line,
        )

    def place(self, finding: Finding) -> Finding:
        """Every finding gets a file (code scanning refuses a result without one): where its resource is declared,
        else its stack's main file, its environment file, or the stack manifest."""
        if finding.stack in self.manifest.stacks:
            finding = self._locate(Stack(name=finding.stack, spec=self.manifest.stacks[finding.stack]), finding)
        if finding.file:
            return finding
        if finding.stack in self.manifest.stacks:
            stack_dir = self.stack_dir(Stack(name=finding.stack, spec=self.manifest.stacks[finding.stack]))
            main = stack_dir / "main.tf"
            return finding.model_copy(update={"file": self.rel(main if main.is_file() else stack_dir)})
        if finding.env:
            return finding.model_copy(update={"file": f"environments/{finding.env}.yaml"})
        return finding.model_copy(update={"file": self.display})

    def _locate(self, stack: Stack, finding: Finding) -> Finding:
        if not finding.address or finding.file:
            return finding
        where, _ = tfsource.locate(self.stack_dir(stack), finding.address)
        if where is None:
            return finding
        return finding.model_copy(update={"file": self.rel(where.file), "line": where.line})

    # -------------------------------------------------------- parity
    def run_parity(self, works: list[_StackWork]) -> tuple[ParityReport, list[Finding]]:
        """The contract check of every cloud's stacks (what `infractl parity --check` does), as findings."""
        began = time.monotonic()
        report = parity.run(
            self.ctx.project,
            environ=dict(self.ctx.environ),
            terraform_bin=self.ctx.settings.terraform_bin,
            cli_config=self.ctx.cli_config_path,
            write=False,
        )
        self.timings["parity"] = {"check": round(time.monotonic() - began, 2)}
        found = [
            Finding(
                gate="parity",
                rule=v.rule,
                stack=v.stack if v.cloud in self.deployed_clouds else f"{v.cloud}/{v.stack}",
                env=None,
                message=v.message,
                file=v.file,
                line=v.line,
            )
            for v in report.violations
        ]
        if report.docs == "stale":
            found.append(
                Finding(
                    gate="parity",
                    rule="stale-docs",
                    stack="*",
                    env=None,
                    message="docs/parity.md differs from what `infractl parity` generates: run it, commit the result",
                    file=str(parity.DOC),
                )
            )
        for work in works:
            work.status[("parity", None)] = "pass"
        unvalidated = [c.cloud for c in report.clouds if not c.schema_validated]
        if unvalidated:
            self.progress.note(
                f"parity: {', '.join(unvalidated)} not validated against the provider schema"
                " (fmt, HCL, contract and checkov only)"
            )
        return report, found

    # -------------------------------------------------------- security
    def source_scan(self, works: list[_StackWork], binary: str) -> tuple[list[Finding], list[Waived]]:
        """checkov on each stack's sources (local modules followed); every inline skip must give a reason."""
        found: list[Finding] = []
        seen: set[tuple[str, str, str]] = set()
        others = self.other_cloud_stacks()
        scanned = [(w.stack.name, self.stack_dir(w.stack)) for w in works] + list(others.items())
        for name, stack_dir in scanned:
            for directory in tfsource.module_dirs(stack_dir):
                for skip in tfsource.skips_in(directory):
                    key = (name, str(skip.file), str(skip.line))
                    if skip.reason or key in seen:
                        continue
                    seen.add(key)
                    found.append(
                        Finding(
                            gate="security",
                            rule="skip-without-reason",
                            stack=name,
                            env=None,
                            message=f"checkov:skip={skip.check_id} gives no reason: write"
                            f" `#checkov:skip={skip.check_id}:<why this check does not apply>`",
                            file=self.rel(skip.file),
                            line=skip.line,
                        )
                    )
        self.progress.note(f"checkov: sources of {len(works)} stack(s)")
        results = self._checkov(binary, "sources", directory=self.ctx.project.terraform_dir / "stacks")
        by_dir = {self.stack_dir(w.stack).resolve(): w.stack.name for w in works}
        other_dirs = {d.resolve(): name for name, d in others.items()}
        waived: list[Waived] = []
        for result in results:
            if result.status == "passed":
                continue
            owners = self._stacks_of(result, by_dir) or self._stacks_of(result, other_dirs)
            for name in owners:
                if result.status == "skipped":
                    where = f"{self.rel(result.file)}:{result.lines[0]}"
                    waived.append(_waived(result, name, None, result.reason, where))
                    continue
                found.append(_checkov_finding(result, name, None, self.rel(result.file), result.lines[0]))
        return found, waived

    def other_cloud_stacks(self) -> dict[str, Path]:
        """ "<cloud>/<stack>" -> folder of every stack of a cloud the environments don't deploy (checked statically:
        checkov here, the contract in run_parity)."""
        stacks_root = self.ctx.project.terraform_dir / "stacks"
        return {
            f"{d.parent.name}/{d.name}": d
            for d in sorted(stacks_root.glob("*/*"))
            if d.parent.name not in self.deployed_clouds and not d.name.startswith("_") and any(d.glob("*.tf"))
        }

    def _checkov(self, binary: str, scan: str, **target: Any) -> list[checkov.Result]:
        """One timed checkov run, passed and skipped results included (the caller needs both)."""
        began = time.monotonic()
        results = checkov.scan(
            binary, scratch=self._ws("checkov", scan), base_env=self.ctx.environ, with_passed=True, **target
        )
        self.timings[f"checkov {scan}"] = {"scan": round(time.monotonic() - began, 2)}
        return results

    def _stacks_of(self, result: checkov.Result, by_dir: dict[Path, str]) -> list[str]:
        """The stacks a source finding belongs to: the stack folder holding the file, or the stacks whose module call
        named first in the address leads to the module holding it."""
        file = Path(os.path.realpath(result.file)) if result.file else None
        parsed = tfsource.parse_address(result.resource)
        owners = []
        for stack_dir, name in by_dir.items():
            if file is not None and file.parent == stack_dir and (parsed is None or not parsed.modules):
                owners.append(name)
            elif parsed is not None and parsed.modules:
                module_dir = tfsource.module_dir_of(stack_dir, parsed.modules)
                if module_dir is not None and file is not None and file.parent == module_dir.resolve():
                    owners.append(name)
        return owners

    def plan_scan(
        self, works: list[_StackWork], binary: str
    ) -> tuple[list[Finding], list[Waived], set[tuple[str, str, str, tuple[Any, ...]]]]:
        """checkov on every env's plan JSON in one run. Also returns what it evaluated, (stack, env, check,
        resource), so a source finding the plans judged with real values is not reported twice."""
        plans = [(w, env, path) for w in works for env, path in w.plans.items()]
        if not plans:
            return [], [], set()
        self.progress.note(f"checkov: {len(plans)} plan(s)")
        results = self._checkov(binary, "plans", plan_files=[p for _, _, p in plans])
        for work, env, _ in plans:
            work.status[("security", env)] = "pass"  # scanned; findings below make the cell fail
        owner = {str(p.resolve()): (w, env) for w, env, p in plans}
        found: list[Finding] = []
        waived: list[Waived] = []
        evaluated: set[tuple[str, str, str, tuple[Any, ...]]] = set()
        for result in results:
            if str(Path(result.file).resolve()) not in owner:
                continue
            work, env = owner[str(Path(result.file).resolve())]
            evaluated.add((work.stack.name, env, result.check_id, _resource_key(result.resource)))
            if result.status != "failed":
                continue
            inline = tfsource.inline_skip(self.stack_dir(work.stack), result.resource, result.check_id)
            if inline is not None:
                if inline.reason:  # without one, source_scan already failed the gate on the comment itself
                    where = f"{self.rel(inline.file)}:{inline.line}"
                    waived.append(_waived(result, work.stack.name, env, inline.reason, where))
                continue
            env_skip = next(
                (
                    s
                    for s in self.envs[env].validation.skip_checks
                    if s.check == result.check_id
                    and fnmatch.fnmatchcase(work.stack.name, s.stack)
                    and fnmatch.fnmatchcase(result.resource, s.address)
                ),
                None,
            )
            if env_skip is not None:
                where = f"environments/{env}.yaml: validation.skip_checks"
                waived.append(_waived(result, work.stack.name, env, env_skip.reason, where))
                continue
            found.append(_checkov_finding(result, work.stack.name, env))  # located at the end, with the others
        return found, waived, evaluated


def _checkov_finding(result: checkov.Result, stack: str, env: str | None, file: str = "", line: int = 0) -> Finding:
    scope = "plan" if env else "sources"
    return Finding(
        gate="security",
        rule=result.check_id,
        stack=stack,
        env=env,
        message=f"{result.name} (checkov, {scope}){_guide(result)}",
        address=result.resource,
        file=file,
        line=line,
    )


def _waived(result: checkov.Result, stack: str, env: str | None, reason: str, where: str) -> Waived:
    return Waived(check=result.check_id, stack=stack, env=env, address=result.resource, reason=reason, where=where)


def _resource_key(address: str) -> tuple[Any, ...]:
    """A resource without its instance keys: plans name instances (`x["a"]`), sources name blocks (`x`)."""
    parsed = tfsource.parse_address(address)
    return (parsed.modules, parsed.mode, parsed.type, parsed.name) if parsed else (address,)


def superseded(
    finding: Finding, planned_envs: list[str], evaluated: set[tuple[str, str, str, tuple[Any, ...]]]
) -> bool:
    """A source finding whose check the plan scan evaluated for the same resource in every planned env: the plans,
    which carry each env's real values, decide (sources leave variables unresolved)."""
    key = _resource_key(finding.address)
    return bool(planned_envs) and all((finding.stack, e, finding.rule, key) in evaluated for e in planned_envs)


def _guide(result: checkov.Result) -> str:
    return f" — {result.guideline}" if result.guideline else ""


# ---------------------------------------------------------------- entry points
def select_cells(
    ctx: Context,
    manifest: Manifest,
    env_names: list[str],
    stack_names: list[str],
    changed_since: str | None,
) -> dict[str, list[str]]:
    """stack -> envs to validate, in dependency order."""
    order = graph.topo_order(manifest)
    for name in stack_names:
        if name not in manifest.stacks:
            raise UsageError(f"unknown stack {name!r}", hint=f"stacks: {', '.join(order)}")
    chosen = [s for s in order if not stack_names or s in stack_names]
    if changed_since is None:
        return {s: list(env_names) for s in chosen}
    affected = changes.affected_cells(ctx.project, manifest, changed_since, env_names)
    return {s: [e for e in env_names if e in affected.get(s, set())] for s in chosen if affected.get(s)}


def run(
    ctx: Context,
    *,
    envs: list[str],
    stacks: list[str],
    changed_since: str | None,
    jobs: int,
    fail_fast: bool,
    progress: Progress,
    gates: tuple[str, ...] = GATES,
) -> ValidationReport:
    started = time.monotonic()
    manifest = graph.load_manifest(ctx.project)
    known = environments.names(ctx.project)
    if not known:
        raise ConfigError(f"{ctx.project.rel(ctx.project.environments_dir)}: no environment files (<name>.yaml)")
    for name in envs:
        if name not in known:
            raise UsageError(f"unknown environment {name!r}", hint=f"environments: {', '.join(known)}")
    env_names = envs or known
    loaded = {name: environments.load(ctx.project, name) for name in env_names}
    for env in loaded.values():
        if env.cloud != "aws":
            raise ConfigError(f"environments/{env.name}.yaml: cloud: {env.cloud!r} cannot be validated yet")
    cells = select_cells(ctx, manifest, env_names, stacks, changed_since)
    catalog = pricing.load_catalog(ctx.project) if "cost" in gates else None
    v = _Validation(ctx, manifest, loaded, progress, max(1, jobs), fail_fast, gates)
    works = [_StackWork(Stack(name=s, spec=manifest.stacks[s]), e) for s, e in cells.items()]
    checkov_bin = ""
    if not works:
        deployed = v.deployed_clouds
        if changed_since is None or not changes.touches_parity(ctx.project, changed_since, deployed):
            progress.note(f"nothing to validate: no stack changed since {changed_since}")
            return ValidationReport(
                envs=env_names, stacks=[], cells=[], findings=[], waived=[], costs={}, changed_since=changed_since
            )
        progress.note(f"no {'/'.join(sorted(deployed))} stack changed since {changed_since}: parity and checkov only")
        return _static_only(v, ctx, gates, env_names, changed_since, started)
    if "security" in gates:
        checkov_bin = checkov.find_binary(ctx.project.root, ctx.settings.checkov_bin)
    with _emulator(ctx, progress) as (url, ca_file):
        v.emulator_url, v.ca_file = url, ca_file
        files.write_private(
            ctx.cli_config_path,
            terraform.cli_config_text(mirror=ctx.settings.provider_mirror, plugin_cache=ctx.plugin_cache),
        )
        ctx.plugin_cache.mkdir(parents=True, exist_ok=True)
        source: list[Finding] = []
        waived: list[Waived] = []
        parity_report, parity_findings = None, []
        with ThreadPoolExecutor(max_workers=v.jobs, thread_name_prefix="validate") as pool:
            source_future = pool.submit(v.source_scan, works, checkov_bin) if "security" in gates else None
            parity_future = pool.submit(v.run_parity, works) if "parity" in gates else None
            for future in [pool.submit(v.run_fmt, work) for work in works]:
                future.result()
            if not v.stop.is_set() and not pool.submit(v.validate_all, works).result():
                for future in [pool.submit(_guarded_static, v, work) for work in works]:
                    future.result()
            if "plan" in gates and not v.stop.is_set():
                planned_envs = [e for e in env_names if any(e in w.envs for w in works)]
                for future in [pool.submit(_guarded_env, v, e, works) for e in planned_envs]:
                    future.result()
            if source_future is not None:
                source, waived = source_future.result()
            if parity_future is not None:
                parity_report, parity_findings = parity_future.result()
        security = source
        if "security" in gates and not v.stop.is_set():
            plan_findings, plan_waived, evaluated = v.plan_scan(works, checkov_bin)
            waived += plan_waived
            planned = {w.stack.name: list(w.plans) for w in works}
            security = [
                f
                for f in source
                if f.rule == "skip-without-reason" or not superseded(f, planned.get(f.stack, []), evaluated)
            ] + plan_findings
    findings = [f for w in works for f in w.findings] + v.env_findings + parity_findings + security
    costs: dict[str, EnvCost] = {}
    if catalog is not None:
        for env_name in env_names:
            planned = {w.stack.name: w.plans[env_name] for w in works if env_name in w.plans}
            if not planned:
                continue
            complete = set(planned) == set(manifest.stacks)
            costs[env_name] = pricing.estimate(
                catalog, loaded[env_name], {s: json.loads(p.read_text()) for s, p in planned.items()}, complete
            )
            findings += pricing.findings(costs[env_name], catalog)
    findings = [v.place(f) for f in findings]
    report_cells = _cells(works, findings, costs, gates)
    return ValidationReport(
        envs=env_names,
        stacks=list(cells),
        cells=report_cells,
        findings=findings,
        waived=waived,
        costs=costs,
        duration_s=round(time.monotonic() - started, 1),
        jobs=v.jobs,
        changed_since=changed_since,
        timings=v.timings,
        parity=parity_report,
    )


def _static_only(
    v: _Validation, ctx: Context, gates: tuple[str, ...], env_names: list[str], changed_since: str, started: float
) -> ValidationReport:
    """A change touching only contracts or the other clouds' code: the parity check and the checkov source scan."""
    parity_report, findings = v.run_parity([]) if "parity" in gates else (None, [])
    waived: list[Waived] = []
    if "security" in gates:
        source, waived = v.source_scan([], checkov.find_binary(ctx.project.root, ctx.settings.checkov_bin))
        findings += source
    return ValidationReport(
        envs=env_names,
        stacks=[],
        cells=[],
        findings=[v.place(f) for f in findings],
        waived=waived,
        costs={},
        duration_s=round(time.monotonic() - started, 1),
        jobs=v.jobs,
        changed_since=changed_since,
        timings=v.timings,
        parity=parity_report,
    )


def _guarded_static(v: _Validation, work: _StackWork) -> None:
    try:
        v.run_static(work)
    except InfractlError as exc:
        work.findings.append(v._tool_finding(work.stack.name, "validate", exc, v.stack_dir(work.stack)))
        work.status[("validate", None)] = "fail"


def _guarded_env(v: _Validation, env: str, works: list[_StackWork]) -> None:
    try:
        v.run_env(env, works)
    except InfractlError as exc:
        finding = v._tool_finding("*", "plan", exc, v.ctx.project.root).model_copy(update={"env": env})
        v.env_findings.append(finding)
        for work in works:
            if env in work.envs:
                work.status[("plan", env)] = "fail"


def _phases(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}s" for k, v in timings.items())


def _cells(
    works: list[_StackWork], findings: list[Finding], costs: dict[str, EnvCost], gates: tuple[str, ...]
) -> list[Cell]:
    cells = []
    for work in works:
        for env in work.envs:
            status: dict[str, str] = {}
            for gate in GATES:
                if gate not in gates:
                    continue
                relevant = [
                    f for f in findings if f.gate == gate and f.stack == work.stack.name and f.env in (None, env)
                ] + [f for f in findings if f.gate == gate and f.stack == "*" and f.env == env]
                ran = (gate, None if gate in STATIC_GATES else env) in work.status or (
                    gate == "cost" and env in work.plans
                )
                status[gate] = "fail" if relevant else ("pass" if ran else "not-run")
            cost = costs.get(env)
            cells.append(
                Cell(
                    stack=work.stack.name,
                    env=env,
                    gates=status,  # type: ignore[arg-type]
                    monthly_usd=cost.stack_total(work.stack.name) if cost and env in work.plans else None,
                )
            )
    return cells


class _emulator:
    """The running emulator of this work folder, or one started for this run and stopped after it."""

    def __init__(self, ctx: Context, progress: Progress) -> None:
        self.dir = ctx.project.emulator_dir
        self.progress = progress
        self.started = False

    def __enter__(self) -> tuple[str, str]:
        state, self.started = emulator.start(self.dir)
        if self.started:
            self.progress.note(f"started the local AWS emulator for the plans: {state.url}")
        return state.url or "", state.ca_file or ""

    def __exit__(self, *exc: object) -> None:
        if self.started:
            emulator.stop(self.dir)


def plans_for_cost(
    ctx: Context, env_names: list[str], stacks: list[str], progress: Progress, jobs: int
) -> tuple[dict[str, EnvCost], list[Finding]]:
    """`infractl cost`: plan the envs (no security gate) and price them."""
    report = run(
        ctx,
        envs=env_names,
        stacks=stacks,
        changed_since=None,
        jobs=jobs,
        fail_fast=False,
        progress=progress,
        gates=("fmt", "validate", "plan", "cost"),
    )
    blocking = [f for f in report.findings if f.gate in ("validate", "plan")]
    if blocking:
        first = blocking[0]
        raise ExternalToolError(
            f"cannot estimate: {first.gate} failed for {first.stack}{'/' + first.env if first.env else ''}",
            details=[f"{f.stack}: {f.message}" for f in blocking[:10]],
            hint="run `infractl validate` for the full report",
        )
    return report.costs, report.findings
