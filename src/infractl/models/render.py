"""Results of `infractl render` and `infractl deploy`: what was rendered for each chart, and the helm commands."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ChartRender(_Model):
    chart: str
    release: str
    namespace: str
    manifest: str  # the rendered file
    values_file: str  # the values deploy passes to helm
    objects: dict[str, int]  # kind -> count


class RenderResult(_Model):
    env: str
    out_dir: str
    charts: list[ChartRender]
    files: list[str]
    unpinned: list[str]  # images rendered with the UNPINNED digest: deploy refuses them
    notes: list[str]


class DeployResult(_Model):
    env: str
    dry_run: bool
    kube_context: str | None
    commands: list[list[str]]
    render: RenderResult
