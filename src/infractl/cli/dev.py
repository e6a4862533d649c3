"""infractl dev: the local development stack (docs/dev.md)."""

from __future__ import annotations

import typer

from infractl.cli.common import context, json_option

app = typer.Typer(
    help="Run the control plane and its dependencies locally: Docker compose, or native processes on loopback.",
    no_args_is_help=True,
)

HEALTH_STYLE = {"healthy": "green", "unhealthy": "bold red", "stopped": "yellow", "completed": "dim"}


def _project():
    return context().project


def _reporter():
    """Progress lines on stderr (timestamped), never on stdout."""
    from infractl.cli import ui

    plain = ui.PlainProgress()
    return lambda message: plain.note(message) if message else None


def _print_status(result, *, title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    from infractl.cli import ui

    console = ui.out()
    if result.mode == "none" or not result.services:
        console.print("the dev stack is not running", markup=False)
        return
    table = Table(title=f"{title} ({result.mode})", title_justify="left")
    columns = ["service", "health", "pid", "address", "url"]
    show_action = any(s.action for s in result.services)
    if show_action:
        columns.insert(2, "action")
    for col in columns:
        table.add_column(col, justify="right" if col == "pid" else "left")
    for s in result.services:
        row = [s.name, f"[{HEALTH_STYLE.get(s.health, '')}]{s.health}[/]"]
        if show_action:
            row.append(s.action or "")
        row += [str(s.pid or ""), s.address or "", escape(s.url or "")]
        table.add_row(*row)
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    if result.mode == "native":
        console.print(f"[dim]logs: {escape(result.work_dir)}/<service>.log (infractl dev logs SERVICE)[/]")
        console.print("[dim]environment: infractl dev env (add --show-secrets for the root token)[/]")


@app.command()
def up(
    docker: bool = typer.Option(
        None,
        "--docker/--no-docker",
        help="Use docker compose / native processes. Default: Docker when an engine answers, else native.",
    ),
    port_offset: int = typer.Option(0, "--port-offset", min=0, help="Add N to every default port (native mode)."),
    port: list[str] = typer.Option(
        [], "--port", metavar="SERVICE=PORT", help="Port of one service, e.g. --port postgres=15432 (repeatable)."
    ),
    with_app: bool = typer.Option(
        True, "--app/--no-app", help="Start the api and the worker too (--no-app: only their dependencies)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Start the dev stack (idempotent: healthy services of an earlier `up` are reused)."""
    from infractl.cli import ui
    from infractl.services import devstack

    project = _project()
    result = devstack.up(
        project.work_dir,
        project.root,
        docker=docker,
        port_offset=port_offset,
        port_overrides=devstack.parse_port_overrides(port),
        with_app=with_app,
        progress=_reporter(),
    )
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    _print_status(result, title="dev stack up")


@app.command()
def down(
    purge: bool = typer.Option(
        False, "--purge", help="Also delete the data (PostgreSQL cluster, Temporal history, traces; compose volumes)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Stop what `infractl dev up` started, and nothing else. A no-op when nothing runs."""
    from infractl.cli import ui
    from infractl.services import devstack

    project = _project()
    result = devstack.down(project.work_dir, project.root, purge=purge, progress=_reporter())
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    console = ui.out()
    if result.nothing_to_do:
        console.print("the dev stack was not running: nothing to stop", markup=False)
    else:
        console.print(f"stopped: {', '.join(result.stopped) or '-'}", markup=False)
    if result.purged:
        console.print(f"data deleted: {', '.join(result.purged)}", markup=False)


@app.command()
def status(as_json: bool = json_option()) -> None:
    """Show each service's health. Exit 1 when a recorded service is not healthy."""
    from infractl.cli import ui
    from infractl.exit_codes import ExitCode
    from infractl.services import devstack

    project = _project()
    result = devstack.status(project.work_dir, project.root)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        _print_status(result, title="dev stack")
    if result.services and not result.healthy:
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command()
def logs(
    service: str = typer.Argument(None, help="One service (default: all), or seed / migrate."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines until Ctrl-C."),
    lines: int = typer.Option(50, "--lines", "-n", min=0, help="How many of the last lines to show."),
) -> None:
    """Print the services' logs (each line prefixed with its service when showing several)."""
    import sys

    from infractl.services import devstack

    project = _project()
    work_dir = project.work_dir
    if devstack.mode_of(work_dir) == "docker":
        from infractl.adapters import process

        argv = devstack.docker_logs_argv(project.root, service, lines, follow)
        try:
            process.run(argv, cwd=project.root, on_line=lambda line: print(line, flush=True))
        except KeyboardInterrupt:
            return
        return
    files = devstack.log_files(work_dir, service)
    width = max((len(n) for n in files), default=0)

    def emit(name: str, line: str) -> None:
        sys.stdout.write(f"{name:<{width}} | {line}\n" if service is None else f"{line}\n")

    for name, line in devstack.tail(files, lines):
        emit(name, line)
    sys.stdout.flush()
    if follow:
        try:
            for name, line in devstack.follow(files):
                emit(name, line)
                sys.stdout.flush()
        except KeyboardInterrupt:
            return


@app.command("env")
def env_(
    show_secrets: bool = typer.Option(False, "--show-secrets", help="Print VAULT_TOKEN instead of masking it."),
    service: str = typer.Option(None, "--service", help="Add OTEL_SERVICE_NAME=controlplane-SERVICE."),
    as_json: bool = json_option(),
) -> None:
    """Print the environment contract of the running native stack as `export` lines.

    Run the api or a test against the stack: eval "$(infractl dev env --show-secrets)".
    """
    import shlex

    from infractl.cli import ui
    from infractl.services import devstack

    result = devstack.env(_project().work_dir, show_secrets=show_secrets, service=service)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    for key, value in result.variables.items():
        print(f"export {key}={shlex.quote(value)}")
    if result.masked:
        ui.err().print(f"[dim]masked: {', '.join(result.masked)} (add --show-secrets)[/]")
