"""`infractl scan`: every security gate, one report. `run` is the entry point (the CLI and `release build` call it).

Gates: openapi (breaking API changes against the base commit), secrets (the repository against its baseline, and
each image layer given), workflows-zizmor and workflows-actionlint (.github/workflows), dependencies (pip-audit).
They run in parallel threads (each is a child process). A gate that cannot run here says why and is `not-run`:
neither a pass nor a failure. The report is failed when any gate failed (the CLI exits 7).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from infractl.adapters import git
from infractl.errors import GateFailed, UsageError
from infractl.models.scan import Gate, ScanReport
from infractl.services.context import Context
from infractl.services.scan import dependencies, openapi, reports, secrets, workflows
from infractl.services.scan import layers as layer_scan

DEFAULT_BASES = ("origin/main", "main")
WORKERS = 4


def resolve_base(top: Path | None, base: str | None) -> tuple[str | None, str]:
    """(the commit the API is compared with, how it was chosen), or (None, why there is none).

    --base REF: the merge base of REF and HEAD (what a pull request changes, not what REF gained since the branch
    started). Default: the merge base with origin/main, else main; on main itself that is HEAD, so the gate checks
    uncommitted changes. Neither exists: HEAD."""
    if top is None:
        return None, "not a git repository: no base to compare the API with"
    head = git.commit_of(top, "HEAD")
    if head is None:
        return None, "no commit yet: no base to compare the API with"
    if base is not None:
        commit = git.commit_of(top, base)
        if commit is None:
            raise UsageError(
                f"--base {base}: not a commit in the git repository at {top}",
                hint="give a branch, tag or commit that exists locally (in CI: fetch the base branch first)",
            )
        merge = git.merge_base(top, commit) or commit
        return merge, f"{base} (merge base {merge[:12]})"
    for candidate in DEFAULT_BASES:
        commit = git.commit_of(top, candidate)
        merge = git.merge_base(top, commit) if commit else None
        if merge:
            return merge, f"the merge base with {candidate} ({merge[:12]})"
    return head, f"HEAD ({head[:12]}; no origin/main or main)"


def run(
    ctx: Context,
    *,
    base: str | None,
    report_dir: Path | None,
    layers: Sequence[tuple[str, Path]] = (),
    require_audit: bool | None = None,
    release: str | None = None,
) -> ScanReport:
    """Run every gate over the project (and the image layers given as (name, tar blob) pairs, plus those of
    `release`'s images); write scan.json and
    scan.md to report_dir when given. require_audit: the dependency gate fails instead of not running when the
    vulnerability service is unreachable (default: INFRACTL_SCAN_PIP_AUDIT=required)."""
    started = time.monotonic()
    root = ctx.project.root
    if release:  # the layers the release's images add to the Debian base, from this machine's build
        from infractl.services.release import records

        layers = [*layers, *records.release_layers(ctx.project, release)]
    for name, blob in layers:
        if not Path(blob).is_file():
            raise UsageError(
                f"--layer {name}={blob}: no such file", hint="give NAME=PATH of a layer blob (a tar, gzip'd or not)"
            )
    if len({name for name, _ in layers}) != len(layers):
        raise UsageError("--layer: each layer needs its own name")
    top = git.toplevel(root)
    commit, how = resolve_base(top, base)
    required = ctx.settings.scan_pip_audit == "required" if require_audit is None else require_audit
    jobs: list[Callable[[], Gate]] = [
        lambda: openapi.gate(root, top, commit, how),
        lambda: secrets.repository(root, top),
        *[(lambda n=name, b=Path(blob): layer_scan.layer(n, b)) for name, blob in layers],
        lambda: workflows.zizmor(root),
        lambda: workflows.actionlint(root),
        lambda: dependencies.gate(required=required),
    ]
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="scan") as pool:
        futures = [pool.submit(_timed, job) for job in jobs]
        gates = [f.result() for f in futures]
    report = ScanReport(
        root=str(root),
        base=commit,
        gates=gates,
        duration_s=round(time.monotonic() - started, 2),
        finished_at=datetime.now(UTC),
    )
    if report_dir is not None:
        reports.write(report, report_dir)
    return report


def _timed(job: Callable[[], Gate]) -> Gate:
    started = time.monotonic()
    gate = job()
    gate.duration_s = round(time.monotonic() - started, 2)
    return gate


def raise_for_failures(report: ScanReport) -> None:
    """GateFailed (exit 7) naming each failed gate's findings, one per line (for callers such as `release build`)."""
    failed = [g for g in report.gates if g.status == "failed"]
    if failed:
        details = [
            f"{g.name}: {f.where() + ': ' if f.where() else ''}{f.rule}: {f.message}"
            for g in failed
            for f in g.findings
        ]
        raise GateFailed(
            f"security gate(s) failed: {', '.join(g.name for g in failed)}",
            details=details,
            hint="docs/scan.md says what fails each gate and how to fix or waive it",
        )
