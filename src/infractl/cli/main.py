"""The infractl command and its one error boundary."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from infractl.cli import (
    common,
    cost,
    db,
    dev,
    docs,
    drill,
    emulator,
    env,
    evidence,
    gate,
    init,
    parity,
    promote,
    registry,
    release,
    render,
    rollout,
    scan,
    slo,
    stacks,
    state,
    tenant,
    validate,
)
from infractl.exit_codes import ExitCode

app = typer.Typer(
    name="infractl",
    help="Infrastructure of the multi-tenant control plane: environments, stacks, state, emulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# One registration style: each cli module has a module-level `app`; a group gets a name, top-level commands do not.
app.add_typer(init.app)
app.add_typer(stacks.app)
app.add_typer(docs.app)
app.add_typer(parity.app)
app.add_typer(validate.app)
app.add_typer(render.app)
app.add_typer(promote.app)
app.add_typer(scan.app)
app.add_typer(env.app, name="env")
app.add_typer(state.app, name="state")
app.add_typer(emulator.app, name="emulator")
app.add_typer(registry.app, name="registry")
app.add_typer(dev.app, name="dev")
app.add_typer(db.app, name="db")
app.add_typer(tenant.app, name="tenant")
app.add_typer(evidence.app, name="evidence")
app.add_typer(release.app, name="release")
app.add_typer(slo.app, name="slo")
app.add_typer(drill.app, name="drill")
app.add_typer(rollout.app, name="rollout")
app.add_typer(gate.app, name="gate")
app.add_typer(cost.app, name="cost")


def _version(value: bool) -> None:
    if value:
        from infractl import __version__

        typer.echo(f"infractl {__version__}")
        raise typer.Exit()


@app.callback()
def _globals(
    root: Path = typer.Option(
        None,
        "--root",
        help="Project root (default: INFRACTL_ROOT, else the nearest folder holding environments/).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show tracebacks of internal errors."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    common.GLOBALS.root = root
    common.GLOBALS.verbose = verbose


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every error to its named exit code. Never a traceback unless -v. The command is one span
    when OTEL_EXPORTER_OTLP_ENDPOINT is set (services/telemetry.py)."""
    from infractl.services import telemetry

    common.GLOBALS.root, common.GLOBALS.verbose = None, False
    args = list(sys.argv[1:] if argv is None else argv)
    groups = {g.name for g in app.registered_groups if g.name}
    with telemetry.command(args, groups) as tracking:
        tracking.code = _run(args)
    if tracking.problem:
        sys.stderr.write(tracking.problem + "\n")
    return tracking.code


def _run(argv: list[str]) -> int:
    from infractl.errors import InfractlError

    try:
        # Without standalone mode, a command's typer.Exit(code) comes back as the return value.
        rv = app(args=argv, prog_name="infractl", standalone_mode=False)
        return int(rv) if isinstance(rv, int) else ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return ExitCode.INTERRUPTED
    except typer.TyperException as exc:  # usage errors from argument parsing: exit 2
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", ExitCode.USAGE))
    except InfractlError as exc:
        from infractl.cli import ui

        ui.print_error(exc.message, exc.details, exc.hint)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except Exception as exc:  # the boundary: anything else is a bug
        if common.GLOBALS.verbose:
            import traceback

            traceback.print_exc()
        else:
            sys.stderr.write(f"internal error: {type(exc).__name__}: {exc}\n(re-run with -v for the traceback)\n")
        return ExitCode.INTERNAL


def entrypoint() -> None:
    sys.exit(main())
