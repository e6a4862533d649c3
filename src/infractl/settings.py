"""Process-wide settings: INFRACTL_* environment variables, overridden by CLI options."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INFRACTL_", extra="ignore")

    root: Path | None = None  # project root; default: walk up to the folder holding environments/
    work_dir: Path | None = None  # generated files, TF_DATA_DIRs, plans; default <root>/.infractl
    emulate: bool = False  # target the local AWS emulator
    provider_mirror: Path | None = None  # filesystem mirror of Terraform providers
    plugin_cache_dir: Path | None = None  # shared provider plugin cache; default <work_dir>/plugin-cache
    terraform_bin: str = "terraform"
    checkov_bin: str | None = None  # default: <root>/.tools/checkov/bin/checkov (made by `make tools`), then PATH
    # Releases (docs/release.md): the cosign-format key pair that signs images and provenance. Default: a key made on
    # first use in <work_dir>/keys/ (CI passes its key; docs/ci.md). The password is read from the environment only.
    signing_key: Path | None = None
    verify_key: Path | None = None  # the public key promote verifies with; default: the signing key's .pub
    signing_password: SecretStr = SecretStr("")
    release_cache: Path | None = (
        None  # the image build's cache (base image, dependency layer); default <work_dir>/release/cache
    )
    # `infractl scan`: "required" fails the dependency gate when the vulnerability service is unreachable (CI)
    scan_pip_audit: Literal["auto", "required"] = "auto"
