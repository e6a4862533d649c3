"""`infractl gate` at the CLI: bad input is refused before anything is evaluated, with the exit code docs/errors.md
names; a verdict not met exits 12 and still writes its files (the criteria: tests/integration/test_gate.py)."""

from __future__ import annotations

import json
from pathlib import Path


def test_an_unknown_env_is_a_config_error(invoke, project: Path, tmp_path: Path) -> None:
    result = invoke("gate", "infra", "nope", "--report-dir", str(tmp_path / "out"), code=3, root=project)
    assert "nope" in result.stderr and "Traceback" not in result.stderr


def test_an_unwritable_report_dir_is_refused_before_the_gate_runs(invoke, project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("gate", "security", "dev", "--report-dir", str(blocker / "out"), code=2, root=project)
    assert "--report-dir" in result.stderr and "rendering" not in result.stderr


def test_a_gate_without_evidence_is_not_met_and_names_every_criterion(
    invoke, project: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "out"
    argv = ("gate", "infra", "dev", "--evidence-dir", str(tmp_path / "none"), "--report-dir", str(out), "--json")
    result = invoke(*argv, code=12, root=project)
    verdict = json.loads(result.stdout)
    assert verdict["passed"] is False
    persistence = next(c for c in verdict["criteria"] if c["id"] == "persistence")
    assert persistence["status"] == "not-met"
    assert any("no report: run `make test`" in e["detail"] for e in persistence["evidence"])
    assert "persistence: not-met" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["gate-infra-dev.html", "gate-infra-dev.json", "gate-infra-dev.md"]
