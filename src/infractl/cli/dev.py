"""infractl dev: the local development stack (docs/dev.md)."""

from __future__ import annotations

import typer

from infractl.cli.common import PORT_MAX, context, either, json_option

app = typer.Typer(
    help="Run the control plane and its dependencies locally: Docker compose, or native processes on loopback.",
    no_args_is_help=True,
)


def _project():
    return context().project


def _rules_source(project):
    """The rule files Prometheus loads in the dev stack: the dev env's SLO rules (a callable that writes them into
    the folder it is given; None: no rule file). tests/integration/test_dev_stack.py replaces it with its own rule."""
    from infractl.services.dev import monitoring

    return monitoring.slo_rules(project)


@app.command()
def up(
    ctx: typer.Context,
    docker: bool = typer.Option(
        False, "--docker", help="Use docker compose. Default: Docker when an engine answers, else native processes."
    ),
    no_docker: bool = typer.Option(False, "--no-docker", help="Use native processes on loopback."),
    port_offset: int = typer.Option(
        0, "--port-offset", min=0, max=PORT_MAX, help="Add N to every default port (native mode)."
    ),
    port: list[str] = typer.Option(
        [], "--port", metavar="SERVICE=PORT", help="Port of one service, e.g. --port postgres=15432 (repeatable)."
    ),
    app_: bool = typer.Option(False, "--app", help="Start the api and the worker too (the default)."),
    no_app: bool = typer.Option(False, "--no-app", help="Start only the dependencies of the api and the worker."),
    as_json: bool = json_option(),
) -> None:
    """Start the dev stack (idempotent: healthy services of an earlier `up` are reused)."""
    from infractl.cli import ui
    from infractl.services.dev import devstack

    use_docker = either(ctx, "docker", docker, no_docker, None)
    with_app = either(ctx, "app", app_, no_app, True)
    project = _project()
    result = devstack.up(
        project.work_dir,
        project.root,
        docker=use_docker,
        port_offset=port_offset,
        port_overrides=devstack.parse_port_overrides(port),
        with_app=bool(with_app),
        progress=ui.progress_lines(),
        rules=_rules_source(project),
    )
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    ui.print_dev_status(result, title="dev stack up")


@app.command()
def down(
    purge: bool = typer.Option(
        False, "--purge", help="Also delete the data (PostgreSQL cluster, Temporal history, traces; compose volumes)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Stop what `infractl dev up` started, and nothing else. A no-op when nothing runs."""
    from infractl.cli import ui
    from infractl.services.dev import devstack

    project = _project()
    result = devstack.down(project.work_dir, project.root, purge=purge, progress=ui.progress_lines())
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
    from infractl.services.dev import devstack

    project = _project()
    result = devstack.status(project.work_dir, project.root)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_dev_status(result, title="dev stack")
    if result.services and not result.healthy:
        raise typer.Exit(int(ExitCode.FAILURE))


@app.command()
def logs(
    service: str = typer.Argument(None, help="One service (default: all), or seed / migrate."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new lines until Ctrl-C."),
    lines: int = typer.Option(50, "--lines", "-n", min=0, help="How many of the last lines to show."),
) -> None:
    """Print the services' logs (each line prefixed with its service when showing several)."""
    from infractl.cli import ui
    from infractl.services.dev import devstack

    project = _project()
    work_dir = project.work_dir
    if devstack.mode_of(work_dir) == "docker":
        devstack.docker_logs(project.root, service, lines, follow, ui.print_raw)
        return
    files = devstack.log_files(work_dir, service)
    width = max((len(n) for n in files), default=0)

    def emit(name: str, line: str) -> None:
        ui.print_raw(f"{name:<{width}} | {line}" if service is None else line)

    for name, line in devstack.tail(files, lines):
        emit(name, line)
    if follow:
        try:
            for name, line in devstack.follow(files):
                emit(name, line)
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
    from infractl.services.dev import devstack

    result = devstack.env(_project().work_dir, show_secrets=show_secrets, service=service)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    for key, value in result.variables.items():
        ui.print_raw(f"export {key}={shlex.quote(value)}")
    if result.masked:
        ui.err().print(ui.styled(f"masked: {', '.join(result.masked)} (add --show-secrets)", "dim"))


@app.command()
def fault(
    error_rate: float = typer.Option(
        None, "--error-rate", min=0.0, max=1.0, help="Answer this share of the api's requests with 503 (0..1)."
    ),
    latency_ms: int = typer.Option(None, "--latency-ms", min=0, help="Add this many milliseconds to each request."),
    route: list[str] = typer.Option(
        [], "--route", metavar="PATH", help="Only requests to this route, e.g. /v1/runs (repeatable; default: all)."
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the fault: the api answers normally again."),
    canary: bool = typer.Option(False, "--canary", help="The rollout canary's switch, not the stable api's."),
    as_json: bool = json_option(),
) -> None:
    """Inject errors or latency into the native dev stack's api (its fault switch); without options, show it.

    The api re-reads the switch when it changes, so the next requests see it: watch the alerts fire
    (infractl dev status shows where), then `infractl dev fault --clear`.
    """
    from infractl.cli import ui
    from infractl.services.dev import devstack

    result = devstack.fault(
        _project().work_dir, error_rate=error_rate, latency_ms=latency_ms, routes=route, clear=clear, canary=canary
    )
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    console = ui.out()
    if result.faults is None:
        console.print(f"no fault {'(cleared)' if result.changed else 'set'}: {result.file}", markup=False)
        return
    f = result.faults
    what = f"error_rate={f.error_rate:g} latency_ms={f.latency_ms} routes={','.join(f.routes or []) or 'all'}"
    console.print(f"fault {'set' if result.changed else 'in place'}: {what} ({result.file})", markup=False)
