"""What reaches a real Terraform process: its environment is an allowlist (docs/stacks.md)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from tests.integration.test_stack_graph_run import two_stacks

SECRETS = {
    "VAULT_TOKEN": "hvs.planted-vault-token",
    "BAO_TOKEN": "s.planted-bao-token",
    "GITHUB_TOKEN": "ghp_planted",
    "TF_TOKEN_app_terraform_io": "planted-registry-token",
    "TF_VAR_greeting": "planted-variable",
    "SOME_UNKNOWN_VARIABLE": "planted",
}


def dumped_environments(folder: Path) -> list[dict[str, str]]:
    found = []
    for path in sorted(folder.iterdir()):
        pairs = [item.split("=", 1) for item in path.read_bytes().decode().split("\0") if "=" in item]
        found.append(dict(pairs))
    return found


def test_terraform_sees_no_token_or_unknown_variable(invoke, emulated, project, tmp_path, monkeypatch):
    """A wrapper used as the terraform binary records the environment of every Terraform process of a bootstrap."""
    two_stacks(project)
    dumps = tmp_path / "environments"
    dumps.mkdir()
    wrapper = tmp_path / "terraform-wrapper"
    wrapper.write_text(f'#!/bin/sh\nenv -0 > "{dumps}/$$.env"\nexec "{shutil.which("terraform")}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("INFRACTL_TERRAFORM_BIN", str(wrapper))
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)

    result = json.loads(invoke("bootstrap", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("a", "applied"), ("b", "applied")]
    out = json.loads(invoke("output", "staging", "b", "--emulate", "--json", root=project).stdout)
    assert out == {"message": "b got: platform-team from a"}  # not the planted TF_VAR_greeting

    seen = dumped_environments(dumps)
    assert len(seen) >= 6  # init, plan, apply, output of two stacks at least
    for env in seen:
        assert not set(SECRETS) & set(env), sorted(set(SECRETS) & set(env))
        assert not [k for k in env if k.startswith(("TF_TOKEN_", "TF_VAR_", "AWS_ACCESS", "AWS_PROFILE"))]
        assert env["PATH"] == os.environ["PATH"] and env["TF_IN_AUTOMATION"] == "1"
        assert not any(value in SECRETS.values() for value in env.values())
    invoke("destroy", "staging", "--emulate", "--yes", root=project)
