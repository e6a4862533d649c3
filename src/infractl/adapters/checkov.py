"""Checkov, run from its own tool virtualenv (it pins libraries that conflict with ours): `make tools` makes it.

Always offline (`--skip-download`). Two scans: Terraform sources (`-d`) and plan JSON files (`-f`, many in one run).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.adapters import process
from infractl.errors import ExternalToolError

TOOL_VENV = Path(".tools") / "checkov"


@dataclass(frozen=True)
class Result:
    """One check on one resource."""

    check_id: str
    name: str
    status: str  # failed | skipped | passed
    resource: str  # address as checkov names it
    file: str  # the scanned file (source file or plan JSON), absolute
    lines: tuple[int, int]
    reason: str = ""  # the skip comment, for skipped results
    guideline: str = ""


def find_binary(root: Path, configured: str | None) -> str:
    candidates = [configured] if configured else [str(root / TOOL_VENV / "bin" / "checkov"), "checkov"]
    for name in candidates:
        found = shutil.which(name) if os.sep not in name else (name if os.access(name, os.X_OK) else None)
        if found:
            return found
    raise ExternalToolError(
        "checkov not found",
        hint="run `make tools` (it installs checkov into .tools/checkov) or set INFRACTL_CHECKOV_BIN",
    )


def build_args(
    *, directory: Path | None = None, plan_files: Sequence[Path] = (), with_passed: bool = False
) -> list[str]:
    """A source scan of one folder (local modules followed) or a plan scan of many plan JSON files."""
    args = ["--skip-download", "--skip-results-upload", "--compact", "--output", "json"]
    if not with_passed:
        args.append("--quiet")
    if directory is not None:
        return [*args, "--framework", "terraform", "--directory", str(directory)]
    args += ["--framework", "terraform_plan"]
    for plan in plan_files:
        args += ["--file", str(plan)]
    return args


def scan(binary: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path) -> list[Result]:
    """Run checkov; exit 1 means failed checks (reported as results), anything else non-zero is an error."""
    done = process.run([binary, *args], env=env, cwd=cwd, ok_codes=(0, 1))
    return parse(done.stdout, cwd=cwd)


def parse(text: str, *, cwd: Path) -> list[Result]:
    """checkov's JSON: one report object, a list of them, or (for several folders) objects one after another."""
    docs: list[Any] = []
    decoder = json.JSONDecoder()
    pos, text = 0, text.strip()
    while pos < len(text):
        try:
            doc, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ExternalToolError(f"checkov printed output that is not JSON: {exc}") from None
        docs += doc if isinstance(doc, list) else [doc]
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    results: list[Result] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        found = doc.get("results", {})
        for status, key in (("failed", "failed_checks"), ("skipped", "skipped_checks"), ("passed", "passed_checks")):
            for item in found.get(key, []):
                results.append(_result(item, status, cwd))
    return results


def _result(item: dict[str, Any], status: str, cwd: Path) -> Result:
    path = item.get("file_abs_path") or ""
    if not path and item.get("file_path"):  # relative to the scan root, written with a leading "/"
        path = str(cwd / str(item["file_path"]).lstrip("/"))
    lines = item.get("file_line_range") or [0, 0]
    return Result(
        check_id=str(item.get("check_id", "")),
        name=str(item.get("check_name", "")),
        status=status,
        resource=str(item.get("resource", "")),
        file=os.path.normpath(path) if path else "",
        lines=(int(lines[0]), int(lines[-1])),
        reason=str(item.get("suppress_comment") or ""),
        guideline=str(item.get("guideline") or ""),
    )
