"""The repository's workflows pass zizmor (offline) and actionlint, run for real as `infractl scan` runs them; and
each tool catches a planted problem, so these tests could fail: a template injection, an undefined matrix key, an
unpinned action, a workflow that is not valid YAML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infractl.services.scan import workflows
from tests.conftest import REPO

CLEAN = """\
name: planted
on:
  pull_request:
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    strategy:
      matrix:
        python: ["3.11"]
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - env:
          TITLE: ${{ github.event.pull_request.title }}
          PY: ${{ matrix.python }}
        run: echo "$TITLE on $PY"
"""


def test_the_repository_workflows_pass_zizmor_and_actionlint():
    names = workflows.files(REPO)
    assert {".github/workflows/validate.yml", ".github/workflows/release.yml", ".github/workflows/promote.yml"} <= set(
        names
    )
    for gate in (workflows.zizmor(REPO), workflows.actionlint(REPO)):
        assert gate.status == "passed", "\n".join(f"{f.where()}: {f.rule}: {f.message}" for f in gate.findings)
        assert gate.tool_version


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".github" / "workflows").mkdir(parents=True)
    return root


def plant(root: Path, text: str) -> str:
    path = root / ".github" / "workflows" / "planted.yml"
    path.write_text(text)
    return ".github/workflows/planted.yml"


def test_the_planted_workflow_is_clean_before_it_is_broken(project: Path):
    plant(project, CLEAN)
    assert workflows.zizmor(project).status == "passed"
    assert workflows.actionlint(project).status == "passed"


def test_a_template_injection_fails_both(project: Path):
    name = plant(
        project, CLEAN.replace('run: echo "$TITLE on $PY"', 'run: echo "${{ github.event.pull_request.title }}"')
    )
    zizmor = workflows.zizmor(project)
    assert zizmor.status == "failed"
    assert ("template-injection", name, 20) in {(f.rule, f.file, f.line) for f in zizmor.findings}
    actionlint = workflows.actionlint(project)
    assert actionlint.status == "failed"
    assert any(f.line == 20 and "potentially untrusted" in f.message for f in actionlint.findings)


def test_an_undefined_matrix_key_fails_actionlint(project: Path):
    name = plant(project, CLEAN.replace("${{ matrix.python }}", "${{ matrix.pyhton }}"))
    gate = workflows.actionlint(project)
    assert gate.status == "failed"
    assert [(f.file, f.line, f.rule) for f in gate.findings] == [(name, 19, "expression")]
    assert 'property "pyhton" is not defined' in gate.findings[0].message


def test_an_unpinned_action_fails_zizmor(project: Path):
    plant(project, CLEAN.replace("@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", "@v4"))
    gate = workflows.zizmor(project)
    assert gate.status == "failed" and "unpinned-uses" in {f.rule for f in gate.findings}


def test_a_workflow_that_is_not_yaml_fails_instead_of_being_skipped(project: Path):
    name = plant(project, CLEAN.replace("      - env:", "      - name: a: b\n        env:"))
    assert workflows.actionlint(project).status == "failed"
    gate = workflows.zizmor(project)  # --strict-collection: zizmor refuses it instead of skipping it silently
    assert gate.status == "failed"
    (f,) = gate.findings
    assert (f.file, f.rule) == (name, "invalid-workflow") and "mapping values are not allowed" in f.message


def test_no_workflows_is_not_run(project: Path):
    shutil.rmtree(project / ".github")
    assert workflows.zizmor(project).status == workflows.actionlint(project).status == "not-run"
