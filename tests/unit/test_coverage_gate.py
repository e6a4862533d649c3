"""scripts/coverage-gate: the per-package thresholds of `make test` (docs/ci.md#coverage), on a planted project
whose coverage data is written with coverage's own API."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import coverage
import pytest
from tests.conftest import REPO

GATE = REPO / "scripts" / "coverage-gate"
MODULE = "x = 1\ny = 2\nz = 3\nw = 4\n"  # four statements, lines 1-4


def load_gate():
    loader = importlib.machinery.SourceFileLoader("coverage_gate", str(GATE))
    spec = importlib.util.spec_from_loader("coverage_gate", loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["coverage_gate"] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


def plant(root: Path, executed: dict[str, list[int]], thresholds: str, extra: tuple[str, ...] = ()) -> None:
    """src/app with subpackages core and cli (four statements each), coverage data saying which lines ran."""
    for name in ("app/__init__.py", "app/core/__init__.py", "app/cli/__init__.py", *extra):
        (root / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "src" / name).write_text("")
    for name in ("app/core/a.py", "app/cli/b.py", *(e for e in extra if not e.endswith("__init__.py"))):
        (root / "src" / name).write_text(MODULE)
    (root / "pyproject.toml").write_text('[tool.coverage.run]\nsource = ["src/app"]\n')
    (root / "coverage-thresholds.toml").write_text(thresholds)
    data_file = root / ".infractl" / "coverage" / ".coverage"
    data_file.parent.mkdir(parents=True)
    data = coverage.CoverageData(str(data_file))
    data.add_lines({str((root / "src" / f).resolve()): lines for f, lines in executed.items()})
    data.write()


def gate(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(GATE), "--root", str(root)], capture_output=True, text=True, timeout=120, check=False
    )


def table(root: Path) -> str:
    return (root / ".infractl" / "reports" / "coverage" / "coverage.md").read_text()


THRESHOLDS = 'split = ["app"]\n\n[thresholds]\n"app.core" = 70\n"app.cli" = 80\n'


def test_a_package_under_its_threshold_fails_naming_it_its_percent_and_threshold(tmp_path):
    plant(tmp_path, {"app/core/a.py": [1, 2, 3, 4], "app/cli/b.py": [1, 2]}, THRESHOLDS)
    result = gate(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "FAILED app.cli: 50.0% is under its threshold of 80%" in result.stderr
    assert "FAILED app.core" not in result.stderr
    assert "| app.cli | 4 | 50.0 | 80 | no |" in table(tmp_path)
    assert "| app.core | 4 | 100.0 | 70 | yes |" in table(tmp_path)


def test_a_package_without_a_threshold_is_an_error_with_a_proposed_value(tmp_path):
    executed = {"app/core/a.py": [1, 2, 3, 4], "app/cli/b.py": [1, 2, 3, 4], "app/new/c.py": [1, 2, 3]}
    plant(tmp_path, executed, THRESHOLDS, extra=("app/new/__init__.py", "app/new/c.py"))
    result = gate(tmp_path)
    assert result.returncode == 1
    assert "FAILED app.new: 75.0% and no threshold in coverage-thresholds.toml" in result.stderr
    assert '"app.new" = 74' in result.stderr  # the rule: rounded down, minus 1 point
    assert "| app.new | 4 | 75.0 | none | no |" in table(tmp_path)


def test_a_package_no_test_imports_still_needs_a_threshold(tmp_path):
    plant(tmp_path, {"app/core/a.py": [1, 2, 3, 4], "app/cli/b.py": [1, 2, 3, 4]}, THRESHOLDS, extra=("app/dark/d.py",))
    (tmp_path / "src" / "app" / "dark" / "__init__.py").write_text("")
    result = gate(tmp_path)
    assert result.returncode == 1
    assert "FAILED app.dark: 0.0% and no threshold" in result.stderr
    assert "| app.dark | 4 | 0.0 | none | no |" in table(tmp_path)


def test_a_threshold_naming_no_package_is_an_error(tmp_path):
    plant(tmp_path, {"app/core/a.py": [1, 2, 3, 4], "app/cli/b.py": [1, 2, 3, 4]}, THRESHOLDS + '"app.gone" = 50\n')
    result = gate(tmp_path)
    assert result.returncode == 1
    assert "FAILED app.gone: has a threshold in coverage-thresholds.toml but no such package" in result.stderr


def test_all_packages_ok_exit_0_with_the_markdown_table_and_coverage_xml(tmp_path):
    thresholds = THRESHOLDS.replace('"app.core" = 70', '"app.core" = 73')
    plant(tmp_path, {"app/core/a.py": [1, 2, 3], "app/cli/b.py": [1, 2, 3, 4]}, thresholds)
    result = gate(tmp_path)
    assert result.returncode == 0, result.stderr
    md = table(tmp_path)
    assert md.splitlines()[:6] == [
        "## Coverage by package",
        "",
        "| package | statements | percent | threshold | ok |",
        "| --- | ---: | ---: | ---: | --- |",
        "| app.cli | 4 | 100.0 | 80 | yes |",
        "| app.core | 4 | 75.0 | 73 | yes |",
    ]
    assert "Total: 87.5% of 8 statements" in md
    assert result.stdout == md  # the same table on stdout, for the log
    # app.cli is 20 points over its threshold: information, not a failure
    assert "can be raised: app.cli: 100.0%, threshold 80% (can be raised to 99)" in result.stderr
    assert "app.core" not in result.stderr  # 2 points over its threshold: within the margin
    report = ET.parse(tmp_path / ".infractl" / "reports" / "coverage" / "coverage.xml").getroot()
    assert report.tag == "coverage" and float(report.get("line-rate")) == pytest.approx(7 / 8)


def test_missing_data_or_thresholds_are_usage_errors(tmp_path):
    plant(tmp_path, {"app/core/a.py": [1]}, THRESHOLDS)
    (tmp_path / ".infractl" / "coverage" / ".coverage").unlink()
    result = gate(tmp_path)
    assert result.returncode == 2 and "no coverage data" in result.stderr
    (tmp_path / "coverage-thresholds.toml").write_text('[thresholds]\n"app.core" = 120\n')
    result = gate(tmp_path)
    assert result.returncode == 2 and "app.core: the threshold must be a number from 0 to 100" in result.stderr


def test_rows_split_packages_into_subpackages_and_module_rows():
    gate_module = load_gate()
    split = {"infractl", "infractl.services", "controlplane"}
    packages = {"infractl", "infractl.services", "infractl.services.validate", "infractl.cli", "controlplane"}
    rows = {"infractl.services.registry"}

    def row(module: str) -> str:
        return gate_module.row_of(module, split, rows, packages)

    assert row("infractl.services.validate.run") == "infractl.services.validate"
    assert row("infractl.services.registry") == "infractl.services.registry"  # a module with a row of its own
    assert row("infractl.services.context") == "infractl.services"  # a shared module
    assert row("infractl.cli.ui") == "infractl.cli"
    assert row("infractl.errors") == "infractl"
    assert row("controlplane.api") == "controlplane"
    assert gate_module.proposed(87.96) == 86 and gate_module.shown(84.99) == "84.9"
