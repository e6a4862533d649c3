"""The rollout report's HTML page, rendered by a real browser (headless Chromium): each step is a bar as wide as it
lasted and as high as the canary's share, blue when it passed and red when it breached; and the Markdown summary a
CI job can show names the reason and the runbook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infractl.models.rollout import Rollback, RolloutState, Sample, Step
from infractl.services.rollout import report
from tests import pages

T0 = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
BLUE, RED = (0x15, 0x65, 0xC0), (0xC6, 0x28, 0x28)


def _state() -> RolloutState:
    def at(s: float) -> datetime:
        return T0 + timedelta(seconds=s)

    def sample(s: float, ratio: float, verdict: str) -> Sample:
        return Sample(
            at=at(s), slo="api-availability", error_ratio=ratio, requests=50, max_error_ratio=0.01, verdict=verdict
        )

    return RolloutState(
        id="x",
        env="dev",
        release="r2",
        stable="r1",
        strategy="canary",
        steps=[10, 25, 50, 100],
        status="rolled-back",
        reason="api-availability breached at 50 %",
        started_at=T0,
        updated_at=at(20),
        finished_at=at(20),
        history=[
            Step(weight=10, started_at=at(0), finished_at=at(5), verdict="passed", samples=[sample(4, 0.0, "pass")]),
            Step(weight=25, started_at=at(5), finished_at=at(10), verdict="passed", samples=[sample(9, 0.0, "pass")]),
            Step(
                weight=50,
                started_at=at(10),
                finished_at=at(20),
                verdict="breached",
                samples=[sample(19, 0.3, "breach")],
            ),
        ],
        rollback=Rollback(reason="api-availability breached at 50 %", stable_at=at(20), seconds=0.4),
    )


def test_chromium_draws_each_step_as_its_share_over_its_time(tmp_path: Path):
    width, height, pixels = pages.screenshot(report.page(_state()), tmp_path, (1000, 600))
    assert (width, height) == (1000, 600)
    blue = sum(1 for p in pixels if p == bytes(BLUE))
    red = sum(1 for p in pixels if p == bytes(RED))
    # 640 px span 20 s (32 px a second); 100 % is 200 px high: 10 % for 5 s and 25 % for 5 s in blue, 50 % for 10 s
    # in red (a dot or a line crossing a bar takes a few of its pixels: hence the tolerance)
    assert blue == pytest.approx(5 * 32 * 20 + 5 * 32 * 50, rel=0.05)
    assert red == pytest.approx(10 * 32 * 100, rel=0.05)


def test_the_markdown_summary_and_the_files(tmp_path: Path):
    paths = report.write(_state(), tmp_path / "reports")
    assert [Path(p).name for p in paths] == ["rollout-dev.json", "rollout-dev.md", "rollout-dev.html"]
    text = Path(paths[1]).read_text()
    assert "| 50 % | breached | 1 | 0.3000 | api-availability ≤ 0.01 |" in text
    assert (
        "**Reason**: api-availability breached at 50 %" in text and "Runbook: docs/runbooks/rollout-failed.md" in text
    )
    assert RolloutState.model_validate_json(Path(paths[0]).read_text()).files == paths
