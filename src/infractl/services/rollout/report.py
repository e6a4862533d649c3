"""A rollout's report (docs/delivery.md#report): its state as JSON, a Markdown summary a CI job summary can show, and a
self-contained HTML page whose plot shows the canary's traffic share over time, each step coloured by its verdict,
with every analysis sample's error ratio against its threshold."""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path

from infractl.models.rollout import RolloutState, Step
from infractl.services import reporting

COLORS = {"passed": "#1565c0", "breached": "#c62828", "inconclusive": "#f9a825", "interrupted": "#757575"}
RUNNING = "#90caf9"
LABEL, WIDTH, HEIGHT = 60, 640, 200  # the plot: 100 % is HEIGHT px high, the rollout's whole time WIDTH px wide


def write(state: RolloutState, directory: Path) -> list[str]:
    """rollout-<env>.json, .md, .html in directory; returns their paths (also in the JSON's `files`)."""
    stem = f"rollout-{state.env}"
    state = state.model_copy(update={"files": reporting.paths(directory, stem)})
    return reporting.write(
        directory,
        stem,
        json.dumps(state.model_dump(mode="json"), indent=2, sort_keys=True) + "\n",
        markdown(state),
        page(state),
    )


def markdown(state: RolloutState) -> str:
    lines = [
        f"## Rollout of `{state.release}` to {state.env}: {state.status}",
        "",
        f"Strategy {state.strategy}, steps {', '.join(f'{w} %' for w in state.steps)}; stable was `{state.stable}`;"
        f" started {state.started_at:%Y-%m-%d %H:%M:%S} UTC.",
        "",
        "| step | verdict | samples | worst error ratio | thresholds |",
        "|---|---|---|---|---|",
    ]
    for step in state.history:
        ratios = [s.error_ratio for s in step.samples if s.error_ratio is not None]
        limits = sorted({f"{s.slo} ≤ {s.max_error_ratio:g}" for s in step.samples})
        worst = f"{max(ratios):.4f}" if ratios else "-"
        lines.append(f"| {_label(step)} | {step.verdict} | {len(step.samples)} | {worst} | {'; '.join(limits)} |")
    if state.reason:
        lines += ["", f"**Reason**: {state.reason}"]
    if state.rollback and state.rollback.seconds is not None:
        lines.append(f"Traffic fully on stable {state.rollback.seconds:.2f} s after the first breaching scrape.")
    if state.status not in ("succeeded", "running"):
        lines += ["", f"Runbook: {state.runbook}"]
    return "\n".join(lines) + "\n"


def page(state: RolloutState) -> str:
    title = f"Rollout of {state.release} to {state.env}: {state.status}"
    body = [
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Canary traffic and analysis</h2>",
        _plot(state),
        "<h2>Summary</h2>",
        f"<pre>{html.escape(markdown(state))}</pre>",
    ]
    return reporting.page(title, body)


def _label(step: Step) -> str:
    return "warm-up" if step.weight == 0 else f"{step.weight} %"


def _plot(state: RolloutState) -> str:
    """Each step a bar as wide as it lasted and as high as the canary's share, coloured by its verdict; each sample
    a dot at its error ratio relative to its threshold (the dashed line: the threshold; above it: a breach)."""
    steps = state.history
    end = _end(state)
    total = max((end - state.started_at).total_seconds(), 0.001)

    def x(at: datetime) -> float:
        return LABEL + WIDTH * max(0.0, (at - state.started_at).total_seconds()) / total

    top, bottom = 10, 10 + HEIGHT
    parts = [
        f'<svg id="rollout" xmlns="http://www.w3.org/2000/svg" width="{LABEL + WIDTH + 120}" height="{bottom + 40}">'
    ]
    for i, step in enumerate(steps):
        until = step.finished_at or (steps[i + 1].started_at if i + 1 < len(steps) else end)
        x0, x1 = x(step.started_at), x(until)
        h = HEIGHT * step.weight / 100
        color = COLORS.get(step.verdict, RUNNING)
        tip = html.escape(f"{_label(step)}: {step.verdict}, {len(step.samples)} samples")
        parts.append(
            f'<rect class="step {step.verdict}" x="{x0:.1f}" y="{bottom - h:.1f}" width="{max(x1 - x0, 1):.1f}"'
            f' height="{h:.1f}" fill="{color}"><title>{tip}</title></rect>'
        )
        for s in step.samples:
            if s.error_ratio is None or s.max_error_ratio <= 0:
                continue
            level = min(s.error_ratio / s.max_error_ratio, 2.0) / 2  # the threshold at half height
            cy = bottom - HEIGHT * level
            dot = "#212121" if s.verdict != "breach" else "#b71c1c"
            parts.append(
                f'<circle class="sample {s.verdict}" cx="{x(s.at):.1f}" cy="{cy:.1f}" r="2" fill="{dot}">'
                f"<title>{html.escape(f'{s.slo}: {s.error_ratio:.4f} / {s.max_error_ratio:g}')}</title></circle>"
            )
    mid = bottom - HEIGHT / 2
    parts += [
        f'<line x1="{LABEL}" y1="{mid}" x2="{LABEL + WIDTH}" y2="{mid}" stroke="#212121" stroke-dasharray="4 4"/>',
        f'<text x="{LABEL + WIDTH + 6}" y="{mid + 4}">threshold (error budget)</text>',
        f'<line x1="{LABEL}" y1="{bottom}" x2="{LABEL + WIDTH}" y2="{bottom}" stroke="#616161"/>',
        f'<text x="0" y="{top + 10}">100 %</text><text x="0" y="{bottom}">0 %</text>',
        f'<text x="{LABEL}" y="{bottom + 18}">0 s</text>',
        f'<text x="{LABEL + WIDTH - 40}" y="{bottom + 18}">{total:.1f} s</text>',
        "</svg>",
    ]
    return "\n".join(parts)


def _end(state: RolloutState) -> datetime:
    times = [state.finished_at or state.updated_at]
    for step in state.history:
        times.append(step.finished_at or step.started_at)
        times += [s.at for s in step.samples]
    return max(times)
