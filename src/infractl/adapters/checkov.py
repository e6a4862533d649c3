"""Checkov, run from its own tool virtualenv (it pins libraries that conflict with ours): `make tools` makes it.

Always offline (`--skip-download`). Three scans: Terraform sources (`-d`), plan JSON files (`-f`, many in one run),
and rendered Kubernetes manifests (`-f`, named checks only: `infractl gate`'s sandboxing policy).
Checkov is run so that nothing outside the command line can skip a check: its own configuration file (no
`.checkov.yaml` from the tree or from home is read), a neutral working folder and home, and an environment reduced
to an allowlist (no `CKV_SKIP_CHECK`, `BC_*` or cloud credentials). Skips live in the sources, with a reason.
"""

from __future__ import annotations

import json
import os
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


def find_binary(root: Path, configured: str | None, *, home: Path | None = None) -> str:
    """INFRACTL_CHECKOV_BIN when set, else the project's tool venv (<root>/.tools/checkov/bin), else the one of the
    infractl checkout running (`home`: a project of its own, e.g. an infrastructure repo passed with --root, has
    none), else PATH."""
    dirs = [root / TOOL_VENV / "bin"] + ([home / TOOL_VENV / "bin"] if home is not None and home != root else [])
    return process.find_binary(
        "checkov",
        configured=configured,
        extra_dirs=dirs,
        hint="run `make tools` in the infractl checkout (it installs checkov into .tools/checkov), put checkov on"
        " PATH, or set INFRACTL_CHECKOV_BIN",
    )


ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
CONFIG = "compact: true\n"  # checkov refuses an empty configuration file


def build_args(
    *,
    config: Path,
    directory: Path | None = None,
    plan_files: Sequence[Path] = (),
    with_passed: bool = False,
    manifests: Sequence[Path] = (),
    checks: Sequence[str] = (),
) -> list[str]:
    """A source scan of one folder (local modules followed), a plan scan of many plan JSON files, or the named checks
    on rendered Kubernetes manifests."""
    args = ["--config-file", str(config), "--skip-download", "--skip-results-upload", "--output", "json"]
    if not with_passed:
        args.append("--quiet")
    if manifests:
        args += ["--framework", "kubernetes", "--check", ",".join(checks)]
        for manifest in manifests:
            args += ["--file", str(manifest)]
        return args
    if directory is not None:
        return [*args, "--framework", "terraform", "--directory", str(directory)]
    args += ["--framework", "terraform_plan"]
    for plan in plan_files:
        args += ["--file", str(plan)]
    return args


def scan(
    binary: str,
    *,
    scratch: Path,
    base_env: Mapping[str, str],
    directory: Path | None = None,
    plan_files: Sequence[Path] = (),
    with_passed: bool = False,
    manifests: Sequence[Path] = (),
    checks: Sequence[str] = (),
) -> list[Result]:
    """Run checkov from the folder `scratch` (its home too); exit 1 means failed checks (reported as results),
    anything else non-zero is an error."""
    scratch.mkdir(parents=True, exist_ok=True)
    config = scratch / "checkov.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in base_env.items() if k in ENV_ALLOWLIST}
    env.update(HOME=str(scratch), TMPDIR=str(scratch))
    args = build_args(
        config=config,
        directory=directory,
        plan_files=plan_files,
        with_passed=with_passed,
        manifests=manifests,
        checks=checks,
    )
    done = process.run([binary, *args], env=env, cwd=scratch, ok_codes=(0, 1))
    return parse(done.stdout, cwd=scratch)


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
        reason=str(item.get("suppress_comment") or (item.get("check_result") or {}).get("suppress_comment") or ""),
        guideline=str(item.get("guideline") or ""),
    )
