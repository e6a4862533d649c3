"""The drills' shared pieces without any engine: timed steps (a tool error or a failed check ends the part with its
reason), the prod guard, and the report in its three forms."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from infractl.errors import ExternalToolError, RefusedError
from infractl.models.drill import DrillStep, DrReport, FaultsReport, Measure, PartResult, ScenarioResult, WorkloadCheck
from infractl.models.environment import Recovery
from infractl.services.drill import guard, report
from infractl.services.drill.steps import Steps

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def test_a_tool_error_fails_its_step_with_the_hint_and_ends_the_part():
    lines: list[str] = []
    steps = Steps(prefix="database", progress=lines.append)
    ran = []
    with steps.part():
        with steps.step("base-backup") as t:
            t.detail, t.facts["bytes"] = "32 MiB", 1
        with steps.step("restore"):
            raise ExternalToolError("pg_ctl exited with 1", details=["FATAL: no WAL"], hint="see postgres-restored.log")
        ran.append("after")  # never reached
    assert ran == []
    assert [(s.name, s.status) for s in steps.steps] == [
        ("database.base-backup", "passed"),
        ("database.restore", "failed"),
    ]
    assert steps.steps[1].reason == "pg_ctl exited with 1: FATAL: no WAL (see postgres-restored.log)"
    assert steps.steps[0].facts == {"bytes": 1} and steps.steps[0].seconds >= 0
    assert any("database.restore: failed" in line for line in lines)


def test_a_failed_check_inside_its_step_keeps_the_steps_time_and_facts():
    steps = Steps(prefix="evidence")
    with steps.part(), steps.step("compare") as t:
        t.facts["objects"] = 12
        steps.fail("compare", "1 of 12 objects missing: k1", missing=1)
    (only,) = steps.steps
    assert (only.name, only.status, only.reason) == ("evidence.compare", "failed", "1 of 12 objects missing: k1")
    assert only.facts == {"objects": 12, "missing": 1}


def test_a_skipped_step_says_why():
    steps = Steps(prefix="database")
    with steps.part(), steps.step("rds") as t:
        t.skipped = "no data stack"
    assert (steps.steps[0].status, steps.steps[0].detail) == ("skipped", "no data stack")


class _Env:
    def __init__(self, name: str, drills: str) -> None:
        self.name = name
        self.recovery = Recovery(rpo_minutes=15, rto_minutes=60, drills=drills)


def test_guard_refuses_prod_and_asks_for_yes_where_the_model_says_confirm():
    with pytest.raises(RefusedError, match=r"refused in prod \(environments/prod.yaml: recovery.drills: refused\)"):
        guard.check(_Env("prod", "refused"), "dr", yes=True)
    with pytest.raises(RefusedError) as exc:
        guard.check(_Env("staging", "confirm"), "faults", yes=False)
    assert exc.value.hint == "re-run with --yes"
    guard.check(_Env("staging", "confirm"), "faults", yes=True)
    guard.check(_Env("dev", "allowed"), "dr", yes=False)


def _step(name: str, offset: float, seconds: float, status: str = "passed", **kw) -> DrillStep:
    return DrillStep(name=name, status=status, started_at=T0 + timedelta(seconds=offset), seconds=seconds, **kw)


def _dr(passed: bool = True) -> DrReport:
    restore = _step("database.restore", 2, 3.5) if passed else _step("database.restore", 2, 0.5, "failed", reason="x|y")
    return DrReport(
        env="dev",
        emulate=True,
        target="local",
        started_at=T0,
        finished_at=T0 + timedelta(seconds=30),
        parts=[PartResult(part="database", steps=[_step("database.base-backup", 0, 1.5), restore])],
        measures=[
            Measure(name="rpo", scope="database", target_minutes=1, measured_seconds=75.0, detail="3 of 900 lost"),
            Measure(name="rto", scope="database", target_minutes=480, measured_seconds=6.2, detail="loss to ready"),
        ],
        notes=["timings on the emulator mean nothing"],
    )


def test_the_verdict_counts_every_step_and_every_objective():
    r = _dr()
    assert not r.passed and r.failures == ["rpo: 3 of 900 lost"]  # 75 s > 1 min
    r.measures[0].target_minutes = 2
    assert r.passed and r.failures == []
    assert not _dr(passed=False).passed


def test_markdown_has_the_objectives_steps_failures_and_notes():
    md = report.markdown(_dr(passed=False))
    assert md.startswith("# Disaster recovery drill: dev — FAILED")
    assert "| RPO | database | 1 min | 75.0 s | FAIL | 3 of 900 lost |" in md
    assert "| database.restore | failed | 0.50 | x\\|y |" in md  # a | in a reason does not break the table
    assert "## Failures" in md and "- timings on the emulator mean nothing" in md


class _Svg(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rects: list[dict[str, str]] = []
        self.svgs: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svgs.append(a.get("id", ""))
        if tag == "rect":
            self.rects.append(a)
        if tag in ("script", "link", "img") or (a.get("src") or a.get("href", "")).startswith("http"):
            self.external.append(tag)


def test_the_html_page_plots_each_step_at_its_offset_and_fetches_nothing():
    parser = _Svg()
    parser.feed(report.page(_dr()))
    assert parser.svgs == ["objectives", "timeline"] and parser.external == []
    steps = [r for r in parser.rects if "step" in r.get("class", "")]
    assert len(steps) == 2
    first, second = (float(r["x"]) for r in steps)
    assert second > first  # the restore started 2 s after the base backup
    widths = [float(r["width"]) for r in steps]
    assert widths[1] / widths[0] == pytest.approx(3.5 / 1.5, rel=0.01)


def test_write_puts_three_files_and_the_json_is_the_model(tmp_path):
    r = _dr()
    files = report.write(r, tmp_path / "reports")
    assert [f.rsplit("/", 1)[1] for f in files] == ["dr-dev.json", "dr-dev.md", "dr-dev.html"]
    assert DrReport.model_validate(json.loads((tmp_path / "reports" / "dr-dev.json").read_text())) == r


def test_a_faults_report_lists_each_scenario_and_names_each_problem():
    check = WorkloadCheck(started=20, completed=19, lost=1, problems=["run r-7: no completion"])
    r = FaultsReport(
        env="dev",
        workflows=20,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=40),
        scenarios=[
            ScenarioResult(scenario="worker-kill", steps=[_step("worker-kill.kill", 1, 0.1)], check=check),
            ScenarioResult(
                scenario="api-kill",
                steps=[_step("api-kill.kill", 5, 0.1)],
                check=WorkloadCheck(started=20, completed=20),
                recovery_seconds=1.25,
            ),
        ],
    )
    assert not r.passed
    md = report.markdown(r)
    assert "| worker-kill | FAIL | 20 | 19 | 1 | 0 | - |" in md
    assert "| api-kill | pass | 20 | 20 | 0 | 0 | 1.25 |" in md
    assert "- worker-kill: run r-7: no completion" in md
