"""Where a finding belongs: the stacks a Terraform diagnostic of a generated root is attributed to, findings made
from Terraform diagnostics and failed commands, and the file and line every finding is placed at (code scanning
refuses a result without a file). Used by static.py and plans.py while they run, and by run.py on every finding.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from infractl.errors import InfractlError
from infractl.models.stacks import Stack
from infractl.models.validation import Finding
from infractl.services.stacks import tfsource
from infractl.services.validate.runstate import RunState, StackWork

FIRST_STEP = re.compile(r"(?<![\w.])module\.([A-Za-z0-9_-]+)")  # module.<name> not preceded by another step
ON_LINE = re.compile(r"\bon (\S+\.tf(?:\.json)?) line (\d+)")  # where Terraform's text diagnostics point


def owners(v: RunState, diag: dict[str, Any], works: list[StackWork], root: Path) -> list[StackWork]:
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
        users = [
            w for w in works if real in {Path(os.path.realpath(d)) for d in tfsource.module_dirs(v.stack_dir(w.stack))}
        ]
        if users:
            return users
    text = " ".join(str(diag.get(k) or "") for k in ("summary", "detail", "snippet"))
    return [by_name[n] for n in dict.fromkeys(FIRST_STEP.findall(text)) if n in by_name]


def diag_finding(v: RunState, stack: str, gate: str, diag: dict[str, Any], env: str | None, chdir: Path) -> Finding:
    """A Terraform JSON diagnostic as a finding of `stack`, its address relative to the stack."""
    rng = diag.get("range") or {}
    file, line = "", 0
    if rng.get("filename"):
        file = v.rel(chdir / rng["filename"])
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


def tool_finding(v: RunState, stack: str, gate: str, exc: InfractlError, chdir: Path) -> Finding:
    """A failed command without JSON diagnostics (e.g. init): the first `on FILE line N` names the place."""
    text = "\n".join([exc.message, *exc.details])
    where = ON_LINE.search(text)
    file, line = "", 0
    if where:
        file, line = v.rel(chdir / where.group(1)), int(where.group(2))
    return Finding(
        gate=gate,  # type: ignore[arg-type]
        rule="terraform-error",
        stack=stack,
        env=None,
        message=" ".join(" ".join([exc.message, *exc.details[:8]]).split()),
        file=file,
        line=line,
    )


def place(v: RunState, finding: Finding) -> Finding:
    """Every finding gets a file (code scanning refuses a result without one): where its resource is declared,
    else its stack's main file, its environment file, or the stack manifest."""
    if finding.stack in v.manifest.stacks:
        finding = locate(v, Stack(name=finding.stack, spec=v.manifest.stacks[finding.stack]), finding)
    if finding.file:
        return finding
    if finding.stack in v.manifest.stacks:
        stack_dir = v.stack_dir(Stack(name=finding.stack, spec=v.manifest.stacks[finding.stack]))
        main = stack_dir / "main.tf"
        return finding.model_copy(update={"file": v.rel(main if main.is_file() else stack_dir)})
    if finding.env:
        return finding.model_copy(update={"file": f"environments/{finding.env}.yaml"})
    return finding.model_copy(update={"file": v.display})


def locate(v: RunState, stack: Stack, finding: Finding) -> Finding:
    """A finding with a resource address and no file: the file and line declaring that resource."""
    if not finding.address or finding.file:
        return finding
    where, _ = tfsource.locate(v.stack_dir(stack), finding.address)
    if where is None:
        return finding
    return finding.model_copy(update={"file": v.rel(where.file), "line": where.line})
