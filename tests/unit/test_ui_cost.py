"""`infractl cost rightsize`'s rendering (cli/ui_cost.py): one plain line a resource off a terminal, a table on one;
text from outside is printed literally, unpriced resources are named, never shown as 0."""

from __future__ import annotations

import io

from rich.console import Console

from infractl.cli import ui_cost
from infractl.models.rightsize import Measurement, Recommendation, RightsizeReport


def _report() -> RightsizeReport:
    db = Recommendation(
        kind="database",
        name="dev-control-plane",
        current="db.r6g.xlarge",
        recommended="db.r6g.large",
        action="downsize",
        confidence="high",
        measurements=[Measurement(dimension="cpu", source="CloudWatch", samples=168, expected=168, peak_percent=10)],
        current_monthly_usd=360.62,
        recommended_monthly_usd=180.31,
        reasons=["cpu p95 10.0 % of 4.00 vCPU: needs 0.57 vCPU to stay at or below 70% (30 % headroom)"],
    )
    pod = Recommendation(kind="pod", name="api [bold]", current="cpu 100m / memory 256Mi", action="insufficient-data")
    return RightsizeReport(
        env="dev",
        region="eu-west-1",
        catalog_version="2026.12.3",
        lookback="7d",
        period="5m",
        percentile=95,
        headroom_percent={"database": 30, "nodes": 25, "pods": 20},
        start="2026-12-01T00:00:00+00:00",
        end="2026-12-08T00:00:00+00:00",
        recommendations=[db, pod],
        notes=["pods not measured"],
    )


def test_plain_lines_off_a_terminal(capsys):
    ui_cost.print_rightsize(_report())
    text = capsys.readouterr().out
    assert "dev-control-plane: db.r6g.xlarge -> db.r6g.large downsize (high confidence; peak cpu 10 %)" in text
    assert "$360.62 -> $180.31 saving +180.31" in text
    assert "api [bold]: cpu 100m / memory 256Mi -> - insufficient-data" in text  # literal, not markup
    assert "monthly saving if applied: 180.31 USD" in text
    assert "1 unpriced, not counted: pod/api [bold]" in text and "note pods not measured" in text


def test_a_table_on_a_terminal(monkeypatch):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200, markup=False, highlight=False, color_system=None)
    monkeypatch.setattr(ui_cost, "out", lambda: console)
    ui_cost.print_rightsize(_report())
    text = buffer.getvalue()
    assert "┃ kind" in text and "db.r6g.large" in text and "+180.31" in text and "unpriced" in text
