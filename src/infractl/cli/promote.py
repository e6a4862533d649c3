"""infractl promote: move a release to the next stage by digest (docs/release.md#promotion)."""

from __future__ import annotations

import typer

from infractl.cli.common import confirmer, context, emulate_option, json_option, note, recorded

app = typer.Typer()  # top-level command: main adds this app without a group name


@app.command()
@recorded("promote", env="target", skip=lambda a: bool(a.get("dry_run")))
def promote(
    source: str = typer.Argument(..., metavar="FROM", help="The environment the release runs in now."),
    target: str = typer.Argument(..., metavar="TO", help="The next stage."),
    release: str = typer.Option(None, "--release", help="The release version (default: the one FROM runs)."),
    approved_by: list[str] = typer.Option(
        [], "--approved-by", help="An approver of TO (repeat it); required when TO's approval.required."
    ),
    by: str = typer.Option("", "--by", help="Who promotes, for the log (default: the CI actor or user)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Verify and say what would be copied; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Verify the release in FROM (digests, signatures, provenance, SBOM), copy it into TO's repositories by digest
    (never rebuilt), pin TO to it and log the promotion. Refusals leave TO unchanged."""
    from infractl.cli import ui_release as ui
    from infractl.services.release import promote as service

    result = service.promote(
        context(emulate=emulate),
        source,
        target,
        release=release,
        approved_by=approved_by,
        by=by or None,
        dry_run=dry_run,
        confirm=confirmer(yes),
    )
    note(release=result.release, source=result.source, images=result.images, unchanged=result.unchanged)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_promotion(result)
