"""infractl state: the remote state backend."""

from __future__ import annotations

import typer

from infractl.cli.common import context, emulate_option, json_option, note, recorded

app = typer.Typer(
    help="Remote Terraform state: S3 bucket with versioning, encryption and locking.", no_args_is_help=True
)


@app.command("bootstrap")
@recorded("state.bootstrap")
def bootstrap(
    env: str = typer.Argument(..., help="Environment name."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Create or converge the state bucket (and lock table). Idempotent."""
    from infractl.cli import ui
    from infractl.services.stacks import state

    backend = state.bootstrap(context(emulate=emulate), env)
    note(bucket=backend.bucket, changed=backend.changed)
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
@recorded("state.unlock")
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
    note(stacks=[stack], lock_id=lock_id)
    runs.unlock(context(emulate=emulate), env, stack, lock_id, NullProgress())
    ui.out().print(f"released lock {lock_id} of {env}/{stack}", markup=False)


@app.command("recover")
@recorded("state.recover", skip=lambda a: not a.get("write"))  # without --write it only reads
def recover(
    env: str = typer.Argument(..., help="Environment name."),
    stack: str = typer.Argument(..., help="Stack name."),
    write: bool = typer.Option(
        False, "--write", help="Save the import blocks in the stack's workspace: its next apply imports them."
    ),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """After a killed apply: list the objects it created without recording them, with import blocks for them."""
    from infractl.cli import ui
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import recover as recovering

    result = recovering.recover(context(emulate=emulate), env, stack, NullProgress(), write=write)
    note(stacks=[stack], orphans=[o.address for o in result.orphans])
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    out, err = ui.out(), ui.err()
    if not result.orphans:
        out.print(
            f"{env}/{stack}: none of the {result.checked} resources its plan creates exists already", markup=False
        )
    else:
        err.print(
            f"{env}/{stack}: {len(result.orphans)} of the {result.checked} resources its plan creates exist already"
            " (created by an interrupted apply, not in the state); import them:",
            markup=False,
        )
        for o in result.orphans:
            err.print(f"  {o.address}  (id {o.import_id})", markup=False)
        out.print(result.imports.rstrip(), markup=False)
        if result.written:
            err.print(
                f"written to {result.written}: the next `infractl apply {env} --stack {stack}"
                f"{' --emulate' if emulate else ''}` imports them",
                markup=False,
            )
        else:
            err.print("hint: --write saves these blocks so that the next apply of the stack imports them", markup=False)
    if result.unchecked:
        err.print(
            f"not checked (AWS identifies them by no configured name): {', '.join(result.unchecked)}", markup=False
        )
