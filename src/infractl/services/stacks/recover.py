"""`infractl state recover ENV STACK`: after an apply that was killed (SIGKILL, a lost CI runner), find the objects
it created without recording them, and the Terraform `import` blocks that adopt them.

How: plan the stack (without taking the state lock: a killed run may still hold it; nothing is written), and for
every planned create of a type AWS identifies by a configured name (adapters/aws_lookup.py: LOOKUPS), look the
object up by that name. One that exists is an orphan: the next apply would fail on "already exists". Planned
creates of other AWS types (VPCs, subnets, KMS keys: no name to find them by) are listed as not checked.

With `write`, the import blocks go to the stack's workspace (`recover-imports.tf`, for this env only): the next
plan or apply of the stack stages them beside its sources, and a successful apply removes the file.
"""

from __future__ import annotations

import json

from infractl.adapters import aws_lookup, files, terraform
from infractl.errors import UsageError
from infractl.models.runs import Progress
from infractl.models.stacks import Stack
from infractl.models.state import Orphan, RecoverResult
from infractl.services.context import Context
from infractl.services.stacks import graph
from infractl.services.stacks.executor import RECOVER_IMPORTS, RECOVER_STAGED, start


def import_blocks(orphans: list[Orphan]) -> str:
    """Terraform `import` blocks, one per orphan."""
    return "".join(f"import {{\n  to = {o.address}\n  id = {json.dumps(o.import_id)}\n}}\n\n" for o in orphans)


def planned_creates(plan: dict) -> list[dict]:
    """The managed resources a plan creates from nothing (not replacements: those are in the state)."""
    return [
        rc
        for rc in plan.get("resource_changes", [])
        if rc.get("mode") == "managed" and rc.get("change", {}).get("actions") == ["create"]
    ]


def recover(ctx: Context, env_name: str, stack_name: str, progress: Progress, *, write: bool = False) -> RecoverResult:
    run = start(ctx, env_name, progress)
    selected = graph.select(run.manifest, run.env.cloud, [stack_name])
    if not selected:
        raise UsageError(f"stack {stack_name} is not a {run.env.cloud} stack: environment {env_name} has none")
    stack: Stack = selected[0]
    ws = run.open(stack)
    plan_file = ws.dir / "recover.tfplan"
    try:
        (ws.runner.chdir / RECOVER_STAGED).unlink(missing_ok=True)  # an earlier recover's blocks: start afresh
        progress.stack_started(stack.name, "plan (without the lock)")
        planned = ws.runner.plan(terraform.PlanOptions(var_files=[ws.inputs_file], out=plan_file, lock=False))
        doc = ws.runner.show_plan(plan_file) if planned.changes_present else {}
    finally:
        plan_file.unlink(missing_ok=True)
        ws.release()

    target = ctx.aws_target(run.env)
    result = RecoverResult(env=env_name, stack=stack.name, emulated=ctx.emulate)
    for rc in planned_creates(doc):
        kind, address = rc.get("type", ""), rc.get("address", "")
        if not kind.startswith("aws_"):
            continue
        if kind not in aws_lookup.LOOKUPS:
            result.unchecked.append(address)
            continue
        result.checked += 1
        progress.stack_started(stack.name, f"look up {address}")
        found = aws_lookup.existing(target, kind, rc.get("change", {}).get("after") or {})
        if found:
            result.orphans.append(Orphan(address=address, type=kind, import_id=found))
    result.imports = import_blocks(result.orphans)
    if write:
        path = ws.dir / RECOVER_IMPORTS
        if result.orphans:
            header = (
                f"# Written by `infractl state recover {env_name} {stack.name}`: objects an interrupted apply created"
                " without recording them.\n# The next plan or apply of this stack imports them; a successful apply"
                " removes this file.\n\n"
            )
            files.write_private(path, header + result.imports)
            result.written = str(path)
        else:
            path.unlink(missing_ok=True)
    return result
