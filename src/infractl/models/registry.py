"""The local container registry: its state, and what it holds."""

from __future__ import annotations

from pydantic import BaseModel


class RegistryState(BaseModel):
    """The local registry of a work folder. `note` says why it does not run when its state file says it should."""

    running: bool
    url: str | None = None  # http://127.0.0.1:<port>
    host: str | None = None  # 127.0.0.1:<port>, the reference prefix (127.0.0.1:<port>/dev/controlplane-api@sha256:…)
    port: int | None = None
    pid: int | None = None
    storage_dir: str  # blobs and manifests, kept across stop/start
    log: str  # the server's output, its access log included
    note: str | None = None


class Repository(BaseModel):
    name: str  # <env>/<image>
    tags: list[str]


class RegistryListing(BaseModel):
    url: str
    repositories: list[Repository]
