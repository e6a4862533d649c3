"""infractl evidence: the tamper-evident ledger of an environment — verify, seed, show, export, dispose, hold,
checkpoint (docs/evidence.md)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from infractl.cli import evidence_queue
from infractl.cli.common import confirmer, context, emulate_option, json_option

app = typer.Typer(
    help="The evidence ledger: a signed hash chain, payloads locked in the WORM bucket (docs/evidence.md).",
    no_args_is_help=True,
)

app.command("flush")(evidence_queue.flush)

ENV_ARG = typer.Argument(..., help="The environment (environments/<env>.yaml).")
SEQ_ARG = typer.Argument(..., min=1, help="The entry's sequence number.")


def _ledger(env: str, emulate: bool):
    from infractl.services.evidence.access import open_ledger

    return open_ledger(context(emulate=emulate), env)


@app.command()
def verify(
    env: str = ENV_ARG,
    from_seq: int = typer.Option(1, "--from", min=1, help="Check from this entry on (it chains from the one before)."),
    payloads: bool = typer.Option(True, "--payloads/--no-payloads", help="Check every payload object (HEAD each)."),
    markdown: Path = typer.Option(None, "--markdown", help="Also write the report as Markdown (a CI job summary)."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Recompute the chain, check every signature and checkpoint, and every payload (present, its SHA-256, locked
    until its retain-until) unless disposed of. Exit 5 names the first broken entry and why."""
    from infractl.cli import ui
    from infractl.errors import VerificationError
    from infractl.services.evidence import verify as service

    ledger = _ledger(env, emulate)
    report = service.verify(ledger, from_seq=from_seq, payloads=payloads, progress=None if as_json else _say)
    if as_json:
        ui.print_json({**report.model_dump(mode="json"), **report.summary()})
    else:
        _print_report(report)
    if markdown is not None:
        markdown.write_text(_markdown(report))
    if not report.ok:
        first = report.first
        where = f"entry {first.seq}" if first and first.seq is not None else "the ledger"
        what = f"{first.reason}: {first.detail}" if first else ""
        raise VerificationError(
            f"{env}'s evidence ledger does not verify: {where}: {what}",
            details=[f"entry {f.seq}: {f.reason}: {f.detail}" for f in report.findings[:20]],
            hint="docs/evidence.md#when-verify-fails says what each reason means and what to do",
        )


def _say(message: str) -> None:
    from infractl.cli import ui

    ui.err().print(f"verify: {message}")


def _print_report(report) -> None:
    from infractl.cli import ui

    rate = int(report.entries / report.chain_seconds) if report.chain_seconds else 0
    console = ui.out()
    console.print(f"ledger of {report.env}: {report.entries} entries from {report.from_seq}, head {report.head_seq}")
    console.print(f"  chain: {'ok' if report.ok else 'BROKEN'} ({report.chain_seconds:.2f} s, {rate} entries/s)")
    console.print(
        f"  signatures: {report.signatures_checked} checked with {len(report.keys)} keys ({', '.join(report.keys)})"
    )
    console.print(
        f"  checkpoints: {report.checkpoints_checked} in the bucket checked,"
        + f" {report.checkpoints_unpublished} not published yet"
    )
    console.print(
        f"  payloads: {report.payloads_checked} checked, {len(report.disposed)} disposed of,"
        + f" {len(report.held)} under legal hold"
    )
    if report.disposed:
        console.print(f"  disposed of: {_ranges(report.disposed)}")
    for f in report.findings[:20]:
        console.print(ui.styled(f"  entry {f.seq}: {f.reason}: {f.detail}", "red"))


def _markdown(report) -> str:
    status = "verifies" if report.ok else f"**does not verify**: entry {report.first.seq}: {report.first.reason}"
    lines = [
        f"## Evidence ledger of {report.env}: {status}",
        "",
        "| check | result |",
        "|---|---|",
        f"| chain | {report.entries} entries from {report.from_seq} (head {report.head_seq}) |",
        f"| signatures | {report.signatures_checked} checked, keys: {', '.join(report.keys) or 'none'} |",
        f"| checkpoints | {report.checkpoints_checked} in the bucket, {report.checkpoints_unpublished} unpublished |",
        f"| payloads | {report.payloads_checked} checked, {len(report.disposed)} disposed, {len(report.held)} held |",
    ]
    if report.findings:
        lines += ["", "| entry | reason | detail |", "|---|---|---|"]
        lines += [f"| {f.seq} | `{f.reason}` | {f.detail} |" for f in report.findings[:50]]
    return "\n".join(lines) + "\n"


def _ranges(seqs: list[int]) -> str:
    return ", ".join(map(str, seqs[:20])) + (f" … ({len(seqs)})" if len(seqs) > 20 else "")


@app.command()
def seed(
    env: str = ENV_ARG,
    entries: int = typer.Option(..., "--entries", min=1, help="How many synthetic entries to append."),
    classes: list[str] = typer.Option(
        None,
        "--retention-classes",
        help="Round-robin over these classes: the env's (standard, ...) or fixture ones NAME:DURATION (expiring:5s).",
    ),
    payloads: bool = typer.Option(True, "--payloads/--no-payloads", help="Store a payload per entry in the bucket."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Synthetic evidence and retention fixtures for tests and drills (kind synthetic.evidence)."""
    from dataclasses import asdict

    from infractl.cli import ui
    from infractl.services.evidence import seed as service

    ledger = _ledger(env, emulate)
    progress = None if as_json else (lambda done, total: ui.err().print(f"seed: {done}/{total}"))
    result = service.seed(ledger, entries, list(classes or []), payloads=payloads, progress=progress)
    if as_json:
        ui.print_json(asdict(result))
    else:
        per = ", ".join(f"{k} {v}" for k, v in result.classes.items())
        ui.out().print(f"seeded {result.entries} entries ({result.first_seq}..{result.last_seq}) in {env}: {per}")


@app.command()
def show(
    env: str = ENV_ARG, seq: int = SEQ_ARG, emulate: bool = emulate_option(), as_json: bool = json_option()
) -> None:
    """One entry, the entries about it (disposition, legal hold) and its payload's state in the bucket."""
    from infractl.cli import ui
    from infractl.services.evidence import export as service

    doc = service.show(_ledger(env, emulate), seq)
    if as_json:
        ui.print_json(doc)
        return
    e = doc["entry"]
    console = ui.out()
    for name in (
        "seq",
        "created_at",
        "tenant",
        "kind",
        "actor",
        "object_key",
        "retention_class",
        "retain_until",
        "entry_hash",
        "key_id",
    ):
        if e.get(name) not in ("", None):
            console.print(f"{name}: {e[name]}")
    console.print(f"attributes: {json.dumps(e['attributes'], sort_keys=True)}")
    if "payload" in doc:
        console.print(f"payload: {json.dumps(doc['payload'], sort_keys=True)}")
    for r in doc["related"]:
        console.print(f"related: entry {r['seq']} {r['kind']} {json.dumps(r['attributes'], sort_keys=True)}")


@app.command()
def export(
    env: str = ENV_ARG,
    seq: int = SEQ_ARG,
    out: Path = typer.Option(None, "--out", "-o", help="Write the JSON here (default: stdout)."),
    emulate: bool = emulate_option(),
) -> None:
    """An entry with its proof, for auditors (JSON): the chain segment to the next signed checkpoint, that
    checkpoint as stored in the WORM bucket, and the public keys. Checkable offline (docs/evidence.md#auditors)."""
    from infractl.cli import ui
    from infractl.services.evidence import export as service

    doc = service.export(_ledger(env, emulate), seq)
    text = json.dumps(doc, indent=2) + "\n"
    if out is None:
        ui.print_raw(text.rstrip("\n"))
    else:
        out.write_text(text)
        ui.err().print(f"wrote {out}: entry {seq} with the proof to checkpoint {doc['proof']['checkpoint']['seq']}")


@app.command()
def dispose(
    env: str = ENV_ARG,
    seqs: list[int] = typer.Argument(None, help="Only these entries (default: every payload whose retention passed)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would be disposed of; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Delete the payloads whose retention has passed (never one under legal hold) and record each disposal in the
    chain (evidence.disposition): the entries stay and keep verifying."""
    from dataclasses import asdict

    from infractl.cli import ui
    from infractl.services.evidence import retention

    ledger = _ledger(env, emulate)
    if not dry_run:
        confirmer(yes)(f"delete the expired evidence payloads of {env}{' ' + str(seqs) if seqs else ''}?")
    result = retention.dispose(ledger, seqs=list(seqs or []) or None, dry_run=dry_run)
    if as_json:
        ui.print_json(asdict(result))
        return
    console = ui.out()
    if dry_run:
        console.print(f"would dispose of {len(result.pending)} payloads: {_ranges(result.pending)}")
    else:
        console.print(f"disposed of {len(result.disposed)} payloads: {_ranges(result.disposed)}")
    if result.held:
        console.print(f"kept under legal hold: {_ranges(result.held)}")
    for seq, why in result.refused.items():
        console.print(ui.styled(f"refused: entry {seq}: {why}", "red"))


@app.command()
def hold(
    env: str = ENV_ARG,
    seq: int = SEQ_ARG,
    release: bool = typer.Option(False, "--release", help="Release the hold instead of setting it."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the chain): a case or ticket."),
    emulate: bool = emulate_option(),
    as_json: bool = json_option(),
) -> None:
    """Set (or --release) a legal hold on an entry's payload: it cannot be deleted, even after its retention."""
    from infractl.cli import ui
    from infractl.services.evidence import retention

    recorded = retention.hold(_ledger(env, emulate), seq, on=not release, reason=reason)
    if as_json:
        ui.print_json({"seq": seq, "legal_hold": not release, "entry": recorded})
    else:
        ui.out().print(f"entry {seq}: legal hold {'released' if release else 'set'} (recorded as entry {recorded})")


@app.command()
def checkpoint(env: str = ENV_ARG, emulate: bool = emulate_option(), as_json: bool = json_option()) -> None:
    """Sign the head now and write the checkpoint to the WORM bucket (also taken every evidence.checkpoint_every)."""
    from infractl.cli import ui
    from infractl.services.evidence import record

    ledger = _ledger(env, emulate)
    with ledger.connect() as conn:
        made = record.store.checkpoint(conn, ledger.signer())
        published = record.publish(ledger, conn)
    if made is None:
        ui.err().print(f"the ledger of {env} is empty: no checkpoint")
        return
    if as_json:
        ui.print_json({"seq": made.seq, "entry_hash": made.entry_hash, "key_id": made.key_id, "published": published})
    else:
        ui.out().print(f"checkpoint at entry {made.seq} ({made.entry_hash[:16]}…) signed with {made.key_id}")
