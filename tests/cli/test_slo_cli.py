"""infractl slo render / list through the CLI: what they print and write, --json, and bad input as exit 3 with one
`file: field: problem` line and no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO


@pytest.fixture
def tree(tmp_path, monkeypatch) -> Path:
    """A project with the repository's environments/ and slo/ (and no runbooks), its work dir the default."""
    monkeypatch.delenv("INFRACTL_WORK_DIR", raising=False)
    root = tmp_path / "project"
    for folder in ("environments", "slo"):
        shutil.copytree(REPO / folder, root / folder)
    return root


def test_list_json_is_the_computed_set(invoke):
    result = invoke("slo", "list", "prod", "--json", root=REPO)
    data = json.loads(result.stdout)
    assert result.stderr == ""
    assert (data["env"], data["period"], data["base_window"]) == ("prod", "30d", "5m")
    objectives = {s["name"]: s["objective"] for s in data["slos"]}
    assert objectives["api-availability"] == 99.9 and len(objectives) == 6
    alerts = [a for s in data["slos"] for a in s["alerts"]]
    assert len(alerts) == 13
    page = next(a for a in alerts if a["name"] == "ApiAvailabilityBudgetBurnPage")
    assert page["runbook_url"] == (
        "https://github.com/example-org/control-plane/blob/main/docs/runbooks/api-availability-budget-burn-page.md"
    )
    assert page["for_duration"] == "2m"


def test_list_table(invoke):
    out = invoke("slo", "list", "dev", root=REPO).stdout
    assert "SLOs of dev: period 1d, scrape interval 5s (no window under 20s)" in out
    assert "ApiAvailabilityBudgetBurnPage" in out and "api-availability-budget-burn-page.md" in out
    assert "2h24m" in out  # the windows table


def test_render_writes_into_the_work_dir_by_default_and_says_what(invoke, tree):
    result = invoke("slo", "render", "dev", root=tree)
    rules = tree / ".infractl" / "slo" / "rules" / "dev-slo.rules.yml"
    assert rules.is_file()
    assert f"{rules}: 6 group(s), 126 recording rules, 13 alerts" in result.stdout
    boards = sorted((tree / ".infractl" / "slo" / "dashboards").glob("*.json"))
    assert [b.name for b in boards] == ["dev-api.json", "dev-evidence.json", "dev-slo-overview.json", "dev-worker.json"]
    assert all(f"{b}: dashboard" in result.stdout for b in boards)
    assert len(yaml.safe_load(rules.read_text())["groups"]) == 6
    # this project has no docs/runbooks: each link that leads nowhere is a note on stderr, not an error
    assert result.stderr.count("no such runbook in this project") == 13


def test_render_json_and_out(invoke, tmp_path):
    result = invoke("slo", "render", "prod", "--out", str(tmp_path / "o"), "--json", root=REPO)
    data = json.loads(result.stdout)
    assert data["rule_file"] == str(tmp_path / "o" / "rules" / "prod-slo.rules.yml")
    assert len(data["dashboards"]) == 4 and data["notes"] == []
    assert "ApiAvailabilityBudgetBurnTicket" in data["alerts"]
    assert result.stderr == ""


def test_a_broken_definition_exits_3_with_one_line_and_writes_nothing(invoke, tree):
    path = tree / "slo" / "api.yaml"
    path.write_text(path.read_text().replace("threshold_seconds: 0.5", "threshold_seconds: 0.3"))
    result = invoke("slo", "render", "prod", root=tree, code=3)
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: slo/api.yaml: slos.1.sli.threshold_seconds: 0.3 is not a bucket boundary of"
        " controlplane_http_request_duration_seconds; use one of 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10"
        " (got 0.3)"
    ]
    assert "hint: fix slo/api.yaml and run the command again" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tree / ".infractl" / "slo").exists()


def test_a_missing_runbook_base_url_exits_3(invoke, tree):
    path = tree / "environments" / "staging.yaml"
    data = yaml.safe_load(path.read_text())
    del data["slo"]["runbook_base_url"]
    path.write_text(yaml.safe_dump(data))
    result = invoke("slo", "list", "staging", root=tree, code=3)
    assert "error: environments/staging.yaml: slo.runbook_base_url: required to render the SLO alerts" in result.stderr


def test_unknown_and_invalid_env_names(invoke):
    assert "no environment named 'nope'" in invoke("slo", "list", "nope", root=REPO, code=3).stderr
    assert "is not an environment name" in invoke("slo", "render", "../x", root=REPO, code=2).stderr


def test_an_unwritable_out_dir_exits_3(invoke, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("slo", "render", "dev", "--out", str(blocker), root=REPO, code=3)
    assert f"error: --out {blocker}: cannot write" in result.stderr
