"""`infractl drill dr ENV`: the disaster recovery drill (docs/drills.md). The entry is `run`.

Three parts, each a list of timed steps (services/drill/steps.py), together compared with the env model's recovery
objectives:
- database (database.py): with --emulate, the dev stack's PostgreSQL — WAL archived continuously, a write load, a
  simulated loss, point-in-time restore into a new instance, the app pointed at it and ready: RPO and RTO measured;
  and the RDS point-in-time-restore API path on the emulator (its timing means nothing there). Against AWS, the RDS
  path on the env's instance.
- cluster (cluster.py): the cluster stack destroyed and re-created from code, outputs compared, charts re-rendered.
- evidence (replication.py): every evidence object of the primary bucket is in the DR-region bucket with the same
  hash, lock mode and retention.
The report is written (report.py) and appended to the env's evidence ledger when it can be reached. A part that
cannot start (its stack not applied, the dev stack not running) fails with its reason; the others still run.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infractl.errors import InfractlError, UsageError
from infractl.models.drill import DR_PARTS, DrillStep, DrReport, PartResult
from infractl.services import environments
from infractl.services.context import Context
from infractl.services.drill import guard
from infractl.services.drill.steps import Progress, describe

EMULATOR_NOTE = (
    "the local database restore and the cluster's Terraform runs are real; the evidence replicates synchronously on"
    " the emulator, so its lag means nothing there"
)


def run(
    ctx: Context,
    env_name: str,
    *,
    parts: Sequence[str] = DR_PARTS,
    yes: bool = False,
    confirm: Callable[[str], bool],
    progress: Progress,
    keep: bool = False,
) -> DrReport:
    env = environments.load(ctx.project, env_name)
    guard.check(env, "dr", yes=yes)
    unknown = sorted(set(parts) - set(DR_PARTS))
    if unknown:
        raise UsageError(f"unknown part {', '.join(unknown)}", hint=f"one of {', '.join(DR_PARTS)}")
    if env.cloud != "aws":
        raise UsageError(
            f"infractl drill dr: {env.name} is on {env.cloud}; the drill's cloud path is written for AWS",
            hint="run it on an AWS environment, or locally with --emulate",
        )
    if "cluster" in parts and not ctx.emulate and not confirm(f"Destroy and re-create the cluster of {env.name}?"):
        raise UsageError("not confirmed: nothing was done")
    started = datetime.now(UTC)
    work = ctx.project.work_dir / "drills" / f"dr-{env.name}-{started:%Y%m%dT%H%M%S}"
    work.mkdir(parents=True, exist_ok=True)
    notes = [EMULATOR_NOTE] if ctx.emulate else []
    results: list[PartResult] = []
    try:
        for part in [p for p in DR_PARTS if p in parts]:
            results.append(_part(part, lambda part=part: _run_part(part, ctx, env, work, progress, keep)))
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    for r in results:
        notes += [n for n in r.notes if n not in notes]
    return DrReport(
        env=env.name,
        emulate=ctx.emulate,
        target="local" if ctx.emulate else "aws",
        started_at=started,
        finished_at=datetime.now(UTC),
        parts=results,
        measures=[m for r in results for m in r.measures],
        notes=notes,
    )


def _part(name: str, body: Callable[[], PartResult]) -> PartResult:
    """A part that cannot even start (an error outside its steps) is one failed step with the reason."""
    now = datetime.now(UTC)
    try:
        return body()
    except InfractlError as exc:
        reason = describe(exc)
        step = DrillStep(name=f"{name}.start", status="failed", started_at=now, seconds=0.0, reason=reason)
        return PartResult(part=name, steps=[step])


def _run_part(part: str, ctx: Context, env: Any, work: Path, progress: Progress, keep: bool) -> PartResult:
    if part == "database":
        return _database(ctx, env, work / "database", progress, keep)
    if part == "cluster":
        from infractl.services.drill import cluster

        return cluster.run(
            ctx, env.name, work=work / "cluster", rto_minutes=env.recovery.rto_minutes, progress=progress
        )
    return _evidence(ctx, env, progress)


def _database(ctx: Context, env: Any, work: Path, progress: Progress, keep: bool) -> PartResult:
    from infractl.services.drill import database
    from infractl.services.stacks import runs

    results = []
    if ctx.emulate:
        results.append(
            database.local(ctx.project.work_dir, work=work, targets=env.recovery, progress=progress, keep=keep)
        )
    data = runs.applied_outputs(ctx, env.name, ["data"], _quiet())["data"]
    instance = (data.get("db_instance_identifier") or {}).get("value")
    if not instance:
        raise UsageError(
            f"the data stack of {env.name} is not applied: no database instance to restore",
            hint=f"infractl apply {env.name} --stack data" + (" --emulate" if ctx.emulate else ""),
        )
    target = ctx.aws_target(env, start_emulator=ctx.emulate)
    results.append(
        database.rds(
            target.client("rds"), instance_id=instance, progress=progress, emulator=ctx.emulate, targets=env.recovery
        )
    )
    merged = PartResult(part="database")
    for r in results:
        merged.steps += r.steps
        merged.measures += r.measures
        merged.notes += r.notes
    return merged


def _evidence(ctx: Context, env: Any, progress: Progress) -> PartResult:
    from infractl.services.drill import replication
    from infractl.services.stacks import runs

    if not env.dr_region:
        raise UsageError(
            f"{env.name} has no dr_region: its evidence is not replicated, there is nothing to check",
            hint=f"set dr_region in environments/{env.name}.yaml and apply the evidence stack",
        )
    out = runs.applied_outputs(ctx, env.name, ["evidence"], _quiet())["evidence"]
    primary, replica = ((out.get(k) or {}).get("value") for k in ("bucket_name", "replica_bucket_name"))
    if not primary or not replica:
        raise UsageError(
            f"the evidence stack of {env.name} is not applied (or has no replica bucket)",
            hint=f"infractl apply {env.name} --stack evidence" + (" --emulate" if ctx.emulate else ""),
        )
    target = ctx.aws_target(env, start_emulator=ctx.emulate)
    dr_target = replace(target, region=env.dr_region)
    return replication.check(target.client("s3"), dr_target.client("s3"), primary, replica, progress=progress)


def _quiet() -> Any:
    from infractl.models.runs import NullProgress

    return NullProgress()
