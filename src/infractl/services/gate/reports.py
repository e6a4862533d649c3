"""Evidence from the reports other commands wrote, under the evidence folder (default: the work dir):

    reports/tests/junit.xml         `make test` (pytest's JUnit report)
    drills/dr-<env>.json            `infractl drill dr ENV`
    drills/faults-<env>.json        `infractl drill faults ENV`
    reports/scan/scan.json          `infractl scan --report-dir <evidence>/reports/scan`
    reports/validate/validate.json  `infractl validate --report-dir <evidence>/reports/validate`

Each check returns one Evidence: met, not-met (and why, naming what failed), or stale (older than its max_age).
A report that is missing or unreadable is not-met, with the command that makes it."""

from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from infractl.models.drill import DR_PARTS, SCENARIOS, DrReport, FaultsReport
from infractl.models.gate import CheckDef, Evidence, age_text
from infractl.models.scan import ScanReport
from infractl.models.slo import parse_duration
from infractl.models.validation import ValidationReport

TESTS = Path("reports/tests/junit.xml")
SCAN = Path("reports/scan/scan.json")
VALIDATE = Path("reports/validate/validate.json")
MAKERS = {
    "tests": "make test",
    "scan": f"infractl scan --report-dir {{root}}/{SCAN.parent}",
    "validate": f"infractl validate --env {{env}} --report-dir {{root}}/{VALIDATE.parent}",
    "dr": "infractl drill dr {env} --report-dir {root}/drills",
    "faults": "infractl drill faults --report-dir {root}/drills",
}
M = TypeVar("M", bound=BaseModel)
SHOWN = 3  # failing items named in a detail line
SKEW_SECONDS = 300  # evidence dated further ahead than this is not believed (a clock, or an edited report)


def _aware(when: datetime) -> datetime:
    """A naive time is the machine's local time (pytest before 8 wrote its JUnit timestamp so)."""
    return when if when.tzinfo is not None else when.astimezone()


def drill_path(kind: str, env: str) -> Path:
    return Path("drills") / f"{kind}-{env}.json"


def aged(
    check: CheckDef, source: str, observed: datetime, detail: str, now: datetime, maker: str, **facts: object
) -> Evidence:
    """Met evidence, or stale when older than the check's max_age."""
    observed = _aware(observed)
    if (observed - now).total_seconds() > SKEW_SECONDS:
        when = f"{observed.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        return not_met(check, source, f"dated {when}, in the future: a clock or a report is wrong")
    age = max(0.0, (now - observed).total_seconds())
    limit = parse_duration(check.max_age) if check.max_age else None
    status = "stale" if limit is not None and age > limit else "met"
    if status == "stale":
        detail = f"{age_text(age)} old, older than {check.max_age}: run `{maker}` again ({detail})"
    return Evidence(
        kind=check.kind,
        source=source,
        status=status,
        detail=detail,
        observed_at=observed.astimezone(UTC),
        age_seconds=round(age, 1),
        max_age=check.max_age,
        facts=dict(facts),
    )


def not_met(check: CheckDef, source: str, detail: str, observed: datetime | None = None, **facts: object) -> Evidence:
    return Evidence(
        kind=check.kind,
        source=source,
        status="not-met",
        detail=detail,
        observed_at=observed.astimezone(UTC) if observed else None,
        max_age=check.max_age,
        facts=dict(facts),
    )


def maker(check: CheckDef, root: Path, env: str) -> str:
    """The command that makes the check's report in the evidence folder."""
    return MAKERS[check.drill or check.kind].format(env=env, root=root)


def _missing(check: CheckDef, source: str, make: str) -> Evidence:
    return not_met(check, source, f"no report: run `{make}`")


def _load(model: type[M], path: Path) -> M | str:
    """The report, or why it cannot be read (never an exception: a broken report is not-met evidence)."""
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    except UnicodeDecodeError:
        return "not UTF-8 text: not a report infractl wrote"
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        return f"not a {model.__name__} report: {where}: {first['msg']}"


def _read(check: CheckDef, path: Path, model: type[M], make: str) -> tuple[str, M | Evidence]:
    """(source, the report) or (source, the not-met evidence of a missing or unreadable one)."""
    source = str(path)
    if not path.is_file():
        return source, _missing(check, source, make)
    report = _load(model, path)
    return source, (not_met(check, source, report) if isinstance(report, str) else report)  # type: ignore[return-value]


def _mtime(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


# --- tests -------------------------------------------------------------------------------------------------------


def _module_paths(classname: str) -> list[str]:
    """pytest's classname (tests.integration.test_x[.TestClass]) as the file paths it may stand for."""
    parts = classname.split(".")
    return ["/".join(parts[: i + 1]) + ".py" for i in range(len(parts))]


def tests(check: CheckDef, root: Path, now: datetime) -> Evidence:
    path = root / TESTS
    source = str(path)
    make = maker(check, root, "ENV")
    if not path.is_file():
        return _missing(check, source, make)
    try:
        tree = ET.parse(path)
    except (ET.ParseError, OSError) as exc:
        return not_met(check, source, f"not a JUnit report: {exc}")
    suites = [tree.getroot()] if tree.getroot().tag == "testsuite" else list(tree.getroot().iter("testsuite"))
    stamps = [s.get("timestamp") for s in suites if s.get("timestamp")]
    try:
        observed = min(_aware(datetime.fromisoformat(t)) for t in stamps) if stamps else _mtime(path)
    except ValueError:
        return not_met(check, source, f"its timestamp is not an ISO time: {stamps[0]!r}")
    counts = {pattern: {"passed": 0, "failed": [], "skipped": [], "xfailed": 0} for pattern in check.select}
    for case in tree.getroot().iter("testcase"):
        paths = _module_paths(case.get("classname", ""))
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        for pattern in check.select:
            if not any(fnmatch.fnmatchcase(p, pattern) for p in paths):
                continue
            tally = counts[pattern]
            if case.find("failure") is not None or case.find("error") is not None:
                tally["failed"].append(name)
            elif (skipped := case.find("skipped")) is not None:
                if skipped.get("type") == "pytest.xfail":
                    tally["xfailed"] += 1  # an expected failure, declared in the test: neither proof nor a failure
                else:
                    tally["skipped"].append(name)
            else:
                tally["passed"] += 1
    problems = []
    for pattern, tally in counts.items():
        if tally["failed"]:
            problems.append(f"{pattern}: {len(tally['failed'])} failed ({', '.join(tally['failed'][:SHOWN])})")
        elif tally["skipped"]:
            problems.append(
                f"{pattern}: {len(tally['skipped'])} skipped ({', '.join(tally['skipped'][:SHOWN])}):"
                " a skipped test proves nothing"
            )
        elif not tally["passed"]:
            problems.append(f"{pattern}: not in the report (a partial run?)")
    passed = sum(t["passed"] for t in counts.values())
    if problems:
        return not_met(check, source, "; ".join(problems), observed, passed=passed)
    return aged(
        check, source, observed, f"{passed} tests of {len(check.select)} modules passed", now, make, passed=passed
    )


# --- drills ------------------------------------------------------------------------------------------------------


def drill(check: CheckDef, root: Path, gate_env: str, now: datetime, *, emulate: bool) -> Evidence:
    assert check.drill is not None
    env = check.report_env or gate_env
    make = maker(check, root, env)
    model = DrReport if check.drill == "dr" else FaultsReport
    source, report = _read(check, root / drill_path(check.drill, env), model, make)
    if isinstance(report, Evidence):
        return report
    if report.env != env:
        return not_met(check, source, f"the report is of {report.env}, not {env}")
    if isinstance(report, DrReport) and report.emulate and not emulate:
        return not_met(check, source, f"the drill ran on the local emulator, not on {env}: run it without --emulate")
    missing = _not_covered(report)
    if missing:
        return not_met(check, source, f"a partial drill: {missing} did not run", report.finished_at)
    if not report.passed:
        problems = report.failures if isinstance(report, DrReport) else _failed_scenarios(report)
        return not_met(
            check, source, "the drill failed: " + "; ".join(problems[:SHOWN] or ["see its report"]), report.finished_at
        )
    detail = f"the {check.drill} drill passed"
    if isinstance(report, FaultsReport):
        detail += f" ({len(report.scenarios)} scenarios, nothing lost or duplicated)"
    return aged(check, source, report.finished_at, detail, now, make)


def _not_covered(report: DrReport | FaultsReport) -> str:
    """The parts (dr) or scenarios (faults) a partial run left out, or ''."""
    if isinstance(report, DrReport):
        ran, every = {p.part for p in report.parts}, DR_PARTS
    else:
        ran, every = {s.scenario for s in report.scenarios}, SCENARIOS
    return ", ".join(x for x in every if x not in ran)


def _failed_scenarios(report: FaultsReport) -> list[str]:
    return [s.scenario for s in report.scenarios if not s.passed]


# --- scan --------------------------------------------------------------------------------------------------------


def scan(check: CheckDef, root: Path, now: datetime) -> Evidence:
    path, make = root / SCAN, maker(check, root, "ENV")
    source, report = _read(check, path, ScanReport, make)
    if isinstance(report, Evidence):
        return report
    observed = report.finished_at or _mtime(path)
    problems, checked = [], []
    for pattern in check.gates:
        matched = [g for g in report.gates if fnmatch.fnmatchcase(g.name, pattern)]
        if not matched:
            problems.append(f"no {pattern} gate in the scan")
        for gate in matched:
            checked.append(gate.name)
            if gate.status == "failed":
                first = "; ".join(f.message for f in gate.findings[:SHOWN])
                problems.append(f"{gate.name} failed: {len(gate.findings)} findings" + (f" ({first})" if first else ""))
            elif gate.status == "not-run":
                problems.append(f"{gate.name} did not run ({gate.note or 'no reason given'}): never a pass")
    if problems:
        return not_met(check, source, "; ".join(problems), observed, gates=checked)
    return aged(check, source, observed, f"scan gates passed: {', '.join(checked)}", now, make, gates=checked)


# --- validate ----------------------------------------------------------------------------------------------------


def validate(check: CheckDef, root: Path, env: str, now: datetime, stacks: list[str]) -> Evidence:
    """`stacks`: every stack the env deploys (the stack graph's of its cloud): a run that planned fewer is partial."""
    path, make = root / VALIDATE, maker(check, root, env)
    source, report = _read(check, path, ValidationReport, make)
    if isinstance(report, Evidence):
        return report
    observed = report.finished_at or _mtime(path)
    cells = [c for c in report.cells if c.env == env]
    if env not in report.envs or not cells:
        return not_met(check, source, f"validate did not plan {env}: run `{make}`", observed)
    missing = sorted(set(stacks) - {c.stack for c in cells})
    if report.changed_since or missing:
        what = f"only stacks changed since {report.changed_since}" if report.changed_since else ""
        what = what or f"{', '.join(missing)} not planned"
        return not_met(check, source, f"a partial validate ({what}): run `{make}`", observed)
    problems = []
    for gate in check.validate_gates:
        bad = sorted(c.stack for c in cells if c.gates.get(gate) != "pass")
        findings = [f for f in report.findings if f.env == env and f.gate == gate]
        if findings:
            problems.append(
                f"{gate}: {len(findings)} findings ("
                + "; ".join(f"{f.address or f.stack}: {f.message}" for f in findings[:SHOWN])
                + ")"
            )
        elif bad:
            problems.append(f"{gate} did not pass on {', '.join(bad)}")
    if problems:
        return not_met(check, source, "; ".join(problems), observed)
    stacks = len(cells)
    detail = f"{', '.join(check.validate_gates)} passed on {stacks} stacks of {env}"
    return aged(check, source, observed, detail, now, make, stacks=stacks)
