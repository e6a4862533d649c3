import json
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_env_list_json(invoke):
    items = json.loads(invoke("env", "list", "--json", root=REPO).stdout)
    assert [i["name"] for i in items] == ["dev", "prod", "staging"]
    assert {i["nat_gateways"] for i in items} == {"single", "per_az"}


def test_env_list_table(invoke):
    out = invoke("env", "list", root=REPO).stdout
    assert "environments/prod.yaml" in out and "per_az" in out


def test_env_show_prod_json_is_the_validated_model(invoke):
    result = invoke("env", "show", "prod", "--json", root=REPO)
    data = json.loads(result.stdout)
    assert data["name"] == "prod" and data["network"]["nat_gateways"] == "per_az"
    assert data["approval"]["required"] is True
    assert result.stderr == ""


def test_env_show_yaml(invoke):
    data = yaml.safe_load(invoke("env", "show", "dev", root=REPO).stdout)
    assert data["network"]["cidr"] == "10.10.0.0/16"


def test_env_diff(invoke):
    data = json.loads(invoke("env", "diff", "dev", "prod", "--json", root=REPO).stdout)
    assert {"path": "network.az_count", "a": 2, "b": 3} in data["differences"]
    assert "network.nat_gateways" in invoke("env", "diff", "dev", "prod", root=REPO).stdout


def test_wrong_field_type_exits_3_with_one_line(invoke, project):
    path = project / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace("az_count: 2", "az_count: two"))
    result = invoke("env", "show", "dev", root=project, code=3)
    error_lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert error_lines == [
        "error: environments/dev.yaml: network.az_count: Input should be a valid integer (got 'two')"
    ]
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_broken_env_stops_plan_before_anything_runs(invoke, project, tmp_path, monkeypatch):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    path = project / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace("nat_gateways: single", "nat_gateways: 3"))
    result = invoke("plan", "dev", root=project, code=3)
    assert "environments/dev.yaml: network.nat_gateways:" in result.stderr
    assert not (tmp_path / "work").exists()  # nothing staged, nothing planned


def test_root_is_found_by_walking_up(invoke, project, monkeypatch):
    sub = project / "terraform" / "stacks"
    monkeypatch.chdir(sub)
    assert json.loads(invoke("env", "show", "dev", "--json").stdout)["name"] == "dev"


def test_root_from_environment_variable(invoke, project, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    invoke("env", "list", code=3)  # no environments/ above tmp_path
    monkeypatch.setenv("INFRACTL_ROOT", str(project))
    assert "dev" in invoke("env", "list").stdout


def test_error_text_is_not_read_as_markup(invoke, project):
    """A pattern holding `[a-z0-9]` is reported whole (Rich markup would eat it as a tag)."""
    path = project / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace("  lock: s3 ", "  bucket: UPPER_case\n  lock: s3 "))
    result = invoke("env", "show", "dev", root=project, code=3)
    assert result.stderr.splitlines()[0] == (
        "error: environments/dev.yaml: state.bucket: String should match pattern"
        " '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$' (got 'UPPER_case')"
    )


def test_duplicate_key_in_an_env_file_exits_3_naming_file_and_line(invoke, project):
    path = project / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace("region: eu-west-1\n", "region: eu-west-1\nregion: us-east-1\n", 1))
    result = invoke("env", "show", "dev", root=project, code=3)
    assert result.stderr.startswith("error: environments/dev.yaml:7:1: duplicate key 'region' (first at line 6)")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            'account: "123456789012"',
            'account: "' + "".join(chr(0x0660 + int(c)) for c in "123456789012") + '"',
            "account",
        ),
        ("region: eu-west-1", 'region: "eu-west-1\\n"', "region"),
        ("region: eu-west-1", "region: eu-moon-1", "region"),
        ("az_count: 2", "az_count: true", "network.az_count"),
        ("monthly_usd: 1500", "monthly_usd: .inf", "budget.monthly_usd"),
        ("allocated_storage_gib: 20", "allocated_storage_gib: .nan", "stacks.data"),
        ("  owner: platform-team", "  owner: platform-team\n  'aws:owner': x", "tags"),
        ("  owner: platform-team", "  owner: platform;team", "tags"),
        ("  lock: s3 ", "  dynamodb_table: lock table\n  lock: s3 ", "state.dynamodb_table"),
    ],
)
def test_strict_model_exits_3_naming_file_and_field(invoke, project, old, new, field):
    path = project / "environments" / "dev.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    result = invoke("env", "show", "dev", root=project, code=3)
    assert result.stderr.startswith(f"error: environments/dev.yaml: {field}: "), result.stderr
    assert result.stdout == ""
