"""The static gates, once per stack whatever the number of envs: `terraform fmt -check` (the stack and every local
module it uses); `init -backend=false` + `validate` of all stacks in one Terraform run, each error going to the
stacks whose files hold it (when that cannot be told, each stack is validated on its own, as its own root module);
and the parity contract check of every cloud's stacks (services/parity/), as findings.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from infractl.adapters import files, terraform
from infractl.errors import InfractlError
from infractl.models.parity import ParityReport
from infractl.models.validation import Finding
from infractl.services.parity import matrix as parity_matrix
from infractl.services.parity import run as parity
from infractl.services.stacks import tfsource
from infractl.services.stacks.workspace import hold_workspace
from infractl.services.validate.placement import ON_LINE, diag_finding, owners, tool_finding
from infractl.services.validate.planroot import ROOT_DIR, escape, example_inputs
from infractl.services.validate.runstate import RunState, StackWork, phases


# ---------------------------------------------------------------- fmt
def run_fmt(v: RunState, work: StackWork) -> None:
    v.progress.stack_started(work.stack.name, "fmt")
    with work.phase("fmt"):
        fmt_ok = _fmt(v, work)
    work.status[("fmt", None)] = "pass" if fmt_ok else "fail"
    if not fmt_ok:
        v.failed()


def _fmt(v: RunState, work: StackWork) -> bool:
    stack_dir = v.stack_dir(work.stack)
    runner = v.runner(v.ctx.project.work_dir, stack_dir, ("-", work.stack.name), work.stack.name)
    found: list[Finding] = []

    def add(rule: str, message: str, file: str, line: int = 0) -> None:
        found.append(
            Finding(gate="fmt", rule=rule, stack=work.stack.name, env=None, message=message, file=file, line=line)
        )

    for directory in tfsource.module_dirs(stack_dir):
        unformatted, errors = runner.fmt_check(directory)
        for full in unformatted:
            add("unformatted", "not in canonical format: run `terraform fmt` on it", v.rel(full))
        if errors:
            where = ON_LINE.search("\n".join(errors))
            file = v.rel(directory / where.group(1)) if where else v.rel(directory)
            add("syntax", " ".join(" ".join(errors[:6]).split()), file, int(where.group(2)) if where else 0)
    work.findings += found
    return not found


# ---------------------------------------------------------------- init + validate
def validate_all(v: RunState, works: list[StackWork]) -> bool:
    """`init -backend=false` and `validate` of every stack in one Terraform run (the provider schema is loaded
    once): a generated root calls each stack once, with its own provider blocks. Each error is attributed to
    the stacks whose files hold it. False when that cannot be done (a stack does not even initialise, or an
    error names no file): then each stack is validated on its own (validate_each)."""
    ws_dir = v.ws("all", "stacks")
    began = time.monotonic()
    v.progress.stack_started("validate", f"{len(works)} stack(s)")
    with hold_workspace(ws_dir, "validate/all"):
        staged = terraform.stage_tree(
            v.ctx.project.terraform_dir,
            ws_dir / "src",
            {w.stack.spec.path: terraform.StagedStack() for w in works},
        )
        root = ws_dir / "src" / ROOT_DIR
        root.mkdir()
        calls = {
            w.stack.name: {
                "source": os.path.relpath(staged[w.stack.spec.path], root),
                **escape(example_inputs(w.stack, v.envs[w.envs[0]], v.manifest, display=v.display)),
            }
            for w in works
        }
        files.write_private(root / "main.tf.json", json.dumps({"module": calls}, indent=1))
        runner = v.runner(ws_dir, root, ("-", "all stacks"), "validate")
        try:
            with v.init_lock:
                runner.init(backend=False)
            diagnostics = runner.validate()
        except InfractlError:
            return False
    errors = [d for d in diagnostics if d.get("severity") == "error"]
    found = [owners(v, d, works, root) for d in errors]
    if any(not o for o in found):
        return False
    seconds = round(time.monotonic() - began, 2)
    v.timings["validate all stacks"] = {"init+validate": seconds}
    for diag, stacks in zip(errors, found, strict=True):
        for work in stacks:
            work.findings.append(diag_finding(v, work.stack.name, "validate", diag, None, root))
    failed = {w.stack.name for stacks in found for w in stacks}
    for work in works:
        work.valid = work.stack.name not in failed
        work.status[("validate", None)] = "pass" if work.valid else "fail"
    if failed:
        v.failed()
    v.progress.note(f"validate: {len(works) - len(failed)} of {len(works)} stack(s) valid ({seconds:.1f}s)")
    return True


def validate_each(v: RunState, work: StackWork) -> None:
    """init -backend=false and validate of one stack as its own root module; a failed command is a finding."""
    try:
        _validate_one(v, work)
    except InfractlError as exc:
        work.findings.append(tool_finding(v, work.stack.name, "validate", exc, v.stack_dir(work.stack)))
        work.status[("validate", None)] = "fail"


def _validate_one(v: RunState, work: StackWork) -> None:
    if v.stop.is_set():
        return
    name = work.stack.name
    ws_dir = v.ws("stacks", name)
    with hold_workspace(ws_dir, f"validate/stacks/{name}"):
        staged = terraform.stage_root_module(v.ctx.project.terraform_dir, work.stack.spec.path, ws_dir / "src", {})
        runner = v.runner(ws_dir, staged, ("-", name), name)
        v.progress.stack_started(name, "init + validate")
        with work.phase("init+validate"):
            work.valid = _init_validate(v, work, runner, staged)
    work.status[("validate", None)] = "pass" if work.valid else "fail"
    if not work.valid:
        v.failed()
    v.timings[f"stack {name}"] = work.timings
    v.progress.note(f"{name}: {'valid' if work.valid else 'invalid'} ({phases(work.timings)})")


def _init_validate(v: RunState, work: StackWork, runner: terraform.Runner, chdir: Path) -> bool:
    try:
        with v.init_lock:  # one shared plugin cache, which Terraform does not lock
            runner.init(backend=False)
        diagnostics = runner.validate()
    except InfractlError as exc:
        work.findings.append(tool_finding(v, work.stack.name, "validate", exc, chdir))
        return False
    errors = [d for d in diagnostics if d.get("severity") == "error"]
    for diag in errors:
        work.findings.append(diag_finding(v, work.stack.name, "validate", diag, None, chdir))
    return not errors


# ---------------------------------------------------------------- parity
def run_parity(v: RunState, works: list[StackWork]) -> tuple[ParityReport, list[Finding]]:
    """The contract check of every cloud's stacks (what `infractl parity --check` does), as findings."""
    began = time.monotonic()
    report = parity.run(
        v.ctx.project,
        environ=dict(v.ctx.environ),
        terraform_bin=v.ctx.settings.terraform_bin,
        cli_config=v.ctx.cli_config_path,
        write=False,
    )
    v.timings["parity"] = {"check": round(time.monotonic() - began, 2)}
    found = [
        Finding(
            gate="parity",
            rule=x.rule,
            stack=x.stack if x.cloud in v.deployed_clouds else f"{x.cloud}/{x.stack}",
            env=None,
            message=x.message,
            file=x.file,
            line=x.line,
        )
        for x in report.violations
    ]
    if report.docs == "stale":
        found.append(
            Finding(
                gate="parity",
                rule="stale-docs",
                stack="*",
                env=None,
                message="docs/parity.md differs from what `infractl parity` generates: run it, commit the result",
                file=str(parity_matrix.DOC),
            )
        )
    for work in works:
        work.status[("parity", None)] = "pass"
    unvalidated = [c.cloud for c in report.clouds if not c.schema_validated]
    if unvalidated:
        v.progress.note(
            f"parity: {', '.join(unvalidated)} not validated against the provider schema"
            " (fmt, HCL, contract and checkov only)"
        )
    return report, found
