"""`infractl init [DIR]`: the scaffolding of a project of one's own, idempotent and never overwriting."""

from __future__ import annotations

import json

import yaml

from infractl.models.environment import Environment
from infractl.models.stacks import Manifest

FILES = {
    ".gitignore",
    "environments/dev.yaml",
    "terraform/stacks/stacks.yaml",
    "terraform/stacks/aws/example/main.tf",
    "terraform/stacks/aws/example/outputs.tf",
    "terraform/stacks/aws/example/providers.tf",
    "terraform/stacks/aws/example/variables.tf",
    "terraform/stacks/aws/example/versions.tf",
}


def test_init_writes_a_project_the_models_accept(invoke, tmp_path):
    root = tmp_path / "infra"
    result = json.loads(invoke("init", str(root), "--json").stdout)
    assert result["root"] == str(root) and set(result["created"]) == FILES and result["kept"] == []
    env = Environment.model_validate(yaml.safe_load((root / "environments/dev.yaml").read_text()))
    manifest = Manifest.model_validate(yaml.safe_load((root / "terraform/stacks/stacks.yaml").read_text()))
    assert env.name == "dev" and list(manifest.stacks) == ["example"]
    assert manifest.stacks["example"].parity == "single-cloud"
    assert ".infractl/" in (root / ".gitignore").read_text()
    # the project is usable as is: commands find it from inside it or through --root
    shown = invoke("env", "show", "dev", "--json", root=root).stdout
    assert json.loads(shown)["name"] == "dev"


def test_init_again_keeps_every_file_and_changes_nothing(invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    invoke("init")
    mine = tmp_path / "environments/dev.yaml"
    mine.write_text(mine.read_text().replace("monthly_usd: 100", "monthly_usd: 250"))
    (tmp_path / "terraform/stacks/aws/example/main.tf").unlink()
    result = json.loads(invoke("init", ".", "--json").stdout)
    assert result["created"] == ["terraform/stacks/aws/example/main.tf"]
    assert set(result["kept"]) == FILES - {"terraform/stacks/aws/example/main.tf"}
    assert "monthly_usd: 250" in mine.read_text()  # never overwritten
    text = invoke("init").stdout
    assert "0 created, 8 kept" in text


def test_init_refuses_a_file_where_a_folder_belongs(invoke, tmp_path):
    (tmp_path / "environments").write_text("not a folder")
    result = invoke("init", str(tmp_path), code=2)
    assert "environments: exists and is not a folder" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "terraform").exists()  # nothing half-written
