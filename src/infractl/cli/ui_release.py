"""Rendering of the release commands (release build/list/show/verify, promote), on cli/ui.py's consoles."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from infractl.cli.ui import err, out, pieces, print_json, styled

__all__ = ["print_json"]


def step(message: str) -> None:
    """A progress line on stderr (long steps: the base image, pushes)."""
    err().print(styled(f"  {message}", "dim"))


def _short(digest: str) -> str:
    return digest[:19] + "…" if len(digest) > 20 else digest


def print_release_build(result: Any) -> None:
    console = out()
    verb = "unchanged" if result.unchanged else "built"
    console.print(pieces((f"release {result.version} {verb}", "bold green"), f" into {result.env} ({result.registry})"))
    table = Table(show_header=True, header_style="bold")
    table.add_column("image")
    table.add_column("digest")
    for name, digest in sorted(result.images.items()):
        table.add_row(styled(name), styled(digest))
    console.print(table)
    timing = ", ".join(f"{n} {s:.1f}s" for n, s in result.steps)
    console.print(
        f"manifest {result.manifest}; {result.uploaded_blobs} blob(s) uploaded; base image "
        f"{'cached' if result.base_cached else 'built'}; {result.seconds:.1f}s ({timing})"
    )
    console.print(f"next: infractl promote {result.env} <next stage> --release {result.version}")


def print_release_list(summaries: list[Any]) -> None:
    console = out()
    if not summaries:
        console.print("no release yet: infractl release build")
        return
    table = Table(show_header=True, header_style="bold")
    for col in ("release", "commit", "created", "runs in"):
        table.add_column(col)
    for s in summaries:
        table.add_row(styled(s.version), styled(s.commit[:12]), styled(s.created), styled(", ".join(s.running_in)))
    console.print(table)


def print_release_manifest(m: Any) -> None:
    console = out()
    console.print(
        pieces(
            (f"release {m.version}", "bold"),
            f" from {m.source.commit}",
            (" (dirty tree)" if m.source.dirty else "", "yellow"),
            f", created {m.source.created}",
        )
    )
    for name, img in sorted(m.images.items()):
        console.print(pieces(("  " + name, "bold"), f" {img.digest}"))
        console.print(
            f"    signature {_short(img.signature.digest)}  provenance {_short(img.provenance.digest)}  "
            f"sbom {_short(img.sbom.digest)} ({img.sbom_components} components)"
        )
    console.print("  charts: " + ", ".join(f"{k} {v}" for k, v in sorted(m.charts.items())))
    console.print(f"  terraform: {len(m.terraform)} module/stack tree hashes; migrations: head {m.migrations['head']}")
    console.print(f"  signed by key {m.signing.key_id[:16]}…")


CHECK_STYLE = {True: ("ok", "green"), False: ("FAILED", "bold red")}


def print_checks(checks: list[Any], *, title: str) -> None:
    console = out()
    console.print(styled(title, "bold"))
    for c in checks:
        word, style = CHECK_STYLE[c.ok]
        console.print(pieces(("  " + word.ljust(7), style), f"{c.image} {c.what}: {c.detail}"))


def print_promotion(result: Any) -> None:
    console = out()
    print_checks(result.checks, title=f"release {result.release} in {result.source}")
    if result.unchanged:
        console.print(pieces(("unchanged", "dim"), f": {result.target} already runs release {result.release}"))
    elif result.dry_run:
        console.print(
            pieces(
                ("dry run", "yellow"),
                f": would copy release {result.release} to {result.target} "
                f"({result.registry}) and pin it; nothing changed",
            )
        )
    else:
        console.print(
            pieces(
                (f"promoted {result.release}", "bold green"),
                f" {result.source} → {result.target} "
                f"({result.registry}): {result.mounted_blobs} blob(s) mounted, "
                f"{result.uploaded_blobs} uploaded; pin {result.pin}",
            )
        )
        for name, digest in sorted(result.images.items()):
            console.print(f"  {name}@{digest}")
