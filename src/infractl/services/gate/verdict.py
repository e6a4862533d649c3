"""A gate's verdict as files — gate-<gate>-<env>.json, .md (a CI summary table) and .html (every criterion, and each
piece of evidence's age against its limit, plotted) — and as an entry of the env's evidence ledger."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from infractl.models.gate import LedgerRef, Verdict, age_text
from infractl.models.slo import parse_duration
from infractl.services import reporting

COLORS = {"met": "#2e7d32", "not-met": "#c62828", "stale": "#f9a825"}
LABEL, WIDTH, ROW = 330, 420, 22
SCALE = 1.5  # the plot shows ages up to 1.5 times their limit; older ones are drawn at the edge


def stem(verdict: Verdict) -> str:
    return f"gate-{verdict.gate}-{verdict.env}"


def write(verdict: Verdict, directory: Path) -> list[str]:
    verdict.files = reporting.paths(directory, stem(verdict))
    return reporting.write(
        directory, stem(verdict), verdict.model_dump_json(indent=2) + "\n", markdown(verdict), page(verdict)
    )


def append(ctx: Any, verdict: Verdict) -> tuple[LedgerRef | None, str | None]:
    """The verdict as an entry `infractl.gate.<gate>` of the env's ledger (the gate becomes evidence itself)."""
    ref = f"gate:{verdict.gate}:{verdict.env}:{verdict.started_at.isoformat()}"
    seq, why_not = reporting.append(
        ctx,
        verdict.env,
        kind=f"infractl.gate.{verdict.gate}.verdict",  # the command itself: infractl.gate.<gate>
        ref=ref,
        doc=verdict.model_dump(mode="json", exclude={"files", "ledger", "notes"}),
        attributes={"passed": verdict.passed, "env": verdict.env, "commit": verdict.commit or ""},
    )
    return (LedgerRef(seq=seq, ref=ref) if seq is not None else None), why_not


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(verdict: Verdict) -> str:
    result = "PASSED" if verdict.passed else "NOT MET"
    lines = [
        f"## Gate {verdict.gate} ({verdict.title}) for {verdict.env}: {result}",
        "",
        f"Evaluated {verdict.finished_at:%Y-%m-%d %H:%M:%S} UTC on commit `{(verdict.commit or 'unknown')[:12]}` from"
        f" `{verdict.definition}`; evidence under `{verdict.evidence_dir}`.",
        "",
        "| criterion | status | evidence | age / limit | why |",
        "|---|---|---|---|---|",
    ]
    for criterion in verdict.criteria:
        for i, ev in enumerate(criterion.evidence):
            name = f"**{criterion.id}**: {criterion.title}" if i == 0 else ""
            status = criterion.status if i == 0 else ""
            limit = f"{age_text(ev.age_seconds)} / {ev.max_age}" if ev.max_age else "live"
            lines.append(
                f"| {_cell(name)} | {status} | {ev.kind}: `{_cell(ev.source)}` ({ev.status}) | {limit} |"
                f" {_cell(ev.detail)} |"
            )
    lines.append("")
    if verdict.ledger:
        lines += [f"Appended to the evidence ledger as entry {verdict.ledger.seq} (`{verdict.ledger.ref}`).", ""]
    lines += [f"- {n}" for n in verdict.notes] + ([""] if verdict.notes else [])
    return "\n".join(lines)


def page(verdict: Verdict) -> str:
    result = "passed" if verdict.passed else "not met"
    title = f"Gate {verdict.gate} for {verdict.env}: {result}"
    rows = "".join(
        f'<tr><td>{html.escape(c.id)}</td><td style="color:{COLORS[c.status]}">{c.status}</td>'
        f"<td>{html.escape(c.title)}</td></tr>"
        for c in verdict.criteria
    )
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(verdict.title)}; evaluated {verdict.finished_at:%Y-%m-%d %H:%M:%S} UTC.</p>",
        f'<table id="criteria"><tr><th>criterion</th><th>status</th><th>what it means</th></tr>{rows}</table>',
        "<h2>Evidence age against its limit</h2>",
        _plot(verdict),
        "<h2>Verdict</h2>",
        f"<pre>{html.escape(markdown(verdict))}</pre>",
    ]
    return reporting.page(title, body)


def _plot(verdict: Verdict) -> str:
    """One bar per piece of evidence, as long as its age relative to its limit (the dashed line); live evidence is a
    dot at 0; the colour is its status."""
    items = [(c.id, e) for c in verdict.criteria for e in c.evidence]
    height = ROW * (len(items) + 2)
    limit_x = LABEL + WIDTH / SCALE
    parts = [f'<svg id="ages" xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 40}" height="{height}">']
    for i, (criterion, ev) in enumerate(items):
        y = ROW * i + 4
        label = html.escape(f"{criterion} · {ev.kind}")
        parts.append(f'<text x="{LABEL - 8}" y="{y + 13}" text-anchor="end">{label}</text>')
        color = COLORS[ev.status]
        if ev.max_age and ev.age_seconds is not None:
            share = min(ev.age_seconds / parse_duration(ev.max_age), SCALE)
            w = max(2.0, WIDTH * share / SCALE)
            parts.append(f'<rect x="{LABEL}" y="{y}" width="{w:.1f}" height="{ROW - 8}" fill="{color}"/>')
        else:
            parts.append(f'<circle cx="{LABEL + 6}" cy="{y + 7}" r="6" fill="{color}"/>')
    bottom = ROW * len(items) + 4
    parts.append(
        f'<line x1="{limit_x:.1f}" y1="0" x2="{limit_x:.1f}" y2="{bottom}" stroke="#212121" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{limit_x:.1f}" y="{bottom + 14}" text-anchor="middle">max age</text>')
    parts.append("</svg>")
    return "".join(parts)
