"""infractl registry: the local container registry (Debian's docker-registry on a loopback port)."""

from __future__ import annotations

import typer

from infractl.cli.common import PORT_MAX, PORT_MIN, context, json_option

app = typer.Typer(
    help="Run the local container registry (docker-registry on a free loopback port; one repository per env).",
    no_args_is_help=True,
)


def _print(state, as_json: bool, verb: str) -> None:
    from infractl.cli import ui

    ui.print_local_service("registry", state, verb, where=f"storage {state.storage_dir}", as_json=as_json)


@app.command()
def start(
    port: int = typer.Option(
        None, min=PORT_MIN, max=PORT_MAX, help="Port on 127.0.0.1, 1-65535 (default: a free one)."
    ),
    as_json: bool = json_option(),
) -> None:
    """Start the registry (idempotent: a registry already running is reused). Its storage is kept across restarts."""
    from infractl.services import registry

    state, started = registry.start(context(), port=port)
    _print(state, as_json, "started" if started else "already running")


@app.command()
def stop(as_json: bool = json_option()) -> None:
    """Stop the registry. Its storage stays in the work folder."""
    from infractl.services import registry

    state, was_running = registry.stop(context())
    _print(state, as_json, "stopped" if was_running else "was not running")


@app.command()
def status(as_json: bool = json_option()) -> None:
    """Show whether the registry runs, and where."""
    from infractl.services import registry

    state = registry.status(context())
    _print(state, as_json, "running" if state.running else "not running")


@app.command("ls")
def list_repositories(as_json: bool = json_option()) -> None:
    """List the repositories (<env>/<image>) and their tags."""
    from infractl.cli import ui
    from infractl.services import registry

    listing = registry.listing(context())
    if as_json:
        ui.print_json(listing.model_dump(mode="json"))
        return
    if not listing.repositories:
        ui.out().print(f"no repositories in {listing.url}", markup=False)
    for repo in listing.repositories:
        ui.out().print(f"{repo.name}  {' '.join(repo.tags) or '(no tags)'}", markup=False)
