"""infractl tenant: tenants of the storage tiers A/B/C — create, list, show, delete, backup, restore
(docs/tenants.md)."""

from __future__ import annotations

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, note, recorded

app = typer.Typer(
    help="Tenants of the storage tiers A (pooled, row-level security), B (schema) and C (database) (docs/tenants.md).",
    no_args_is_help=True,
)

ENV_ARG = typer.Argument(..., help="The environment (environments/<env>.yaml).")
NAME_ARG = typer.Argument(..., help="The tenant: 2-32 lower-case letters, digits and inner hyphens.")
TIER_HELP = (
    "A: shared tables, row-level security; B: a schema of its own; C: a database of its own (a tenant of the env"
    " model's tenants:)."
)


def _env(env: str, emulate: bool, *names: str | None):
    """The env, once the tenant names given are known to be safe (a bad one never gets further)."""
    from infractl.services.tenant import session

    for name in names:
        if name is not None:
            session.check_name(name)
    return session.open_env(context(emulate=emulate), env)


def _print(result, as_json: bool, render) -> None:
    from infractl.cli import ui_tenant as ui

    if getattr(result, "manifest_key", None):  # a backup or restore: the evidence entry names the backup
        note(manifest_key=result.manifest_key)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        render(result)


@app.command()
@recorded("tenant.create", tenant=lambda a: a["name"])
def create(
    env: str = ENV_ARG,
    name: str = NAME_ARG,
    tier: str = typer.Option(..., "--tier", help=TIER_HELP),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Create a tenant: its role, its schema (B) or database (C), grants and row-level security (A), migrations to
    head, credentials in Vault. All or nothing: a failure undoes every step."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import create as service
    from infractl.services.tenant import session

    session.check_tier(tier)
    _print(service.create(_env(env, emulate, name), name, tier), as_json, ui.print_created)


@app.command("list")
def list_(
    env: str = ENV_ARG,
    tier: str = typer.Option(None, "--tier", help="Only the tenants of this tier."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """The tenants of an environment (the catalog in its shared database)."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import inventory

    _print(inventory.list_tenants(_env(env, emulate), tier=tier), as_json, ui.print_list)


@app.command()
def show(
    env: str = ENV_ARG, name: str = NAME_ARG, emulate: bool = emulate_option(), as_json: bool = json_option()
) -> None:
    """One tenant: where its data and credentials are, its migration revision, row counts, last backup, events."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import inventory

    _print(inventory.show(_env(env, emulate, name), name), as_json, ui.print_detail)


@app.command()
@recorded("tenant.delete", tenant=lambda a: a["name"])
def delete(
    env: str = ENV_ARG,
    name: str = NAME_ARG,
    force: bool = typer.Option(False, "--force", help="Delete without a fresh backup."),
    max_backup_age: float = typer.Option(
        24.0, "--max-backup-age", min=0.0, help="Hours: how old the last backup may be (default 24)."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Delete a tenant: its data (rows, schema or database), role, grants and Vault credentials. Refused without a
    backup taken within --max-backup-age hours at its current migration revision, unless --force."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import delete as service

    result = service.delete(
        _env(env, emulate, name), name, confirm=confirmer(yes), force=force, max_backup_age_hours=max_backup_age
    )
    _print(result, as_json, ui.print_deleted)


@app.command()
@recorded("tenant.backup", tenant=lambda a: a["name"])
def backup(
    env: str = ENV_ARG, name: str = NAME_ARG, emulate: bool = emulate_option(), as_json: bool = json_option()
) -> None:
    """Back a tenant up to s3://bkp-<account>-<region>-<env>/<tenant>/<timestamp>/ (SSE-KMS with the env's key):
    A its rows, B its schema, C its database (pg_dump directory format, 2 jobs), with a manifest of tables, row
    counts and checksums."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import backup as service

    _print(service.backup(_env(env, emulate, name), name), as_json, ui.print_backup)


@app.command()
@recorded("tenant.restore", tenant=lambda a: a["as_name"] or a["name"])
def restore(
    env: str = ENV_ARG,
    name: str = typer.Argument(..., help="The tenant whose backup to restore."),
    source: str = typer.Option(None, "--from", help="The backup: its manifest key or folder (default: the latest)."),
    latest: bool = typer.Option(False, "--latest", help="The newest backup of NAME (the default)."),
    as_name: str = typer.Option(None, "--as", help="Restore as this new tenant (default: NAME, which must not exist)."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Restore a backup into a new tenant (NAME or --as NEW), verified against its manifest (sha256 of every file,
    row counts, tier A content checksums), then migrated to head. Never touches another tenant."""
    from infractl.cli import ui_tenant as ui
    from infractl.services.tenant import restore as service

    if as_name is not None:
        from infractl.services.tenant import session

        session.check_name(as_name, what="new tenant name")
    tenv = _env(env, emulate, name)
    result = service.restore(tenv, name, source_key=source, latest=latest, as_name=as_name)
    _print(result, as_json, ui.print_restored)
