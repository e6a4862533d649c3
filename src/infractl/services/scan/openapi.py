"""The API gate: docs/api/openapi.json against the same file at the base commit, with npm openapi-diff.

A removed path or operation, a newly required request field, a narrowed response: failed (openapi-diff's
`breakingDifferences`). An added endpoint or an added optional request property: passed (the request schema has
`additionalProperties: false`; without it openapi-diff counts any added request property as breaking, because an
open schema already accepted that property with any type). The base side is read with git, never from the work tree.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from infractl.adapters import git, process
from infractl.errors import ExternalToolError
from infractl.models.scan import Finding, Gate
from infractl.services.scan import oas30, tools

SPEC = "docs/api/openapi.json"
TOOL = "openapi-diff"


def gate(root: Path, top: Path | None, base: str | None, reason: str) -> Gate:
    """base: the commit to compare with (None: `reason` says why there is none)."""
    current_path = root / SPEC
    if top is None or base is None:
        return Gate(name="openapi", status="not-run", tool=TOOL, note=reason)
    rel = current_path.relative_to(top).as_posix() if current_path.is_relative_to(top) else SPEC
    old_text = git.show_file(top, base, rel)
    short = base[:12]
    if not current_path.is_file():
        if old_text is None:
            return Gate(name="openapi", status="not-run", tool=TOOL, note=f"no {SPEC} here nor at {short}")
        problem = Finding(
            file=SPEC, rule="document.remove", message=f"the API document was removed (it exists at {short})"
        )
        return Gate(name="openapi", status="failed", tool=TOOL, findings=[finding], note=f"against {reason}")
    if old_text is None:
        return Gate(name="openapi", status="passed", tool=TOOL, note=f"{SPEC} is new since {reason}: nothing to break")
    directory = tools.node_dir(root)
    binary = directory / "node_modules" / ".bin" / "openapi-diff"
    if not binary.exists():
        raise ExternalToolError(f"openapi-diff not found in {directory}/node_modules", hint=tools.INSTALL_HINT)
    version = tools.npm_version(directory, "openapi-diff")
    problems: list[Finding] = []
    docs: list[dict[str, Any]] = []
    for label, text in (("base", old_text), ("current", current_path.read_text(encoding="utf-8"))):
        try:
            docs.append(json.loads(text))
        except ValueError as exc:
            where = SPEC if label == "current" else f"{SPEC} at {short}"
            problems.append(Finding(file=where, rule="invalid-json", message=f"not valid JSON: {exc}"))
    if problems:
        return Gate(name="openapi", status="failed", tool=TOOL, tool_version=version, findings=problems)
    with tempfile.TemporaryDirectory(prefix="infractl-openapi-") as tmp:
        paths = []
        for name, doc in zip(("base.json", "current.json"), docs, strict=True):
            path = Path(tmp) / name
            path.write_text(json.dumps(oas30.document(doc)), encoding="utf-8")
            paths.append(str(path))
        done = process.run([tools.node(), str(binary), *paths], ok_codes=(0, 1), timeout=120)
    result = parse(done.stdout)
    if result is None:  # openapi-diff refused an input (not a valid OpenAPI document): say which, briefly
        lines = [line for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()][:6]
        message = " ".join(line.strip() for line in lines).replace(str(Path(paths[1]).parent) + "/", "")
        problem = Finding(file=SPEC, rule="invalid-document", message=message[:500])
        return Gate(name="openapi", status="failed", tool=TOOL, tool_version=version, findings=[problem])
    required = new_required(docs[0], docs[1])
    findings = [finding(d, required) for d in result.get("breakingDifferences") or []]
    added = len(result.get("nonBreakingDifferences") or [])
    unclassified = len(result.get("unclassifiedDifferences") or [])
    note = f"against {reason}; {len(findings)} breaking, {added} non-breaking, {unclassified} unclassified change(s)"
    status = "failed" if findings else "passed"
    return Gate(name="openapi", status=status, tool=TOOL, tool_version=version, findings=findings, note=note)


def parse(stdout: str) -> dict[str, Any] | None:
    """openapi-diff prints a headline, then the result as JSON ("No changes found" alone when equal)."""
    if "No changes found" in stdout:
        return {}
    start = stdout.find("{")
    if start < 0:
        return None
    try:
        data = json.loads(stdout[start:])
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def finding(diff: dict[str, Any], required: dict[str, list[str]] | None = None) -> Finding:
    """`path removed: paths./livez`; a request body change also names the fields that became required."""
    details = (diff.get("sourceSpecEntityDetails") or []) + (diff.get("destinationSpecEntityDetails") or [])
    locations = sorted({d.get("location", "") for d in details if d.get("location")})
    code = str(diff.get("code") or diff.get("entity") or "breaking")
    what = {
        "path.remove": "path removed",
        "method.remove": "operation removed",
        "request.body.scope.remove": "the request body accepts less (e.g. a new required field)",
        "response.body.scope.remove": "the response body promises less",
    }.get(code, f"{diff.get('action', 'change')} {diff.get('entity', '')}".strip())
    fields = sorted(
        {f for loc in locations for op, names in (required or {}).items() if loc.startswith(op) for f in names}
    )
    extra = f" (newly required: {', '.join(fields)})" if fields else ""
    return Finding(file=SPEC, rule=code, message=f"{what}: {', '.join(locations) or '(no location)'}{extra}")


def new_required(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Per operation (`paths./x.post.requestBody`), the JSON request properties required now and not at the base."""
    out: dict[str, list[str]] = {}
    for path, ops in (new.get("paths") or {}).items():
        for method, op in (ops or {}).items():
            if not isinstance(op, dict):
                continue
            now = _required(new, op)
            before = _required(old, ((old.get("paths") or {}).get(path) or {}).get(method) or {})
            added = sorted(now - before)
            if added:
                out[f"paths.{path}.{method}.requestBody"] = added
    return out


def _required(doc: dict[str, Any], op: dict[str, Any]) -> set[str]:
    content = ((op.get("requestBody") or {}).get("content") or {}).get("application/json") or {}
    schema = content.get("schema") or {}
    for _ in range(5):  # follow local $refs (#/components/schemas/X)
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            break
        schema = doc
        for part in ref[2:].split("/"):
            schema = schema.get(part, {}) if isinstance(schema, dict) else {}
    return set(schema.get("required") or []) if isinstance(schema, dict) else set()
