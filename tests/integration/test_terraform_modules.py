"""`terraform test` (mock_provider, offline) for every module and stack that ships tests, and fmt of the whole tree."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from infractl.adapters import process, terraform
from infractl.services.parity import check as parity
from tests.conftest import REPO

# Only the clouds whose provider this machine has (aws): azurerm and google cannot be installed, so the azure and
# gcp code is checked by `infractl parity` (fmt, HCL, contract) and checkov instead (docs/parity.md).
CLOUDS = [cloud for cloud, validated in parity.schema_validated().items() if validated]
MODULES = sorted(
    p.parent.relative_to(REPO) for c in CLOUDS for p in (REPO / "terraform" / "modules" / c).glob("*/tests")
)
# Stacks with logic of their own (e.g. the data stack's dedicated tenant instances) ship tests too.
STACKS = sorted(p.parent.relative_to(REPO) for c in CLOUDS for p in (REPO / "terraform" / "stacks" / c).glob("*/tests"))


@pytest.fixture(scope="module")
def tf_env(tmp_path_factory, mirror):
    work = tmp_path_factory.mktemp("tf")
    (work / "terraformrc").write_text(terraform.cli_config_text(mirror=Path(mirror), plugin_cache=work / "cache"))
    (work / "cache").mkdir()

    def env(data_dir: Path) -> dict[str, str]:
        return terraform.child_env(process.clean_env(), cli_config=work / "terraformrc", data_dir=data_dir)

    return env


def test_every_module_has_tests():
    modules = sorted(
        p.parent.relative_to(REPO) for c in CLOUDS for p in (REPO / "terraform" / "modules" / c).glob("*/versions.tf")
    )
    assert CLOUDS == ["aws"] and modules and modules == MODULES
    assert Path("terraform/stacks/aws/data") in STACKS


@contextlib.contextmanager
def initialised(folder: Path, env: dict[str, str]):
    """terraform init -backend=false; a lock file that init creates in the source folder is removed afterwards."""
    lock = folder / ".terraform.lock.hcl"
    existed = lock.exists()
    try:
        process.run(
            [
                terraform.find_binary("terraform"),
                f"-chdir={folder}",
                *terraform.build_init_args(backend=False),
            ],
            env=env,
        )
        yield
    finally:
        if not existed:
            lock.unlink(missing_ok=True)


@pytest.mark.parametrize("module", MODULES + STACKS, ids=str)
def test_module_terraform_test(module, tf_env, tmp_path):
    env = tf_env(tmp_path / "data")
    with initialised(REPO / module, env):
        done = process.run(
            [terraform.find_binary("terraform"), f"-chdir={REPO / module}", "test", "-no-color"], env=env
        )
    assert "0 failed" in done.stdout and " passed" in done.stdout, done.stdout


def test_fmt_is_clean():
    done = process.run(
        [terraform.find_binary("terraform"), "fmt", "-check", "-recursive", "-diff", str(REPO / "terraform")],
        ok_codes=(0, 3),
    )
    assert done.returncode == 0, f"unformatted Terraform files:\n{done.stdout}"


# `terraform validate` of every stack is not repeated here: `infractl validate` runs it for all of them in one
# Terraform run, and tests/integration/test_validate.py requires that gate to pass on the clean tree.
