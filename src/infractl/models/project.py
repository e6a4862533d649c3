"""Where things are: the project tree and infractl's work folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


def install_root() -> Path | None:
    """The infractl checkout this code runs from (<checkout>/src/infractl/models/project.py): a project that has no
    price catalog or checkov of its own uses the checkout's (pricing/aws.yaml, .tools/checkov made by `make tools`).
    None when infractl runs from an installed package."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "infractl").is_dir() else None


@dataclass(frozen=True)
class Project:
    root: Path
    work_dir: Path

    @property
    def environments_dir(self) -> Path:
        return self.root / "environments"

    @property
    def terraform_dir(self) -> Path:
        return self.root / "terraform"

    @property
    def manifest_path(self) -> Path:
        return self.terraform_dir / "stacks" / "stacks.yaml"

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def env_file(self, name: str) -> Path:
        return self.environments_dir / f"{name}.yaml"

    def workspace(self, env: str, stack: str) -> Path:
        """Per-(env, stack) folder outside the source tree: TF_DATA_DIR, staged sources, inputs, plan."""
        return self.work_dir / "envs" / env / stack

    @property
    def emulator_dir(self) -> Path:
        return self.work_dir / "emulator"

    @property
    def registry_dir(self) -> Path:
        return self.work_dir / "registry"
