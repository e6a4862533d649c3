"""The secrets gate of the repository: detect-secrets over the files git knows (tracked, and untracked ones that are
not ignored), with the plugins and filters of the committed `.secrets.baseline`. A secret that is not in the
baseline fails, and so does one the baseline marks as real (`is_secret: true`: rotate it, then remove it).
Findings name the file, line and kind; the secret itself never leaves detect-secrets (it reports only a hash).

detect-secrets given explicit file names scans exactly those (a folder would make it ask git, and outside a
repository it then finds nothing). Audited false positives stay in the baseline with `is_secret: false`; test
sources with fake credentials may carry `# pragma: allowlist secret` instead.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from infractl.adapters import git, process
from infractl.errors import ExternalToolError
from infractl.models.scan import Finding, Gate
from infractl.services.scan import tools

BASELINE = ".secrets.baseline"
TOOL = "detect-secrets"
# The release records infractl writes (releases/<version>.json, pins, the promotion log): digests and key ids, hex
# strings the entropy detectors would flag in every release.
RELEASE_RECORDS = re.compile(r"^releases/.*\.jsonl?$")

Key = tuple[str, str, str]  # file, hashed secret, type


def repository(root: Path, top: Path | None) -> Gate:
    if top is None:
        return Gate(
            name="secrets", status="not-run", tool=TOOL, note="not a git repository: the files to scan come from git"
        )
    binary = tools.python_tool("detect-secrets")
    baseline_path = top / BASELINE
    names = [
        n for n in git.work_tree_files(top) if n != BASELINE and not RELEASE_RECORDS.match(n) and _regular(top / n)
    ]
    with tempfile.TemporaryDirectory(prefix="infractl-secrets-") as tmp:
        argv = [binary, "scan", "--no-verify"]
        copy = Path(tmp) / "baseline.json"
        if baseline_path.is_file():  # scan with the baseline's plugins and filters; it writes its update to the copy
            shutil.copyfile(baseline_path, copy)
            process.run([*argv, "--baseline", str(copy), *names], cwd=top, timeout=1800, env=tools.tool_env())
            current = _load(copy)
        else:
            done = process.run([*argv, *names], cwd=top, timeout=1800, env=tools.tool_env())
            current = json.loads(done.stdout or "{}")
    baseline = _load(baseline_path) if baseline_path.is_file() else {}
    findings = compare(baseline, current)
    note = (
        f"{len(names)} file(s) against {BASELINE}"
        if baseline
        else f"{len(names)} file(s); no {BASELINE}: every secret is new"
    )
    return Gate(
        name="secrets",
        status="failed" if findings else "passed",
        tool=TOOL,
        tool_version=tools.version([binary, "--version"]),
        findings=findings,
        note=note,
    )


def _regular(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ExternalToolError(
            f"{path.name}: not a detect-secrets baseline ({exc})", hint="regenerate it: docs/scan.md"
        ) from None
    return data if isinstance(data, dict) else {}


def results(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for items in (report.get("results") or {}).values() for r in items]


def key(r: dict[str, Any]) -> Key:
    return (str(r.get("filename", "")), str(r.get("hashed_secret", "")), str(r.get("type", "")))


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[Finding]:
    """New secrets (not in the baseline), and baselined ones audited as real that are still there."""
    known = {key(r): r for r in results(baseline)}
    findings = []
    for r in sorted(results(current), key=lambda r: (r.get("filename", ""), r.get("line_number", 0))):
        old = known.get(key(r))
        if old is None:
            message = f"a new secret (not in {BASELINE})"
        elif old.get("is_secret") is True:
            message = f"audited as a real secret in {BASELINE}: rotate it and remove it from the tree"
        else:
            continue
        findings.append(
            Finding(file=r.get("filename", ""), line=r.get("line_number"), rule=str(r.get("type")), message=message)
        )
    return findings
