"""infractl rollout ENV --release V, rollout status|abort|promote: progressive delivery (docs/delivery.md).

`infractl rollout ENV …` is the group's `run` command: a first argument that is not a subcommand is the env."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.core import TyperGroup

from infractl.cli.common import context, json_option, note, recorded


class _EnvFirst(TyperGroup):
    """`rollout dev --release V` runs `rollout run dev --release V`; `rollout status dev` stays a subcommand."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_EnvFirst,
    help="Progressive delivery: shift the API's traffic to a release step by step, judged by the SLOs; roll back on"
    " a breach. `infractl rollout ENV --release V` starts one.",
)
ENV_HELP = "Environment name (environments/<name>.yaml); locally: dev, the native dev stack."


def _steps(text: str | None) -> list[int] | None:
    if text is None:
        return None
    from infractl.errors import UsageError

    try:
        return [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(f"--steps {text}: give weights in percent, e.g. 10,25,50,100") from None


@app.command("run")
@recorded("rollout", local=True)  # the dev stack plays the env: its ledger records the rollout
def run(
    env: str = typer.Argument(..., help=ENV_HELP),
    release: str = typer.Option(..., "--release", "-r", help="The release version to roll out (releases/<V>.json)."),
    strategy: str = typer.Option(
        None, "--strategy", help="canary or blue-green (default: the env model's delivery.strategy)."
    ),
    steps: str = typer.Option(
        None, "--steps", help="Canary weights in percent, increasing, ending at 100, e.g. 10,25,50,100."
    ),
    report_dir: Path = typer.Option(
        None,
        "--report-dir",
        help="Write the report (rollout-<env>.json, .md, .html) here. Default: <work dir>/rollouts.",
    ),
    as_json: bool = json_option(),
) -> None:
    """Roll a release out: the canary's traffic share grows step by step, each step judged on the canary's own
    error ratio and latency against the SLO objectives (Prometheus); a breach sends all traffic back to stable at
    once. Blue-green: the new version is warmed and checked, then switched to, and switched back on a breach.

    Exit 0 when the release is stable, 11 (ROLLED_BACK) when it was rolled back; Ctrl-C leaves the traffic where it
    is, marked interrupted: `rollout status` explains, `rollout abort` or a re-run resolves."""
    from infractl.cli import ui
    from infractl.errors import RolledBack, UsageError
    from infractl.services.rollout import local

    if strategy is not None and strategy not in ("canary", "blue-green"):
        raise UsageError(f"--strategy {strategy}: use canary or blue-green")
    from infractl.services import reporting

    ctx = context(emulate=True)  # the dev stack: no cloud is reached
    report_dir = reporting.writable(report_dir or ctx.project.work_dir / "rollouts")
    try:
        state = local.run(
            ctx.project.work_dir,
            ctx.project,
            env,
            release,
            strategy=strategy,
            steps=_steps(steps),
            progress=ui.progress_lines(),
        )
    except RolledBack as exc:
        from infractl.services.rollout import store
        from infractl.services.rollout.endpoint import peek

        stack = peek(ctx.project.work_dir, ctx.project.root)
        failed = store.load(stack.directory) if stack else None
        if failed is not None:
            failed = _report(failed, report_dir)
            note(status=failed.status, reason=failed.reason, release=release, runbook=failed.runbook)
            _show(failed, as_json)
        raise exc
    state = _report(state, report_dir)
    note(status=state.status, release=release, report=state.files[-1])
    _show(state, as_json)


def _report(state, directory: Path):
    from infractl.services.rollout import report

    return state.model_copy(update={"files": report.write(state, directory)})


@app.command("status")
def status(env: str = typer.Argument("dev", help=ENV_HELP), as_json: bool = json_option()) -> None:
    """The rollout's state: its steps and samples, the weights the proxy has now, and what to do next."""
    from infractl.cli import ui, ui_rollout
    from infractl.services.rollout import control

    ctx = context(emulate=True)
    result = control.status(ctx.project.work_dir, ctx.project, env)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui_rollout.print_status(result)


def _end(verb: str, env: str, as_json: bool) -> None:
    """abort or promote: the service ends the rollout; the state is recorded and shown."""
    from infractl.services.rollout import control

    ctx = context(emulate=True)
    state = getattr(control, verb)(ctx.project.work_dir, ctx.project, env)
    state = _report(state, ctx.project.work_dir / "rollouts")  # the report shows how the rollout ended
    note(status=state.status, release=state.release)
    _show(state, as_json)


def _show(state, as_json: bool) -> None:
    from infractl.cli import ui, ui_rollout

    if as_json:
        ui.print_json(state.model_dump(mode="json"))
    else:
        ui_rollout.print_state(state)


@app.command("abort")
@recorded("rollout.abort", local=True)
def abort(env: str = typer.Argument("dev", help=ENV_HELP), as_json: bool = json_option()) -> None:
    """Roll back now: all traffic to stable, the canary drained and stopped (a running rollout does it itself)."""
    _end("abort", env, as_json)


@app.command("promote")
@recorded("rollout.promote", local=True)
def promote(env: str = typer.Argument("dev", help=ENV_HELP), as_json: bool = json_option()) -> None:
    """Finish an interrupted rollout without its remaining analysis: the release becomes stable."""
    _end("promote", env, as_json)
