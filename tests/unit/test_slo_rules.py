"""The generated rule file: every series and alert labelled as the contract says, every alert linked to a runbook
that exists and names it, and every runbook's first checks are commands infractl has."""

from __future__ import annotations

import re

import pytest
from tests.conftest import REPO

from infractl.models.project import Project
from infractl.models.slo import METRIC_NAME
from infractl.services import environments, slo
from infractl.services.slo import output

ENVS = ("dev", "staging", "prod")
BASE = "https://github.com/example-org/control-plane/blob/main"


@pytest.fixture(scope="module")
def rulesets():
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    return {env: slo.load(REPO, environments.load(project, env)) for env in ENVS}


@pytest.mark.parametrize("env", ENVS)
def test_every_series_and_alert_carries_the_contract_labels(rulesets, env):
    groups = slo.rule_groups(rulesets[env])
    assert [g["name"] for g in groups] == [f"slo-{s.name}" for s in rulesets[env].slos]
    alerts = []
    for group in groups:
        name = group["name"].removeprefix("slo-")
        service = next(s.service for s in rulesets[env].slos if s.name == name)
        for rule in group["rules"]:
            expected = {"slo": name, "service": service, "env": env}
            if "record" in rule:
                assert re.fullmatch(METRIC_NAME, rule["record"]) and rule["record"].startswith("slo:")
                assert rule["labels"] == expected
            else:
                alerts.append(rule["alert"])
                assert rule["labels"] == {"severity": rule["labels"]["severity"], **expected}
                assert rule["labels"]["severity"] in ("page", "ticket")
                assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
                assert rule["for"] == rulesets[env].alert_for[rule["labels"]["severity"]]
        # recording rules first: an alert reads what its group recorded in the same evaluation
        kinds = ["record" in r for r in group["rules"]]
        assert kinds == sorted(kinds, reverse=True)
    assert len(alerts) == len(set(alerts)) == 13


@pytest.mark.parametrize("env", ENVS)
def test_every_runbook_url_is_an_existing_runbook_that_names_its_alert(rulesets, env):
    for group in slo.rule_groups(rulesets[env]):
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            url = rule["annotations"]["runbook_url"]
            assert url.startswith(f"{BASE}/docs/runbooks/") and url.endswith(".md")
            path = REPO / url.removeprefix(f"{BASE}/")
            assert path.is_file(), f"{rule['alert']}: {url} names no file"
            text = path.read_text()
            assert text.startswith(f"# Runbook: {rule['alert']}\n"), path
            assert f"`{rule['alert']}`" in text


def test_the_burn_rate_alerts_are_the_workbook_pairs_over_the_recorded_burn_rates(rulesets):
    group = next(g for g in slo.rule_groups(rulesets["prod"]) if g["name"] == "slo-api-availability")
    rules = {r.get("alert") or r["record"]: r for r in group["rules"]}
    sel = '{slo="api-availability", env="prod"}'
    assert rules["ApiAvailabilityBudgetBurnPage"]["expr"] == (
        f"(slo:burn_rate:rate1h{sel} > 14.4 and slo:burn_rate:rate5m{sel} > 14.4)"
        f" or (slo:burn_rate:rate6h{sel} > 6 and slo:burn_rate:rate30m{sel} > 6)"
    )
    assert rules["ApiAvailabilityBudgetBurnTicket"]["expr"] == (
        f"(slo:burn_rate:rate1d{sel} > 3 and slo:burn_rate:rate2h{sel} > 3)"
        f" or (slo:burn_rate:rate3d{sel} > 1 and slo:burn_rate:rate6h{sel} > 1)"
    )
    assert rules["slo:burn_rate:rate1h"]["expr"] == f"slo:sli_error:ratio_rate1h{sel} / 0.001"
    assert rules["slo:objective:ratio"]["expr"] == "vector(0.999)"
    assert rules["slo:error_budget_remaining:ratio"]["expr"] == f"1 - slo:sli_error:ratio_rate30d{sel} / 0.001"
    # an SLI without a single error series yet reads 0, not nothing
    assert rules["slo:sli_errors:rate5m"]["expr"].endswith(" or vector(0)")
    assert "or vector(0)) / (" in rules["slo:sli_error:ratio_rate1h"]["expr"]


def test_latency_slis_count_events_above_a_bucket_as_the_client_labels_it(rulesets):
    exprs = {
        g["name"]: next(r["expr"] for r in g["rules"] if r.get("record") == "slo:sli_error:ratio_rate1h")
        for g in slo.rule_groups(rulesets["prod"])
    }
    assert 'controlplane_http_request_duration_seconds_bucket{le="0.5"}[1h]' in exprs["slo-api-latency"]
    assert 'controlplane_workflow_duration_seconds_bucket{le="60.0"}[1h]' in exprs["slo-workflow-latency"]


def test_the_evidence_freshness_alert_uses_the_envs_max_age(rulesets):
    for env, seconds in (("dev", 600), ("prod", 3600)):
        group = next(g for g in slo.rule_groups(rulesets[env]) if g["name"] == "slo-evidence-integrity")
        rule = next(r for r in group["rules"] if r.get("alert") == "EvidenceIntegrityVerifyStale")
        assert rule["expr"] == (
            f"time() - max(controlplane_evidence_verify_last_success_timestamp_seconds) > {seconds}"
        )
        assert rule["labels"]["severity"] == "ticket"


def test_the_rule_file_is_plain_yaml_without_anchors(rulesets):
    text = output.rules_yaml(rulesets["prod"])
    assert "&id" not in text and "*id" not in text
    assert text.startswith("# Generated by `infractl slo render prod`")


def _commands(text: str) -> list[str]:
    return re.findall(r"`(infractl [^`]+)`", text)


def test_every_command_a_runbook_tells_you_to_run_exists():
    import typer.main

    from infractl.cli.main import app

    root = typer.main.get_command(app)
    runbooks = sorted((REPO / "docs" / "runbooks").glob("*.md"))
    checked = 0
    for path in runbooks:
        for command in _commands(path.read_text()):
            words = command.split()[1:]
            cmd = root
            while hasattr(cmd, "commands") and words and words[0] in cmd.commands:
                cmd = cmd.commands[words.pop(0)]
            assert not hasattr(cmd, "commands"), f"{path.name}: `{command}` is not a command"
            options = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
            unknown = [w for w in words if w.startswith("-") and w not in options]
            assert unknown == [], f"{path.name}: `{command}`: no option {unknown}"
            checked += 1
    assert checked >= 40
