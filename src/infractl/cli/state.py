"""infractl state: the remote state backend."""

from __future__ import annotations

import typer

from infractl.cli.common import context, emulate_option, json_option

app = typer.Typer(
    help="Remote Terraform state: S3 bucket with versioning, encryption and locking.", no_args_is_help=True
)


@app.command("bootstrap")
def bootstrap(
    env: str = typer.Argument(..., help="Environment name."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Create or converge the state bucket (and lock table). Idempotent."""
    from infractl.cli import ui
    from infractl.services.stacks import state

    backend = state.bootstrap(context(emulate=emulate), env)
    if as_json:
        ui.print_json(backend.model_dump(mode="json"))
        return
    console = ui.out()
    console.print(
        f"state backend for {env}: s3://{backend.bucket} in {backend.region}"
        f" (account {backend.account}{', emulator' if backend.emulated else ''})",
        markup=False,
    )
    console.print(
        f"keys: {backend.key_pattern}; lock: "
        f"{'S3 lock file (use_lockfile)' if backend.lock == 's3' else 'DynamoDB ' + str(backend.lock_table)}",
        markup=False,
    )
    for item in backend.items:
        console.print(f"  {item.name:<30} {item.status}", markup=False)


@app.command("unlock")
def unlock(
    env: str = typer.Argument(..., help="Environment name."),
    stack: str = typer.Argument(..., help="Stack name."),
    lock_id: str = typer.Argument(..., help="Lock ID from the lock message."),
    emulate: bool = emulate_option(),
    yes: bool = typer.Option(False, "--yes", help="Do not ask."),
) -> None:
    """Release a stale state lock. Only when the run holding it is gone."""
    from infractl.cli import ui
    from infractl.cli.common import confirmer
    from infractl.errors import UsageError
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    if not confirmer(yes)(f"release lock {lock_id} of {env}/{stack}? Only if no run holds it"):
        raise UsageError("not released: confirmation declined")
    runs.unlock(context(emulate=emulate), env, stack, lock_id, NullProgress())
    ui.out().print(f"released lock {lock_id} of {env}/{stack}", markup=False)
