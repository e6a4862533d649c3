"""infractl release: build a release once (images, SBOM, provenance, signatures), list, show and verify releases."""

from __future__ import annotations

import typer

from infractl.cli.common import context, emulate_option, json_option, note, recorded

app = typer.Typer(help="Build releases once and verify them (docs/release.md).", no_args_is_help=True)

VERSION_HELP = "The release version, also the images' tag (default: v<project version>-<commit>)."


@app.command()
@recorded("release.build")  # it pushes into the env's repositories (default env: the first stage, noted)
def build(
    version: str = typer.Option(None, "--version", help=VERSION_HELP),
    env: str = typer.Option(None, "--env", help="The environment to build into (default: the first stage)."),
    by: str = typer.Option("", "--by", help="Who builds, for the promotion log (default: the CI actor or user)."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Build the api and worker images, attach SBOM, provenance and signature, push them into the first stage's
    repository and write releases/<version>.json. Re-running it for the same commit changes nothing."""
    from infractl.cli import ui_release as ui
    from infractl.services.release import build as service
    from infractl.services.release.promote import who

    result = service.build(
        context(emulate=emulate),
        version=version,
        env=env,
        by=who(by or None),
        progress=ui.step if not as_json else lambda _m: None,
    )
    note(env=result.env, release=result.version, images=result.images, unchanged=result.unchanged)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_release_build(result)


@app.command("list")
def list_(as_json: bool = json_option()) -> None:
    """The releases built in this project (releases/*.json) and where each runs."""
    from infractl.cli import ui_release as ui
    from infractl.services.release import records

    summaries = records.summaries(context().project)
    if as_json:
        ui.print_json([s.model_dump(mode="json") for s in summaries])
    else:
        ui.print_release_list(summaries)


@app.command()
def show(version: str = typer.Argument(..., help="The release version."), as_json: bool = json_option()) -> None:
    """The release manifest: image digests, attachments, charts, Terraform hashes, migration head, source."""
    from infractl.cli import ui_release as ui
    from infractl.services.release import records

    manifest = records.load_manifest(context().project, version)
    if as_json:
        ui.print_json(manifest.model_dump(mode="json"))
    else:
        ui.print_release_manifest(manifest)


@app.command()
def verify(
    version: str = typer.Argument(..., help="The release version."),
    env: str = typer.Argument(..., help="The environment whose repositories to check."),
    schema: bool = typer.Option(False, "--schema", help="Validate each SBOM against the CycloneDX 1.6 schema again."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Check a release where it is: each digest present, signature, provenance and SBOM (exit 5 if one fails)."""
    from infractl.cli import ui_release as ui
    from infractl.errors import VerificationError
    from infractl.services.release import promote as service

    result = service.verify(context(emulate=emulate), version, env, schema=schema)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
    else:
        ui.print_checks(result.checks, title=f"release {version} in {env} ({result.registry})")
    if not result.ok:
        bad = next(c for c in result.checks if not c.ok)
        raise VerificationError(f"release {version} does not verify in {env}: {bad.image}: {bad.what}: {bad.detail}")
