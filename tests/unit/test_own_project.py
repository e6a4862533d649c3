"""A project of one's own (not this repository): the defaults it gets for what it leaves out."""

from __future__ import annotations

import os
from pathlib import Path

from infractl.adapters import checkov
from infractl.models.project import Project, install_root
from infractl.services.validate import pricing

REPO = Path(__file__).resolve().parents[2]


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    os.chmod(path, 0o755)
    return path


def test_checkov_defaults_to_the_one_of_the_infractl_checkout_before_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "path"))
    on_path = _exe(tmp_path / "path" / "checkov")
    home = tmp_path / "infractl"
    own = tmp_path / "infra"
    own.mkdir()
    assert checkov.find_binary(own, None, home=home) == str(on_path)  # the checkout has none: PATH
    installed = _exe(home / ".tools" / "checkov" / "bin" / "checkov")
    assert checkov.find_binary(own, None, home=home) == str(installed)
    project_tool = _exe(own / ".tools" / "checkov" / "bin" / "checkov")
    assert checkov.find_binary(own, None, home=home) == str(project_tool)  # the project's own comes first


def test_the_running_checkout_is_found_and_its_catalog_prices_a_project_without_one(tmp_path):
    assert install_root() == REPO
    own = Project(root=tmp_path, work_dir=tmp_path / ".infractl")
    assert pricing.catalog_path(own) == REPO / "pricing" / "aws.yaml"
    assert pricing.load_catalog(own).version == pricing.load_catalog(Project(root=REPO, work_dir=REPO)).version
    (tmp_path / "pricing").mkdir()
    (tmp_path / "pricing" / "aws.yaml").write_text("version: mine\nregions: {}\n")
    assert pricing.load_catalog(own).version == "mine"  # the project's own catalog wins
