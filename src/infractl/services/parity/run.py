"""`infractl parity`: the entry point cli/parity.py calls: check every cloud's stacks, then write (or compare)
docs/parity.md."""

from __future__ import annotations

from pathlib import Path

from infractl.models.parity import ParityReport
from infractl.models.project import Project
from infractl.services.parity.check import check, fmt_runner, load_contracts, schema_validated
from infractl.services.parity.matrix import sync_doc
from infractl.services.stacks import graph


def run(
    project: Project,
    *,
    environ: dict[str, str],
    terraform_bin: str,
    cli_config: Path,
    write: bool,
    with_fmt: bool = True,
) -> ParityReport:
    """The whole `infractl parity`: check, then write (or compare) docs/parity.md."""
    schema = schema_validated()
    fmt = fmt_runner(project, environ, terraform_bin, cli_config) if with_fmt else None
    contracts = load_contracts(project)
    manifest = graph.load_manifest(project) if project.manifest_path.is_file() else None
    report, bindings = check(project, contracts, schema=schema, fmt=fmt, manifest=manifest)
    if not contracts:  # nothing to render: the report's note says parity was not checked
        return report.model_copy(update={"docs": "not-checked"})
    return sync_doc(project, contracts, bindings, report, write=write)
