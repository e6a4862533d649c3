"""The Helm charts infractl renders and deploys (helm/<chart>), in install order: each chart's namespace and where
its images go in its values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infractl.errors import ConfigError
from infractl.models.project import Project


@dataclass(frozen=True)
class ChartSpec:
    name: str
    namespace: str
    images: dict[str, tuple[str, ...]]  # env model image name -> path of {repository, digest} in the values


# Install order: controlplane talks to Temporal and the collector.
CHARTS = (
    ChartSpec(
        "temporal",
        "temporal",
        {
            "temporal-server": ("images", "server"),
            "temporal-admin-tools": ("images", "adminTools"),
            "temporal-ui": ("images", "ui"),
            "postgres": ("images", "schemaWait"),
        },
    ),
    # Its own namespace: its default-deny must not cover the backends it exports to (Tempo, Mimir, Loki).
    ChartSpec("otel-collector", "telemetry", {"otel-collector": ("image",)}),
    ChartSpec(
        "controlplane",
        "controlplane",
        {"controlplane-api": ("image", "api"), "controlplane-worker": ("image", "worker")},
    ),
)
NAMESPACE = {c.name: c.namespace for c in CHARTS}


def chart_path(project: Project, chart: str) -> Path:
    """helm/<chart> of the project; a ConfigError when it holds no chart."""
    chart_dir = project.root / "helm" / chart
    if not (chart_dir / "Chart.yaml").is_file():
        raise ConfigError(f"{project.rel(chart_dir)}: no chart here (Chart.yaml missing)")
    return chart_dir


def service_host(chart: str, component: str | None = None) -> str:
    """The in-cluster DNS name of a chart's Service (release name = chart name, so fullname = chart name)."""
    name = f"{chart}-{component}" if component else chart
    return f"{name}.{NAMESPACE[chart]}.svc.cluster.local"
