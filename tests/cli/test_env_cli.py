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
    paths = {d["path"] for d in data["differences"]}
    assert "autoscaling.api.max_replicas" in paths  # the env model's HPA numbers differ (docs/finops.md)
    assert not paths & {"tags.environment", "stack_tags.environment"}  # differ by construction
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


def test_env_names_are_refused_before_any_file_outside_environments_is_touched(invoke, project, monkeypatch):
    """`env show ../../evil` names environments/../../evil.yaml: refused by its name (exit 2), and that file (here
    with a marker, two folders up) is never opened nor even looked at."""
    import builtins
    import io
    import os

    evil = project.parent / "evil.yaml"
    evil.write_text("name: evil  # MARKER-7f3a\n")
    touched: list[str] = []

    def spy(real):
        def wrapper(file, *args, **kwargs):
            if isinstance(file, str | bytes | os.PathLike):
                touched.append(os.path.realpath(os.fsdecode(file)))
            return real(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    monkeypatch.setattr(io, "open", spy(io.open))
    monkeypatch.setattr(os, "stat", spy(os.stat))
    for name in ("../../evil", "[/]", "dev/../../../evil", "dev\n"):
        result = invoke("env", "show", name, root=project, code=2)
        assert result.stderr.startswith(f"error: {name!r} is not an environment name"), result.stderr
        assert "MARKER" not in result.stderr + result.stdout
    assert str(evil) not in touched
    assert touched, "the spies saw no file access at all"
    monkeypatch.undo()
    assert invoke("env", "show", "dev", root=project).stdout  # a valid name still loads


def test_a_badly_named_env_file_fails_env_list(invoke, project):
    (project / "environments" / "Bad Name.yaml").write_text("name: bad\n")
    result = invoke("env", "list", root=project, code=3)
    assert result.stderr.startswith("error: environments/Bad Name.yaml: file name is not an environment name")
