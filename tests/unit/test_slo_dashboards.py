"""The dashboards: Grafana JSON from the typed SDK, one overview and one per service area, every query plain PromQL
over series that exist (the recorded SLO series, the runtime's metric families)."""

from __future__ import annotations

import json
import re

import pytest
from tests.conftest import REPO

from infractl.models.project import Project
from infractl.services import environments, slo
from infractl.services.slo.dashboards import queries

# The runtime's metric families (the metrics contract of issue 18), as Prometheus names their series.
RUNTIME = {
    "controlplane_http_requests_total",
    "controlplane_http_request_duration_seconds_bucket",
    "controlplane_runs_started_total",
    "controlplane_workflow_completions_total",
    "controlplane_workflow_duration_seconds_bucket",
    "controlplane_activity_executions_total",
    "controlplane_activity_duration_seconds_bucket",
    "controlplane_outbox_published_total",
    "controlplane_evidence_verifications_total",
    "controlplane_evidence_verify_last_success_timestamp_seconds",
}


@pytest.fixture(scope="module", params=["dev", "prod"])
def sloset(request):
    return slo.load(REPO, environments.load(Project(root=REPO, work_dir=REPO / ".infractl"), request.param))


def test_one_overview_and_one_dashboard_per_service_area(sloset):
    boards = slo.dashboards(sloset)
    env = sloset.env
    assert list(boards) == [f"{env}-slo-overview", f"{env}-api", f"{env}-evidence", f"{env}-worker"]
    for stem, board in boards.items():
        assert board["uid"] == stem and len(stem) <= 40
        assert json.loads(json.dumps(board)) == board
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids))
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
        for panel in board["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
                assert panel["targets"] and panel["title"] and panel["description"]


def test_every_query_is_plain_promql_over_series_that_exist(sloset):
    recorded = {r["record"] for g in slo.rule_groups(sloset) for r in g["rules"] if "record" in r}
    for stem, board in slo.dashboards(sloset).items():
        for expr in queries(board):
            assert "$" not in expr, f"{stem}: a Grafana variable in {expr}"
            names = set(re.findall(r"\b(slo:[a-z_:0-9]+|controlplane_[a-z_]+|ALERTS)\b", expr))
            assert names, expr
            unknown = {n for n in names if n not in recorded | RUNTIME | {"ALERTS"}}
            assert unknown == set(), f"{stem}: {expr} reads {unknown}"
            windows = set(re.findall(r"\[([0-9a-z]+)\]", expr))
            assert windows <= {sloset.base_window, sloset.period}, f"{stem}: {expr}"


def test_the_red_panels_of_the_api_and_the_worker_are_there(sloset):
    boards = slo.dashboards(sloset)
    titles = {stem.split("-", 1)[1]: [p["title"] for p in b["panels"]] for stem, b in boards.items()}
    assert {"Requests per second", "Server error ratio", "Latency quantiles"} <= set(titles["api"])
    assert {"Workflows finished per second", "Workflow failure ratio", "Activity attempts per second"} <= set(
        titles["worker"]
    )
    assert {"Error budget remaining (" + sloset.period + ")", "Burn rate (page windows)"} <= set(titles["slo-overview"])
    latency = next(p for p in boards[f"{sloset.env}-api"]["panels"] if p["title"] == "Latency quantiles")
    assert all(t["exemplar"] for t in latency["targets"])  # exemplars carry the trace id


def test_write_puts_the_rule_file_and_the_dashboards_where_the_contract_says(sloset, tmp_path):
    paths = slo.write(sloset, tmp_path)
    env = sloset.env
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        f"rules/{env}-slo.rules.yml",
        f"dashboards/{env}-slo-overview.json",
        f"dashboards/{env}-api.json",
        f"dashboards/{env}-evidence.json",
        f"dashboards/{env}-worker.json",
    ]
    import yaml

    assert yaml.safe_load(paths[0].read_text())["groups"] == slo.rule_groups(sloset)
    assert json.loads(paths[1].read_text())["uid"] == f"{env}-slo-overview"
