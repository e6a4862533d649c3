"""`infractl evidence flush ENV`: append the actions queued while ENV's ledger was away (cli/evidence.py registers
`flush` in the `evidence` group)."""

from __future__ import annotations

import typer

from infractl.cli.common import context, emulate_option, json_option


def flush(
    env: str = typer.Argument(..., help="Environment name (environments/<name>.yaml)."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Append infractl's own actions queued in <work_dir>/evidence-queue/ENV/ to ENV's ledger, oldest first, each
    once (a re-run appends nothing twice). Exit 1 when the ledger is not reachable: they stay queued."""
    from infractl.cli import ui
    from infractl.services.evidence import actions

    result = actions.flush(context(emulate=emulate), env)
    if as_json:
        ui.print_json(result.model_dump(mode="json"))
        return
    out = ui.out()
    if not result.appended and not result.existing and not result.unreadable:
        out.print(f"{result.env}: no queued actions ({result.queue_dir})", markup=False, highlight=False)
        return
    seqs = f" (entries {result.seqs[0]}..{result.seqs[-1]})" if result.seqs else ""
    out.print(
        f"{result.env}: {result.appended} queued action(s) appended{seqs}"
        f"{f', {result.existing} already there' if result.existing else ''}",
        markup=False,
        highlight=False,
    )
    if result.unreadable:
        ui.err().print(
            f"not actions, or refused by the ledger, kept in {result.queue_dir}: {', '.join(result.unreadable)}",
            markup=False,
            highlight=False,
        )
