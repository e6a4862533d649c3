"""A drill's report: JSON (the model), Markdown (a CI summary can show it) and a self-contained HTML page with the
steps' timeline and the measures against their targets (an inline SVG, no script, nothing fetched); and its entry
in the env's evidence ledger, when the ledger can be reached.

Files: <dir>/<kind>-<env>.{json,md,html}; a re-run replaces them (the ledger keeps every run)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from infractl.models.drill import DrillStep, DrReport, FaultsReport, LedgerRef, Measure
from infractl.services import reporting

Report = DrReport | FaultsReport


def write(report: Report, directory: Path) -> list[str]:
    """Write the three files; report.files names them (in the JSON too)."""
    report.files = reporting.paths(directory, f"{report.kind}-{report.env}")
    return reporting.write(
        directory,
        f"{report.kind}-{report.env}",
        report.model_dump_json(indent=2) + "\n",
        markdown(report),
        page(report),
    )


def append(ctx: Any, report: Report) -> tuple[LedgerRef | None, str | None]:
    """Append the report to the env's evidence ledger: the entry, or why not."""
    ref = f"drill:{report.kind}:{report.env}:{report.started_at.isoformat()}"
    seq, why_not = reporting.append(
        ctx,
        report.env,
        kind=f"infractl.drill.{report.kind}.report",  # the command itself: infractl.drill.dr
        ref=ref,
        doc=report.model_dump(mode="json", exclude={"files", "ledger"}),
        attributes={"passed": report.passed, "env": report.env},
    )
    return (LedgerRef(seq=seq, ref=ref) if seq is not None else None), why_not


# --- Markdown ------------------------------------------------------------------------------------------------------


def markdown(report: Report) -> str:
    verdict = "PASSED" if report.passed else "FAILED"
    title = "Disaster recovery drill" if report.kind == "dr" else "Fault drill"
    lines = [f"# {title}: {report.env} — {verdict}", ""]
    lines.append(f"- started {report.started_at:%Y-%m-%d %H:%M:%S} UTC, took {_took(report):.1f} s")
    if isinstance(report, DrReport):
        lines.append(
            f"- target: {report.target}" + (" (the dev stack and the local emulator)" if report.emulate else "")
        )
    else:
        lines.append(f"- {report.workflows} workflows in flight during each fault")
    lines.append("")
    if isinstance(report, DrReport) and report.measures:
        lines += [
            "## Objectives",
            "",
            "| objective | scope | target | measured | result | how |",
            "|---|---|---|---|---|---|",
        ]
        lines += [_measure_row(m) for m in report.measures]
        lines.append("")
    if isinstance(report, FaultsReport):
        lines += [
            "## Scenarios",
            "",
            "| scenario | result | started | completed | lost | duplicated | recovery (s) |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in report.scenarios:
            c = s.check
            cells = [str(x) for x in (c.started, c.completed, c.lost, c.duplicated)] if c else ["-"] * 4
            rec = f"{s.recovery_seconds:.2f}" if s.recovery_seconds is not None else "-"
            lines.append(f"| {s.scenario} | {'pass' if s.passed else 'FAIL'} | {' | '.join(cells)} | {rec} |")
        lines.append("")
    lines += ["## Steps", "", "| step | result | seconds | detail |", "|---|---|---|---|"]
    for step in _all_steps(report):
        text = step.reason if step.status == "failed" else step.detail
        lines.append(f"| {step.name} | {step.status} | {step.seconds:.2f} | {_cell(text or '')} |")
    lines.append("")
    problems = report.failures if isinstance(report, DrReport) else _fault_problems(report)
    if problems:
        lines += ["## Failures", ""] + [f"- {_cell(p)}" for p in problems] + [""]
    if report.notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in report.notes] + [""]
    if report.ledger:
        lines += [f"Appended to the evidence ledger as entry {report.ledger.seq} (`{report.ledger.ref}`).", ""]
    return "\n".join(lines)


def _measure_row(m: Measure) -> str:
    measured = "not measured" if m.measured_seconds is None else _duration(m.measured_seconds)
    result = {True: "pass", False: "FAIL", None: "-"}[m.passed]
    return (
        f"| {m.name.upper()} | {m.scope or '-'} | {m.target_minutes} min | {measured} | {result} | {_cell(m.detail)} |"
    )


def _fault_problems(report: FaultsReport) -> list[str]:
    out = []
    for s in report.scenarios:
        out += [f"{st.name}: {st.reason}" for st in s.steps if st.status == "failed"]
        if s.check:
            out += [f"{s.scenario}: {p}" for p in s.check.problems]
    return out


def _all_steps(report: Report) -> list[DrillStep]:
    if isinstance(report, DrReport):
        return [s for p in report.parts for s in p.steps]
    return [s for sc in report.scenarios for s in sc.steps]


def _took(report: Report) -> float:
    return (report.finished_at - report.started_at).total_seconds()


def _duration(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# --- HTML ----------------------------------------------------------------------------------------------------------

COLORS = {"passed": "#2e7d32", "failed": "#c62828", "skipped": "#9e9e9e"}
ROW, LABEL, WIDTH = 22, 260, 640


def page(report: Report) -> str:
    steps = _all_steps(report)
    verdict = "passed" if report.passed else "failed"
    title = f"{'Disaster recovery' if report.kind == 'dr' else 'Fault'} drill: {report.env} — {verdict}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>Started {report.started_at:%Y-%m-%d %H:%M:%S} UTC; took {_took(report):.1f} s.</p>",
    ]
    if isinstance(report, DrReport) and report.measures:
        body += ["<h2>Objectives</h2>", _objectives_svg(report.measures)]
    body += ["<h2>Timeline</h2>", _timeline_svg(report, steps)]
    body += ["<h2>Report</h2>", f"<pre>{html.escape(markdown(report))}</pre>"]
    return reporting.page(title, body)


def _timeline_svg(report: Report, steps: list[DrillStep]) -> str:
    """One bar per step at its start offset, as long as it took (a Gantt chart of the drill)."""
    total = max(_took(report), max((_offset(report, s) + s.seconds for s in steps), default=0.0), 0.001)
    height = ROW * (len(steps) + 2)
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 80}" height="{height}">']
    for i, s in enumerate(steps):
        y = ROW * i + 4
        x = LABEL + WIDTH * _offset(report, s) / total
        w = max(2.0, WIDTH * s.seconds / total)
        tip = html.escape(f"{s.name}: {s.status}, {s.seconds:.2f} s — {s.reason or s.detail}")
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(s.name)}</text>')
        parts.append(
            f'<rect class="step {s.status}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 6}" '
            f'fill="{COLORS[s.status]}"><title>{tip}</title></rect>'
        )
        parts.append(f'<text x="{x + w + 4:.1f}" y="{y + 13}">{s.seconds:.1f} s</text>')
    axis_y = ROW * len(steps) + 10
    parts.append(f'<line x1="{LABEL}" y1="{axis_y}" x2="{LABEL + WIDTH}" y2="{axis_y}" stroke="#616161"/>')
    parts.append(f'<text x="{LABEL}" y="{axis_y + 16}">0 s</text>')
    parts.append(f'<text x="{LABEL + WIDTH - 40}" y="{axis_y + 16}">{total:.1f} s</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _objectives_svg(measures: list[Measure]) -> str:
    """Each objective as a bar of its measured time against a line at its target."""
    height = ROW * len(measures) + 10
    parts = [
        f'<svg id="objectives" xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 160}" height="{height}">'
    ]
    scale = max([m.target_minutes * 60 for m in measures] + [m.measured_seconds or 0 for m in measures]) or 1
    for i, m in enumerate(measures):
        y = ROW * i + 4
        label = f"{m.name.upper()} {m.scope}".strip()
        target_x = LABEL + WIDTH * m.target_minutes * 60 / scale
        parts.append(f'<text x="0" y="{y + 13}">{html.escape(label)}</text>')
        if m.measured_seconds is not None:
            w = max(2.0, WIDTH * m.measured_seconds / scale)
            color = COLORS["passed" if m.passed else "failed"]
            parts.append(
                f'<rect class="measure" x="{LABEL}" y="{y}" width="{w:.1f}" height="{ROW - 6}" fill="{color}"/>'
            )
        parts.append(
            f'<line class="target" x1="{target_x:.1f}" y1="{y - 2}" x2="{target_x:.1f}" y2="{y + ROW - 4}" '
            'stroke="#212121" stroke-width="2"/>'
        )
        measured = "not measured" if m.measured_seconds is None else _duration(m.measured_seconds)
        parts.append(
            f'<text x="{LABEL + WIDTH + 8}" y="{y + 13}">{html.escape(measured)} / target {m.target_minutes} min</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _offset(report: Report, step: DrillStep) -> float:
    return max(0.0, (step.started_at - report.started_at).total_seconds())
