"""The gate verdict's HTML page, rendered by a real browser (headless Chromium): each piece of report evidence is a
bar as long as its age relative to its limit, green when met and amber when stale; live evidence is a dot; and the
Markdown a CI job summary shows names each criterion with its evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from infractl.models.gate import CriterionResult, Evidence, Verdict
from infractl.services.gate import verdict
from tests import pages

T0 = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
GREEN, AMBER = (0x2E, 0x7D, 0x32), (0xF9, 0xA8, 0x25)


def _verdict() -> Verdict:
    def ev(kind: str, status: str, age: float | None, max_age: str | None) -> Evidence:
        return Evidence(
            kind=kind, source=f"{kind}.json", status=status, detail=f"{kind} {status}", age_seconds=age, max_age=max_age
        )

    return Verdict(
        gate="infra",
        title="Infrastructure complete",
        env="dev",
        definition="gates/infra.yaml",
        evidence_dir="/evidence",
        commit="0123456789abcdef",
        started_at=T0,
        finished_at=T0,
        criteria=[
            CriterionResult(
                id="persistence",
                title="Data persists",
                evidence=[ev("tests", "met", 3600.0, "7d"), ev("drill", "stale", 40 * 86400.0, "30d")],
            ),
            CriterionResult(
                id="evidence-integrity", title="The ledger verifies", evidence=[ev("ledger", "met", None, None)]
            ),
        ],
    )


def test_chromium_draws_each_evidence_age_against_its_limit(tmp_path: Path) -> None:
    v = _verdict()
    width, height, pixels = pages.screenshot(verdict.page(v), tmp_path, (1000, 700))
    assert (width, height) == (1000, 700)
    green = sum(1 for p in pixels if p == bytes(GREEN))
    amber = sum(1 for p in pixels if p == bytes(AMBER))
    # the stale drill (40 d of 30 d: past the limit, drawn to the edge) is far longer than the hour-old tests' bar
    assert amber > 5 * 1000 and green > 0, (green, amber)
    text = verdict.markdown(v)
    assert "## Gate infra (Infrastructure complete) for dev: NOT MET" in text
    assert "| **persistence**: Data persists | stale | tests: `tests.json` (met) | 1.0h / 7d |" in text
    assert "drill: `drill.json` (stale)" in text and "| live |" in text
