"""The drill report's HTML page, rendered by a real browser (headless Chromium): the timeline's bars and the
objectives' bars are drawn, in the step's colour, with the areas their durations give them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infractl.models.drill import DrillStep, DrReport, Measure, PartResult
from infractl.services.drill import report
from tests import pages

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
GREEN, RED = (0x2E, 0x7D, 0x32), (0xC6, 0x28, 0x28)


def _report() -> DrReport:
    def step(name: str, offset: float, seconds: float, status: str = "passed") -> DrillStep:
        return DrillStep(name=name, status=status, started_at=T0 + timedelta(seconds=offset), seconds=seconds)

    return DrReport(
        env="dev",
        emulate=True,
        target="local",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=20),
        parts=[
            PartResult(
                part="database",
                steps=[
                    step("database.base-backup", 0, 4),
                    step("database.restore", 4, 8),
                    step("evidence.compare", 12, 8, "failed"),
                ],
            )
        ],
        measures=[Measure(name="rto", scope="database", target_minutes=1, measured_seconds=12.0)],
    )


def test_chromium_draws_the_timeline_and_the_objectives(tmp_path: Path):
    width, height, pixels = pages.screenshot(report.page(_report()), tmp_path, (1100, 700))
    assert (width, height) == (1100, 700)
    green = sum(1 for p in pixels if p == bytes(GREEN))
    red = sum(1 for p in pixels if p == bytes(RED))
    # the bars: 16 px high; the timeline's 640 px span 20 s (4 + 8 s green, 8 s red); the objectives' scale is the
    # 60 s target, so the 12 s RTO bar (green, met) is 128 px wide
    step_px = 640 / 20
    assert green == pytest.approx(16 * ((4 + 8) * step_px + 12 * 640 / 60), rel=0.1)
    assert red == pytest.approx(16 * 8 * step_px, rel=0.1)
