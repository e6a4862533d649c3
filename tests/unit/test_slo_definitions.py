"""The SLO definitions: the shipped ones load for every env, the schema file is the model's, and every broken input
is a ConfigError naming the file, the field and the fix."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO

from infractl.errors import ConfigError
from infractl.models.project import Project
from infractl.models.slo import json_schema
from infractl.services import environments, slo

SLOS = {
    "api-availability",
    "api-latency",
    "workflow-completion",
    "workflow-latency",
    "worker-activity-failures",
    "evidence-integrity",
}


def _load(root: Path, env: str):
    return slo.load(root, environments.load(Project(root=root, work_dir=root / ".infractl"), env))


@pytest.fixture
def tree(tmp_path) -> Path:
    """A copy of environments/ and slo/ to break."""
    for folder in ("environments", "slo"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    return tmp_path


def _error(root: Path, env: str = "prod") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        _load(root, env)
    return info.value


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_the_shipped_slos_load_for_every_env(env):
    sloset = _load(REPO, env)
    assert {s.name for s in sloset.slos} == SLOS
    assert len(sloset.alerts()) == 13
    for s in sloset.slos:
        assert [a.severity for a in s.alerts if a.kind == "burn"] == ["page", "ticket"]
        assert s.error_budget == pytest.approx(1 - s.objective / 100)


def test_objectives_come_from_the_env_over_the_files_defaults():
    by_env = {env: {s.name: s.objective for s in _load(REPO, env).slos} for env in ("dev", "prod")}
    assert by_env["prod"]["api-availability"] == 99.9  # slo/api.yaml's default, prod overrides nothing
    assert by_env["dev"]["api-availability"] == 99  # environments/dev.yaml slo.objectives
    evidence = {
        env: next(s for s in _load(REPO, env).slos if s.name == "evidence-integrity") for env in ("dev", "prod")
    }
    assert (evidence["dev"].max_age, evidence["prod"].max_age) == ("10m", "1h")


def test_the_schema_file_is_the_models_and_the_shipped_files_pass_it():
    import jsonschema

    path = REPO / "docs" / "schemas" / "slo.schema.json"
    regenerate = (
        "python -c 'import json; from infractl.models.slo import json_schema;"
        " print(json.dumps(json_schema(), indent=2))' > docs/schemas/slo.schema.json"
    )
    assert json.loads(path.read_text()) == json_schema(), f"the schema file is stale: {regenerate}"
    validator = jsonschema.Draft202012Validator(json_schema())
    for file in sorted((REPO / "slo").glob("*.yaml")):
        assert [e.message for e in validator.iter_errors(yaml.safe_load(file.read_text()))] == [], file
    broken = {"service": "api", "slos": [{"name": "x", "description": "long enough", "objective": 100, "sli": {}}]}
    assert list(validator.iter_errors(broken))


def _edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text()
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "where", "fix"),
    [
        ("threshold_seconds: 0.5", "threshold_seconds: 0.3", "slos.1.sli.threshold_seconds", "use one of 0.005"),
        (
            "histogram: controlplane_http_request_duration_seconds",
            "histogram: http_seconds",
            "slos.1.sli.histogram",
            "use one of controlplane_http_request_duration_seconds",
        ),
        (
            "total: sum(rate(controlplane_http_requests_total[{{window}}]))",
            "total: sum(rate(controlplane_http_requests_total[5m]))",
            "slos.0.sli.total",
            "write e.g. sum(rate(my_metric_total[{{window}}]))",
        ),
        ('code=~"5.."}[{{window}}]))', 'code=~"5.."}[{{window}}])', "slos.0.sli.errors", "unclosed '('"),
        ("objective: 99.9", "objective: 100", "slos.0.objective", "less than 100"),
        ("objective: 99.9", "objectve: 99.9", "slos.0.objectve", "unknown field (check its spelling)"),
        ("kind: ratio", "kind: ratios", "slos.0.sli", "'ratio', 'latency'"),
        ("name: api-latency", "name: Api_Latency", "slos.1.name", "lowercase words joined by hyphens"),
        ("name: api-latency", "name: api-availability", "slos.1.name", "already defined (slo/api.yaml: slos.0.name)"),
    ],
)
def test_a_broken_definition_names_the_file_the_field_and_the_fix(tree, old, new, where, fix):
    _edit(tree, "slo/api.yaml", old, new)
    error = _error(tree)
    lines = [error.message, *error.details]
    assert any(line.startswith(f"slo/api.yaml: {where}: ") and fix in line for line in lines), lines
    assert error.hint


def test_an_alert_name_used_twice_names_both_places(tree):
    _edit(tree, "slo/evidence.yaml", "alert: EvidenceIntegrityVerifyStale", "alert: ApiLatencyBudgetBurnPage")
    error = _error(tree)
    assert error.message == (
        "slo/evidence.yaml: slos.0.freshness.alert: 'ApiLatencyBudgetBurnPage' is already defined"
        " (slo/api.yaml: slos.1.name (alert))"
    )


@pytest.mark.parametrize(
    ("old", "new", "message", "fix"),
    [
        (
            "api-availability: 99\n",
            "api-availabilty: 99\n",
            "environments/dev.yaml: slo.objectives.api-availabilty: no SLO named 'api-availabilty' in slo/*.yaml",
            "use one of: api-availability, api-latency",
        ),
        (
            "evidence-integrity: 10m",
            "api-latency: 10m",
            "environments/dev.yaml: slo.max_age.api-latency: api-latency has no freshness alert",
            "add `freshness:` to api-latency in slo/api.yaml",
        ),
        (
            "period: 1d",
            "period: 2h",
            "environments/dev.yaml: slo.period: the 20s/20s page windows collapse: a period of 2h is too short for a"
            " 5s scrape interval (windows are at least 4 scrape intervals)",
            "a longer slo.period or a shorter slo.scrape_interval",
        ),
        (
            "period: 1d",
            "period: 1day",
            "environments/dev.yaml: slo.period: '1day' is not a duration such as 30d, 6h, 90s or 1h30m",
            "fix environments/dev.yaml",
        ),
        (
            "  runbook_base_url: https://github.com/example-org/control-plane/blob/main\n",
            "",
            "environments/dev.yaml: slo.runbook_base_url: required to render the SLO alerts (their runbook links)",
            "https://github.com/ORG/REPO/blob/main",
        ),
        (
            "runbook_base_url: https://github.com/example-org/control-plane/blob/main",
            "runbook_base_url: https://github.com/example-org/control-plane/blob/main/",
            "environments/dev.yaml: slo.runbook_base_url: use the URL the repository's files hang under",
            "fix environments/dev.yaml",
        ),
    ],
)
def test_a_broken_env_slo_section_names_the_file_the_field_and_the_fix(tree, old, new, message, fix):
    _edit(tree, "environments/dev.yaml", old, new)
    error = _error(tree, "dev")
    assert error.message.startswith(message), error.message
    assert fix in (error.hint or "")


def test_no_definitions_is_a_config_error(tree):
    shutil.rmtree(tree / "slo")
    error = _error(tree)
    assert error.message == "slo/: no SLO definitions (slo/*.yaml)"
    assert "docs/slo.md" in (error.hint or "")


def test_an_env_without_an_slo_section_is_valid_with_defaults(tree):
    path = tree / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    del data["slo"]
    path.write_text(yaml.safe_dump(data))
    env = environments.load(Project(root=tree, work_dir=tree / ".infractl"), "dev")
    assert (env.slo.period, env.slo.scrape_interval, env.slo.runbook_base_url) == ("30d", "30s", None)
