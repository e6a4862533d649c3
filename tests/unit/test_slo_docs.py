"""docs/slo.md says what the code does: its objectives table is the env models', its alert table the rules', its
windows table the windows infractl computes; and the pages it points at exist."""

from __future__ import annotations

import re

import pytest
from tests.conftest import REPO

from infractl.models.project import Project
from infractl.services import environments, slo

DOC = (REPO / "docs" / "slo.md").read_text()
ENVS = ("dev", "staging", "prod")


@pytest.fixture(scope="module")
def slosets():
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    return {env: slo.load(REPO, environments.load(project, env)) for env in ENVS}


def _table(heading: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the first table after `heading`, cells stripped."""
    lines = DOC[DOC.index(heading) :].splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[first:]:
        if not line.startswith("|"):
            break
        table.append([c.strip() for c in line.strip("|").split("|")])
    return table[0], table[2:]


def test_the_objectives_table_is_the_env_models(slosets):
    header, rows = _table("### Objectives per environment")
    assert header == ["SLO", *ENVS]
    documented = {r[0].strip("`"): r[1:] for r in rows}
    computed = {
        s.name: [f"{next(x for x in slosets[env].slos if x.name == s.name).objective:g}%" for env in ENVS]
        for s in slosets["prod"].slos
    }
    computed["period"] = [slosets[env].period for env in ENVS]
    assert documented == computed


def test_the_alert_table_is_the_rules_alerts_with_their_runbooks(slosets):
    _, rows = _table("## Alerts and runbooks")
    documented = {
        (r[0].strip("`"), r[1], r[2].strip("`"), re.search(r"\((runbooks/[^)]+)\)", r[3]).group(1)) for r in rows
    }
    computed = {
        (a.name, a.severity, s.name, a.runbook.removeprefix("docs/")) for s in slosets["prod"].slos for a in s.alerts
    }
    assert documented == computed
    for _, _, _, runbook in documented:
        assert (REPO / "docs" / runbook).is_file()


def test_the_windows_tables_are_what_infractl_computes(slosets):
    _, thirty = _table("### Windows")
    assert [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in thirty] == [
        (
            w.severity,
            w.long,
            w.short,
            f"{w.factor:g}",
            f"{w.budget_consumed * 100:g}%",
            slosets["prod"].alert_for[w.severity],
        )
        for w in slosets["prod"].windows
    ]
    _, per_env = _table("The result per environment")
    for row in per_env:
        s = slosets[row[0]]
        assert row[1:3] == [s.period, s.scrape_interval]
        found = re.findall(r"([0-9a-z]+)/([0-9a-z]+)", f"{row[3]}, {row[4]}")
        assert found == [(w.long, w.short) for w in s.windows], row
        assert row[5] == f"{s.alert_for['page']} / {s.alert_for['ticket']}"


def test_the_pages_slo_md_links_to_exist():
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)", DOC):
        assert (REPO / "docs" / target).exists(), target
