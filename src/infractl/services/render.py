"""Render the Helm charts of one environment from the env model, and deploy them (docs/render.md).

Values per chart, later layers win (dicts merged key by key, lists replaced whole):
  1. helm/<chart>/values.yaml                  the chart's defaults (Helm merges them itself)
  2. helm/<chart>/ci/<env>-values.yaml         what the env model does not hold yet (DB endpoints, sizing, exporters)
  3. values from environments/<env>.yaml       name, worker pools per tenant tier, tier C tenants, egress allowlist,
                                               replicas/HA, image digests
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from infractl.adapters import files, helm
from infractl.errors import ConfigError, ExternalToolError, UsageError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.services import environments

# Namespaces the charts install into, and the ones the egress allowlist points at.
DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
VAULT_NAMESPACE = "vault"
# S3 in each region, reached through the VPC gateway endpoint: the S3 prefixes of AWS ip-ranges.json for the region
# (copied from helm/controlplane/ci/*; refresh from https://ip-ranges.amazonaws.com/ip-ranges.json when AWS adds some).
S3_CIDRS = {"eu-west-1": ["52.218.0.0/17", "3.5.64.0/21", "3.5.72.0/23", "52.92.0.0/17"]}


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
    ChartSpec("otel-collector", "observability", {"otel-collector": ("image",)}),
    ChartSpec(
        "controlplane",
        "controlplane",
        {"controlplane-api": ("image", "api"), "controlplane-worker": ("image", "worker")},
    ),
)
NAMESPACE = {c.name: c.namespace for c in CHARTS}


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
    notes: list[str]


class DeployResult(_Model):
    env: str
    dry_run: bool
    kube_context: str | None
    commands: list[list[str]]
    render: RenderResult


def render(project: Project, env_name: str, out_dir: Path, *, allow_placeholder_digests: bool = False) -> RenderResult:
    """Build each chart's values from the env model, render it (schema-checked), lint it strictly, and write
    `<out>/<env>/<chart>.yaml` and `<out>/<env>/values/<chart>.yaml`."""
    env = environments.load(project, env_name)
    shown = project.rel(project.env_file(env_name))
    notes: list[str] = []
    images = _images(env, shown, allow_placeholder_digests, notes)
    kube_version = _kube_version(env)
    dest = out_dir / env.name
    (dest / "values").mkdir(parents=True, exist_ok=True)
    charts: list[ChartRender] = []
    written: list[str] = []
    for spec in CHARTS:
        chart_dir = project.root / "helm" / spec.name
        if not (chart_dir / "Chart.yaml").is_file():
            raise ConfigError(f"{project.rel(chart_dir)}: no chart here (Chart.yaml missing)")
        values = chart_values(project, env, spec, images, notes, shown)
        templates = helm.render(chart_dir, values, release=spec.name, namespace=spec.namespace)
        problems = helm.lint(chart_dir, values, namespace=spec.namespace, kube_version=kube_version)
        if problems:
            raise ExternalToolError(f"chart {spec.name}: helm lint --strict failed for {env.name}", details=problems)
        text, kinds = _manifest(templates)
        manifest = dest / f"{spec.name}.yaml"
        manifest.write_text(text, encoding="utf-8")
        values_file = dest / "values" / f"{spec.name}.yaml"
        values_file.write_text(_dump(values), encoding="utf-8")
        written += [str(manifest), str(values_file)]
        charts.append(
            ChartRender(
                chart=spec.name,
                release=spec.name,
                namespace=spec.namespace,
                manifest=str(manifest),
                values_file=str(values_file),
                objects=dict(sorted(kinds.items())),
            )
        )
    return RenderResult(env=env.name, out_dir=str(dest), charts=charts, files=written, notes=notes)


def deploy(
    project: Project,
    env_name: str,
    out_dir: Path,
    *,
    dry_run: bool,
    confirm: Callable[[str], bool],
    allow_placeholder_digests: bool = False,
) -> DeployResult:
    """Render, then `helm upgrade --install` each chart in order. --dry-run: render and list the commands only."""
    context = None if dry_run else helm.current_kube_context()
    if not dry_run:
        # Fail before rendering anything when there is nothing (or nothing safe) to deploy.
        if allow_placeholder_digests:
            raise UsageError("refusing to deploy placeholder image digests", hint="pin every image in the env model")
        if helm.binary() is None:
            raise ExternalToolError(
                "deploy needs the helm binary, and none is on PATH",
                hint="install helm 3.14+ (or use --dry-run to render and list the commands)",
            )
        if context is None:
            raise ExternalToolError(
                "deploy needs a Kubernetes context, and the kubeconfig has none",
                hint="aws eks update-kubeconfig --name <cluster> (or use --dry-run)",
            )
    result = render(project, env_name, out_dir, allow_placeholder_digests=allow_placeholder_digests)
    commands = [
        helm.upgrade_install_args(
            release=c.release,
            chart_dir=project.root / "helm" / c.chart,
            namespace=c.namespace,
            values_file=Path(c.values_file),
            kube_context=context,
        )
        for c in result.charts
    ]
    if not dry_run:
        if not confirm(f"deploy {len(commands)} chart(s) to {env_name} (context {context})?"):
            raise UsageError("deploy not confirmed")
        for argv in commands:
            helm.run(argv)
    return DeployResult(env=result.env, dry_run=dry_run, kube_context=context, commands=commands, render=result)


# --- values ----------------------------------------------------------------------------------------------------------


def chart_values(
    project: Project,
    env: Environment,
    spec: ChartSpec,
    images: dict[str, dict[str, str]],
    notes: list[str],
    shown: str,
) -> dict[str, Any]:
    """The chart's values for env: the ci file (if any) overlaid with what the env model decides."""
    ci = project.root / "helm" / spec.name / "ci" / f"{env.name}-values.yaml"
    base = files.read_yaml(ci, display=project.rel(ci)) if ci.is_file() else {}
    base = base or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{project.rel(ci)}: expected a mapping at the top level")
    values = copy.deepcopy(base)
    for image, path in spec.images.items():
        if image in images:
            _set(values, path, images[image])
    replicas, ha = _replicas(env, shown)
    overlay = {
        "temporal": _temporal,
        "otel-collector": _otel,
        "controlplane": _controlplane,
    }[spec.name](env, values, replicas, ha, notes, shown)
    return _merge(values, overlay)


def _temporal(env: Environment, base: dict, replicas: int, ha: bool, notes: list[str], shown: str) -> dict:
    server = {svc: {"replicas": replicas} for svc in ("frontend", "history", "matching", "worker")}
    return {
        "server": server,
        "web": {"replicas": replicas},
        "highAvailability": _ha(ha),
        "networkPolicy": {"egress": [_database(env)]},
    }


def _otel(env: Environment, base: dict, replicas: int, ha: bool, notes: list[str], shown: str) -> dict:
    autoscaling = base.get("autoscaling") or {}
    return {
        "replicas": replicas,
        "autoscaling": {"minReplicas": replicas, "maxReplicas": max(int(autoscaling.get("maxReplicas", 1)), replicas)},
        "resourceAttributes": {
            "deployment.environment": env.name,
            "cloud.provider": env.cloud,
            "cloud.region": env.region,
        },
    }


def _controlplane(env: Environment, base: dict, replicas: int, ha: bool, notes: list[str], shown: str) -> dict:
    api_scaling = (base.get("api") or {}).get("autoscaling") or {}
    return {
        "environment": env.name,
        "api": {
            "replicas": replicas,
            "autoscaling": {
                "minReplicas": replicas,
                "maxReplicas": max(int(api_scaling.get("maxReplicas", 1)), replicas),
            },
        },
        "workerPools": _worker_pools(env, base.get("workerPools") or [], shown),
        "dedicatedTenants": {"tenants": _dedicated_tenants(env, notes)},
        "networkPolicy": {"egress": egress_allowlist(env)},
    }


def _worker_pools(env: Environment, base_pools: list[dict], shown: str) -> list[dict]:
    """One shared pool per tenant tier (stacks.cluster.tenant_tiers): replicas = the tier's desired nodes, autoscaling
    between its desired and max size. Resources and PDB come from the ci pool of the same tier (else the first)."""
    tiers = _cluster(env).get("tenant_tiers") or {}
    if not isinstance(tiers, dict):
        raise ConfigError(f"{shown}: stacks.cluster.tenant_tiers: expected a mapping of tier name to node group")
    by_tier = {p.get("tier"): p for p in base_pools if isinstance(p, dict)}
    pools = []
    for tier, group in tiers.items():
        where = f"stacks.cluster.tenant_tiers.{tier}"
        group = group if isinstance(group, dict) else {}
        desired = max(1, _int(group.get("desired_size", 1), f"{where}.desired_size", shown))
        maximum = max(_int(group.get("max_size", desired), f"{where}.max_size", shown), desired)
        pool = copy.deepcopy(by_tier.get(tier) or (base_pools[0] if base_pools else {}))
        scaling = pool.get("autoscaling") or {}
        pool.update(
            tier=tier,
            replicas=desired,
            autoscaling={
                "enabled": True,
                "minReplicas": desired,
                "maxReplicas": maximum,
                "targetCPUUtilizationPercentage": scaling.get("targetCPUUtilizationPercentage", 70),
            },
        )
        pool.setdefault("pdb", {"maxUnavailable": 1})
        pools.append(pool)
    return pools


def _dedicated_tenants(env: Environment, notes: list[str]) -> list[dict]:
    """Tier C tenants: the env model has no tenant list yet, so none are rendered (and the result says so)."""
    notes.append(
        f"{env.name}: the env model lists no tier C tenants, so dedicatedTenants.tenants is empty "
        "(no per-tenant namespace, ServiceAccount, Vault role or NetworkPolicy is rendered)"
    )
    return []


def egress_allowlist(env: Environment) -> list[dict]:
    """The controlplane pods' egress allowlist: DNS, the database (the VPC CIDR), Temporal, Vault, the object store,
    the OTel Collector. Nothing else leaves a pod."""
    s3 = S3_CIDRS.get(env.region)
    if s3 is None:
        raise ConfigError(
            f"region {env.region}: no S3 address ranges known for the object-store egress rule",
            hint="add the region's S3 prefixes to S3_CIDRS in src/infractl/services/render.py",
        )
    return [
        {"name": "dns", "to": [DNS_PEER], "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]},
        _database(env, name="database"),
        _in_cluster("temporal", NAMESPACE["temporal"], {"app.kubernetes.io/component": "frontend"}, 7233),
        _in_cluster("vault", VAULT_NAMESPACE, {"app.kubernetes.io/name": "vault"}, 8200),
        {
            "name": "object-store",
            "to": [{"ipBlock": {"cidr": c}} for c in s3],
            "ports": [{"port": 443, "protocol": "TCP"}],
        },
        _in_cluster("otel-collector", NAMESPACE["otel-collector"], {"app.kubernetes.io/name": "otel-collector"}, 4318),
    ]


def _database(env: Environment, name: str = "postgres") -> dict:
    return {"name": name, "to": [{"ipBlock": {"cidr": env.network.cidr}}], "ports": [{"port": 5432, "protocol": "TCP"}]}


def _in_cluster(name: str, namespace: str, pod_labels: dict[str, str], port: int) -> dict:
    peer = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": pod_labels},
    }
    return {"name": name, "to": [peer], "ports": [{"port": port, "protocol": "TCP"}]}


def _replicas(env: Environment, shown: str) -> tuple[int, bool]:
    """Replicas of every HA service: one per AZ, capped by the system node group's desired size (required
    anti-affinity puts one per node). HA (hard zone spread, required anti-affinity) from 2 replicas up."""
    group = _cluster(env).get("system_node_group") or {}
    desired = _int(group.get("desired_size", 1), "stacks.cluster.system_node_group.desired_size", shown)
    replicas = max(1, min(env.network.az_count, desired))
    return replicas, replicas >= 2


def _ha(ha: bool) -> dict:
    if ha:
        return {"zoneSpread": "DoNotSchedule", "nodeAntiAffinity": "required"}
    return {"zoneSpread": "ScheduleAnyway", "nodeAntiAffinity": "preferred"}


def _images(env: Environment, shown: str, allow_placeholder: bool, notes: list[str]) -> dict[str, dict[str, str]]:
    wanted = [name for spec in CHARTS for name in spec.images]
    pinned = {k: v.model_dump() for k, v in (env.images or {}).items()}
    missing = [name for name in wanted if name not in pinned]
    if missing and not allow_placeholder:
        lines = [f"{shown}: images.{name}: no digest pinned" for name in missing]
        raise ConfigError(
            lines[0],
            details=lines[1:],
            hint="add images.<name>: {repository, digest: sha256:…} to the env file, "
            "or pass --allow-placeholder-digests to render (never deploy) the ci files' placeholders",
        )
    if missing:
        notes.append(f"{env.name}: placeholder digests (from helm/<chart>/ci) for: {', '.join(missing)}")
    return pinned


def _kube_version(env: Environment) -> str | None:
    version = _cluster(env).get("kubernetes_version")
    return f"v{version}.0" if isinstance(version, str) and version.count(".") == 1 else None


def _cluster(env: Environment) -> dict[str, Any]:
    cluster = env.stacks.get("cluster") or {}
    return cluster if isinstance(cluster, dict) else {}


def _int(value: Any, field: str, shown: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{shown}: {field}: expected an integer, got {value!r}", hint=f"fix {shown}")
    return value


# --- helpers -----------------------------------------------------------------------------------------------------


def _merge(base: dict, overlay: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _set(values: dict, path: tuple[str, ...], value: Any) -> None:
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = copy.deepcopy(value)


def _manifest(templates: dict[str, str]) -> tuple[str, Counter[str]]:
    import yaml

    kinds: Counter[str] = Counter()
    parts = []
    for path, text in templates.items():
        docs = [d for d in yaml.safe_load_all(text) if d]
        if not docs:
            continue
        kinds.update(str(d.get("kind")) for d in docs if isinstance(d, dict))
        body = text.strip()
        if not body.startswith("---"):
            body = f"---\n# Source: {path}\n{body}"
        parts.append(body)
    return "\n".join(parts) + "\n", kinds


def _dump(values: dict) -> str:
    import yaml

    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
