"""The one way a command writes its report: `<dir>/<stem>.json` (the model), `.md` (a CI summary can show it) and
`.html` (a self-contained page: inline SVG and style, no script, nothing fetched) — drills, rollouts, gates — and
appends a report to the env's evidence ledger (its payload locked in the WORM bucket)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from infractl.errors import UsageError

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#212121}svg text{font-size:12px;font-family:sans-serif}"
    "pre{background:#f5f5f5;padding:1em;white-space:pre-wrap}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
)


def paths(directory: Path, stem: str) -> list[str]:
    return [str(directory / f"{stem}.{ext}") for ext in ("json", "md", "html")]


def writable(directory: Path) -> Path:
    """Check, before a command's work, that its report folder can be written (made if missing): a bad --report-dir is
    a usage error at once, not after a drill, a rollout or a gate has run."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".infractl-write-check"
        probe.write_text("", encoding="utf-8")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"--report-dir {directory}: cannot write there: {exc.strerror or exc}",
            hint="pass a writable directory to --report-dir",
        ) from None
    return directory


def write(directory: Path, stem: str, json_text: str, markdown: str, page: str) -> list[str]:
    """Write the three files (a re-run replaces them); a folder that cannot be written is a usage error."""
    names = paths(directory, stem)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in zip(names, (json_text, markdown, page), strict=True):
            Path(name).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"--report-dir {directory}: cannot write {exc.filename or directory}: {exc.strerror or exc}",
            hint="pass a writable directory to --report-dir",
        ) from None
    return names


def page(title: str, body: list[str]) -> str:
    """A self-contained HTML page: the title, then the body's fragments (already escaped by their makers)."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def append(
    ctx: Any, env: str, *, kind: str, ref: str, doc: dict[str, Any], attributes: dict[str, Any]
) -> tuple[int | None, str | None]:
    """Append a report to the env's evidence ledger: (its entry's seq, None), or (None, why not) when no ledger can
    be reached (the report files stand; the command's outcome does not change)."""
    from infractl.adapters.ledger import chain
    from infractl.services.evidence.access import open_ledger
    from infractl.services.evidence.actions import actor, describe
    from infractl.services.evidence.record import Record, record

    try:
        ledger = open_ledger(ctx, env)
        with ledger.connect() as conn:
            appended = record(
                ledger,
                conn,
                [
                    Record(
                        tenant="-",
                        kind=kind,
                        actor=actor(os.environ),
                        attributes=attributes,
                        payload=chain.canonical_json(doc).encode(),
                        ref=ref,
                    )
                ],
            )
    except Exception as exc:  # no ledger here (not created, not reachable)
        return None, f"the report was not appended to {env}'s evidence ledger: {describe(exc)}"
    return appended.entries[0].seq, None
