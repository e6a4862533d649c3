"""Report files of `infractl scan`: scan.json (everything, `model_dump`) and scan.md (a Markdown summary CI
appends to $GITHUB_STEP_SUMMARY). A gate that did not run is shown as such, never as passed."""

from __future__ import annotations

from pathlib import Path

from infractl.adapters import files
from infractl.models.scan import ScanReport

JSON_FILE = "scan.json"
MARKDOWN_FILE = "scan.md"
ICON = {"passed": "✅ passed", "failed": "❌ failed", "not-run": "⚪ not run"}


def write(report: ScanReport, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / JSON_FILE, directory / MARKDOWN_FILE]
    files.write_json(paths[0], report.model_dump(mode="json"))
    paths[1].write_text(markdown(report), encoding="utf-8")
    return paths


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: ScanReport) -> str:
    counts = report.counts()
    verdict = "all gates that ran passed" if report.ok else f"{counts['failed']} gate(s) failed"
    lines = [
        "## infractl scan",
        "",
        f"{verdict}: {counts['passed']} passed, {counts['failed']} failed, {counts['not-run']} not run"
        + (f" (API base `{report.base[:12]}`)" if report.base else ""),
        "",
        "| gate | status | tool | findings | note |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for g in report.gates:
        tool = f"{g.tool} {g.tool_version}".strip()
        lines.append(f"| {_cell(g.name)} | {ICON[g.status]} | {_cell(tool)} | {len(g.findings)} | {_cell(g.note)} |")
    failing = [g for g in report.gates if g.findings]
    for g in failing:
        lines += ["", f"### {g.name}", ""]
        for f in g.findings:
            where = f"`{_cell(f.where())}` " if f.where() else ""
            lines.append(f"- {where}**{_cell(f.rule)}**: {_cell(f.message)}")
    return "\n".join(lines) + "\n"
