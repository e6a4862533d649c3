"""Render the Helm charts of one environment from the env model, and deploy them (docs/render.md).

Values per chart, later layers win (dicts merged key by key, lists replaced whole):
  1. helm/<chart>/values.yaml                  the chart's defaults (Helm merges them itself)
  2. helm/<chart>/ci/<env>-values.yaml         what the env model does not hold: endpoints only known after apply
                                               (database host, evidence bucket), Vault address, resources
  3. values from environments/<env>.yaml       everything else: name, region, replicas/HA, worker pools per tenant
                                               tier, tier C tenants, exporters, every egress/ingress rule, images
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from infractl.adapters import files, helm
from infractl.errors import CommandError, ConfigError, ExternalToolError, UsageError
from infractl.models.environment import Environment, Exporter
from infractl.models.project import Project
from infractl.services import environments
from infractl.services.context import Context

DNS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}
DNS_RULE = {
    "name": "dns",
    "to": [DNS_PEER],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}
VAULT_NAMESPACE = "vault"
TENANT_NAMESPACE_PREFIX = "tenant-"  # tier C tenant "acme" runs in namespace tenant-acme
# S3 in each region, reached through the VPC gateway endpoint: the S3 prefixes of AWS ip-ranges.json for the region
# (refresh from https://ip-ranges.amazonaws.com/ip-ranges.json when AWS adds some).
S3_CIDRS = {"eu-west-1": ["52.218.0.0/17", "3.5.64.0/21", "3.5.72.0/23", "52.92.0.0/17"]}
# Where an image comes from when the env model does not pin it: public upstream images, and our own images in the
# env account's registry. An unpinned image renders with UNPINNED, a digest no registry serves: such a manifest
# can never start a container, and `deploy` refuses it.
UPSTREAM_REPOSITORIES = {
    "temporal-server": "temporalio/server",
    "temporal-admin-tools": "temporalio/admin-tools",
    "temporal-ui": "temporalio/ui",
    "postgres": "postgres",
    "otel-collector": "otel/opentelemetry-collector-contrib",
}
UNPINNED = "sha256:" + "0" * 64
# The platform's pods (Temporal, the collector, the api) run on the system node group of the cluster stack:
# labelled node.infractl.io/pool=system, tainted CriticalAddonsOnly=true:NoSchedule (terraform/modules/aws/eks).
# The cluster's ingress controller: the only peer that reaches the api and the Temporal web UI from outside.
INGRESS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}
SYSTEM_NODE_SELECTOR = {"node.infractl.io/pool": "system"}
SYSTEM_TOLERATIONS = [{"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]
# Temporal's Prometheus endpoints: the headless Services of its servers (helm/temporal/templates/server.yaml).
TEMPORAL_METRICS_PORT = 9090
TEMPORAL_METRICS_DNS = [
    f"temporal-{svc}.temporal.svc.cluster.local" for svc in ("frontend-headless", "history", "matching", "worker")
]
# vCPU and GiB of memory per instance type of the price catalog, to check that the platform fits its nodes.
INSTANCE_SIZES = {
    "t3.large": (2, 8),
    "m5.large": (2, 8),
    "m6i.large": (2, 8),
    "m6g.large": (2, 8),
    "m7g.large": (2, 8),
    "m6i.xlarge": (4, 16),
    "m6i.2xlarge": (8, 32),
}
# Share of a system node the platform's pods may request; the rest is the kubelet's reservation and the add-ons
# (CoreDNS, kube-proxy, the VPC CNI).
SYSTEM_NODE_SHARE = 0.75
# The in-cluster endpoint of an OTel exporter: <service>.<namespace>.svc[.cluster.local].
IN_CLUSTER_HOST = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.(?P<ns>[a-z0-9]([a-z0-9-]*[a-z0-9])?)\.svc(\.cluster\.local)?$"
)


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


@dataclass(frozen=True)
class EnvValues:
    """Every chart's values for one environment, and what the build had to say about them."""

    env: Environment
    charts: dict[str, dict[str, Any]]  # chart name -> values (ci layer + env model layer)
    unpinned: list[str]
    notes: list[str]


def render(
    project: Project, env_name: str, out_dir: Path, *, outputs: dict[str, dict[str, Any]] | None = None
) -> RenderResult:
    """Build each chart's values from the env model (and the applied stacks' outputs, when given), render it
    (schema-checked), lint it strictly, and write `<out>/<env>/<chart>.yaml` and `<out>/<env>/values/<chart>.yaml`.
    Nothing is written unless every chart renders and lints."""
    return _render(project, values_for(project, env_name, outputs), out_dir)


def _render(project: Project, built: EnvValues, out_dir: Path) -> RenderResult:
    env_name = built.env.name
    kube_version = _kube_version(built.env)
    rendered: list[tuple[ChartSpec, dict[str, Any], str, Counter[str]]] = []
    for spec in CHARTS:
        chart_dir = chart_path(project, spec.name)
        values = built.charts[spec.name]
        templates = helm.render(chart_dir, values, release=spec.name, namespace=spec.namespace)
        problems = helm.lint(chart_dir, values, namespace=spec.namespace, kube_version=kube_version)
        if problems:
            raise ExternalToolError(f"chart {spec.name}: helm lint --strict failed for {env_name}", details=problems)
        text, kinds = _manifest(templates)
        rendered.append((spec, values, text, kinds))
    dest = out_dir / built.env.name
    charts: list[ChartRender] = []
    written: list[str] = []
    for spec, values, text, kinds in rendered:
        manifest = dest / f"{spec.name}.yaml"
        values_file = dest / "values" / f"{spec.name}.yaml"
        try:
            values_file.parent.mkdir(parents=True, exist_ok=True)
            manifest.write_text(text, encoding="utf-8")
            values_file.write_text(_dump(values), encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"--out {out_dir}: cannot write {exc.filename or dest}: {exc.strerror}",
                hint="pass a writable directory to --out",
            ) from None
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
    return RenderResult(
        env=built.env.name, out_dir=str(dest), charts=charts, files=written, unpinned=built.unpinned, notes=built.notes
    )


def deploy(
    project: Project,
    env_name: str,
    out_dir: Path,
    *,
    dry_run: bool,
    confirm: Callable[[str], bool],
    on_chart: Callable[[str, int, int], None] = lambda chart, i, n: None,
    outputs: dict[str, dict[str, Any]] | None = None,
) -> DeployResult:
    """Render, then `helm upgrade --install` each chart in order (on_chart(chart, i, n) before each). --dry-run:
    render and list the commands only. A failing chart stops the deploy; the error names what was deployed."""
    context = None if dry_run else helm.current_kube_context()
    built = values_for(project, env_name, outputs)
    if not dry_run:
        # Fail before rendering anything when there is nothing (or nothing safe) to runs.
        unpinned = built.unpinned
        if unpinned:
            shown = project.rel(project.env_file(env_name))
            lines = [f"{shown}: images.{name}: no digest pinned" for name in unpinned]
            raise ConfigError(
                f"refusing to deploy {env_name}: {len(unpinned)} image(s) not pinned by digest",
                details=lines,
                hint="add images.<name>: {repository, digest: sha256:…} to the env file (the release pipeline's "
                "digests); render and deploy --dry-run show the rest without them",
            )
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
    result = _render(project, built, out_dir)
    commands = [
        helm.upgrade_install_args(
            release=c.release,
            chart_dir=chart_path(project, c.chart),
            namespace=c.namespace,
            values_file=Path(c.values_file),
            kube_context=context,
        )
        for c in result.charts
    ]
    if not dry_run:
        if not confirm(f"deploy {len(commands)} chart(s) to {env_name} (context {context})?"):
            raise UsageError("deploy not confirmed")
        done: list[str] = []
        for i, (chart, argv) in enumerate(zip(result.charts, commands, strict=True), 1):
            on_chart(chart.chart, i, len(commands))
            try:
                helm.run(argv)
            except CommandError as exc:
                rest = [c.chart for c in result.charts[i:]]
                raise ExternalToolError(
                    f"deploy {env_name}: helm upgrade --install {chart.chart} failed (exit {exc.returncode}); "
                    f"deployed: {', '.join(done) or 'none'}; not attempted: {', '.join(rest) or 'none'}",
                    details=exc.details,
                    hint="helm rolled the failed release back (--atomic); fix the cause and run deploy again "
                    "(charts already deployed are upgraded in place)",
                ) from None
            done.append(chart.chart)
    return DeployResult(env=result.env, dry_run=dry_run, kube_context=context, commands=commands, render=result)


# --- values ----------------------------------------------------------------------------------------------------------


def chart_path(project: Project, chart: str) -> Path:
    chart_dir = project.root / "helm" / chart
    if not (chart_dir / "Chart.yaml").is_file():
        raise ConfigError(f"{project.rel(chart_dir)}: no chart here (Chart.yaml missing)")
    return chart_dir


# What --from-state takes from the applied stacks: (stack, output) -> where it goes in which chart's values.
STATE_VALUES = (
    (("data", "address"), "controlplane", ("config", "database", "host")),
    (("data", "port"), "controlplane", ("config", "database", "port")),
    (("evidence", "bucket_name"), "controlplane", ("config", "objectStore", "evidenceBucket")),
    (("data", "address"), "temporal", ("persistence", "host")),
    (("data", "port"), "temporal", ("persistence", "port")),
)
STATE_STACKS = sorted({stack for (stack, _), _, _ in STATE_VALUES})


def state_outputs(ctx: Context, env_name: str) -> dict[str, dict[str, Any]]:
    """The outputs STATE_VALUES needs, from the env's applied stacks (the emulator's state with --emulate)."""
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    return runs.applied_outputs(ctx, env_name, STATE_STACKS, NullProgress())


def values_for(project: Project, env_name: str, outputs: dict[str, dict[str, Any]] | None = None) -> EnvValues:
    """Every chart's values for env_name: the ci layer overlaid with what the env model decides, then (when given)
    the applied stacks' outputs ({stack: {output: {value, ...}}}, see STATE_VALUES)."""
    env = environments.load(project, env_name)
    shown = project.rel(project.env_file(env_name))
    notes: list[str] = []
    images, unpinned = _images(env, shown)
    if unpinned:
        notes.append(
            f"{env.name}: not pinned by digest, rendered with {UNPINNED[:15]}… (deploy refuses): {', '.join(unpinned)}"
        )
    replicas = _replicas(env, shown)
    charts: dict[str, dict[str, Any]] = {}
    for spec in CHARTS:
        chart_path(project, spec.name)
        base = _ci_values(project, spec, env.name)
        for image, path in spec.images.items():
            _set(base, path, images[image])
        overlay = {"temporal": _temporal, "otel-collector": _otel, "controlplane": _controlplane}[spec.name]
        charts[spec.name] = _merge(base, overlay(env, base, replicas, shown))
    _check_system_capacity(env, charts, shown, notes)
    if outputs is not None:
        for (stack, output), chart, path in STATE_VALUES:
            item = (outputs.get(stack) or {}).get(output)
            if item is None or item.get("value") in (None, ""):
                raise UsageError(
                    f"--from-state: stack {stack} of {env_name} has no output {output!r} in its state",
                    hint=f"apply it first: infractl apply {env_name} --stack {stack}",
                )
            _set(charts[chart], path, item["value"])
        notes.append(f"{env.name}: database endpoint and evidence bucket from the state of: {', '.join(STATE_STACKS)}")
    return EnvValues(env=env, charts=charts, unpinned=unpinned, notes=notes)


def _ci_values(project: Project, spec: ChartSpec, env_name: str) -> dict[str, Any]:
    ci = project.root / "helm" / spec.name / "ci" / f"{env_name}-values.yaml"
    base = (files.read_yaml(ci, display=project.rel(ci)) if ci.is_file() else None) or {}
    if not isinstance(base, dict):
        raise ConfigError(f"{project.rel(ci)}: expected a mapping at the top level")
    return copy.deepcopy(base)


def _temporal(env: Environment, base: dict, replicas: int, shown: str) -> dict:
    server = {svc: {"replicas": replicas} for svc in ("frontend", "history", "matching", "worker")}
    return {
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "tolerations": SYSTEM_TOLERATIONS,
        "server": server,
        "web": {"replicas": replicas},
        "highAvailability": _ha(replicas >= 2),
        "networkPolicy": {
            # the chart writes its DNS rule itself (its schema Job too): the same peer as everyone's DNS_RULE
            "dns": {
                "namespace": DNS_PEER["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
                "podLabels": DNS_PEER["podSelector"]["matchLabels"],
            },
            "egress": [_database(env)],
            # The frontend's clients: the control plane and every tier C tenant's workers.
            "frontendIngress": [_namespace_peer(ns) for ns in _client_namespaces(env)],
            "metricsIngress": [_collector_peer()],
            "webIngress": [INGRESS_PEER],
        },
    }


def _otel(env: Environment, base: dict, replicas: int, shown: str) -> dict:
    autoscaling = base.get("autoscaling") or {}
    pipelines = {
        signal: {"exporters": [{"type": e.type, "config": e.config} for e in getattr(env.observability, signal)]}
        for signal in ("traces", "metrics", "logs")
    }
    return {
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "tolerations": SYSTEM_TOLERATIONS,
        "replicas": replicas,
        "autoscaling": {"minReplicas": replicas, "maxReplicas": max(int(autoscaling.get("maxReplicas", 1)), replicas)},
        # One resource on every signal: the three correlate on these.
        "resourceAttributes": {
            "deployment.environment": env.name,
            "service.namespace": NAMESPACE["controlplane"],
            "cloud.provider": env.cloud,
            "cloud.region": env.region,
            "k8s.cluster.name": env.name,  # the cluster stack names the cluster after the env
        },
        "pipelines": pipelines,
        # Temporal's servers expose Prometheus metrics only: the collector scrapes them into the metrics pipeline.
        "scrape": [{"job": "temporal", "dnsNames": TEMPORAL_METRICS_DNS, "port": TEMPORAL_METRICS_PORT}]
        if env.observability.metrics
        else [],
        "networkPolicy": {
            "ingressFrom": [_namespace_peer(ns) for ns in _client_namespaces(env)],
            "egress": [DNS_RULE, *exporter_egress(env, shown), *_scrape_egress(env)],
        },
    }


def _controlplane(env: Environment, base: dict, replicas: int, shown: str) -> dict:
    api_scaling = (base.get("api") or {}).get("autoscaling") or {}
    return {
        "environment": env.name,
        "config": {
            "temporal": {"address": f"{_service('temporal', 'frontend')}:7233"},
            "objectStore": {"region": env.region},
            "otel": {"endpoint": f"http://{_service('otel-collector')}:4318"},
        },
        "api": {
            "nodeSelector": SYSTEM_NODE_SELECTOR,
            "tolerations": SYSTEM_TOLERATIONS,
            "ingressFrom": [INGRESS_PEER],
            "replicas": replicas,
            "autoscaling": {
                "minReplicas": replicas,
                "maxReplicas": max(int(api_scaling.get("maxReplicas", 1)), replicas),
            },
        },
        "workerPools": _worker_pools(env, base.get("workerPools") or [], shown),
        "dedicatedTenants": {"namespacePrefix": TENANT_NAMESPACE_PREFIX, "tenants": _dedicated_tenants(env, shown)},
        "networkPolicy": {"egress": egress_allowlist(env)},
    }


def _worker_pools(env: Environment, base_pools: list[dict], shown: str) -> list[dict]:
    """One shared pool per tenant tier (stacks.cluster.tenant_tiers), scaled with its node group (_scaled).
    Resources and PDB come from the ci pool of the same tier (else the first)."""
    tiers = _cluster(env).get("tenant_tiers") or {}
    if not isinstance(tiers, dict):
        raise ConfigError(f"{shown}: stacks.cluster.tenant_tiers: expected a mapping of tier name to node group")
    by_tier = {p.get("tier"): p for p in base_pools if isinstance(p, dict)}
    pools = []
    for tier, group in tiers.items():
        pool = copy.deepcopy(by_tier.get(tier) or (base_pools[0] if base_pools else {}))
        where = f"stacks.cluster.tenant_tiers.{tier}"
        pool.update(tier=tier, **_scaled(group, pool.get("autoscaling") or {}, where, shown))
        pool.setdefault("pdb", {"maxUnavailable": 1})
        pools.append(pool)
    return pools


def _dedicated_tenants(env: Environment, shown: str) -> list[dict]:
    """Tier C tenants: each on its own node group (tier c-<name>, env.tenant_node_groups), scaled like a pool."""
    return [
        {"name": t.name, "tier": t.tier, **_scaled(t.node_group.model_dump(), {}, f"tenants.{t.name}", shown)}
        for t in env.tenants
    ]


def _scaled(group: Any, base: dict, where: str, shown: str) -> dict:
    """Workers on a node group: replicas = its desired nodes (at least 1), autoscaling up to its max size."""
    group = group if isinstance(group, dict) else {}
    desired = max(1, _int(group.get("desired_size", 1), f"{where}.desired_size", shown))
    maximum = max(_int(group.get("max_size", desired), f"{where}.max_size", shown), desired)
    autoscaling = {
        "enabled": True,
        "minReplicas": desired,
        "maxReplicas": maximum,
        "targetCPUUtilizationPercentage": base.get("targetCPUUtilizationPercentage", 70),
    }
    return {"replicas": desired, "autoscaling": autoscaling}


def egress_allowlist(env: Environment) -> list[dict]:
    """The controlplane pods' egress allowlist: DNS, the database (the VPC CIDR), Temporal, Vault, the object store,
    the OTel Collector. Nothing else leaves a pod."""
    s3 = S3_CIDRS.get(env.region)
    if s3 is None:
        raise ConfigError(
            f"region {env.region}: no S3 address ranges known for the object-store egress rule",
            hint="add the region's S3 prefixes to S3_CIDRS in src/infractl/services/render.py",
        )
    temporal_frontend = {"app.kubernetes.io/name": "temporal", "app.kubernetes.io/component": "frontend"}
    return [
        DNS_RULE,
        _database(env, name="database"),
        _in_cluster("temporal", NAMESPACE["temporal"], temporal_frontend, 7233),
        _in_cluster("vault", VAULT_NAMESPACE, {"app.kubernetes.io/name": "vault"}, 8200),
        {
            "name": "object-store",
            "to": [{"ipBlock": {"cidr": c}} for c in s3],
            "ports": [{"port": 443, "protocol": "TCP"}],
        },
        _in_cluster("otel-collector", NAMESPACE["otel-collector"], {"app.kubernetes.io/name": "otel-collector"}, 4318),
    ]


def exporter_egress(env: Environment, shown: str) -> list[dict]:
    """The collector's egress to its backends, one rule per exporter: an in-cluster endpoint allows its namespace
    on its port; anything else allows the exporter's egress_cidrs (required then). The debug exporter sends nothing."""
    rules: list[dict] = []
    for signal in ("traces", "metrics", "logs"):
        for i, exporter in enumerate(getattr(env.observability, signal)):
            if exporter.type == "debug":
                continue
            where = f"observability.{signal}[{i}]"
            host, port = _endpoint(exporter, where, shown)
            match = IN_CLUSTER_HOST.match(host or "")
            if exporter.egress_cidrs:
                peers = [{"ipBlock": {"cidr": c}} for c in exporter.egress_cidrs]
            elif match:
                peers = [_namespace_peer(match["ns"])]
            else:
                what = f"endpoint host {host}" if host else f"the {exporter.type} exporter (no config.endpoint)"
                raise ConfigError(
                    f"{shown}: {where}: {what} is outside the cluster, and egress_cidrs is empty",
                    hint=f"list the backend's addresses in {where}.egress_cidrs (a NetworkPolicy cannot name a host),"
                    " or use an in-cluster endpoint <service>.<namespace>.svc:<port>",
                )
            name = f"{signal}-{exporter.type}" + (f"-{i}" if i else "")
            ports = [{"port": p, "protocol": "TCP"} for p in (exporter.egress_ports or [port])]
            rules.append({"name": name, "to": peers, "ports": ports})
    return rules


def _endpoint(exporter: Exporter, where: str, shown: str) -> tuple[str | None, int]:
    """(host, port) of an exporter's config.endpoint: `host:port` (gRPC) or a URL (port from the scheme if absent).
    No endpoint: the cloud's API over HTTPS."""
    endpoint = exporter.config.get("endpoint")
    if endpoint is None:
        return None, 443
    text = str(endpoint)
    parts = urlsplit(text if "://" in text else f"grpc://{text}")
    try:
        port = parts.port
    except ValueError:
        port = None
        parts = None  # type: ignore[assignment]
    if parts is None or not parts.hostname or (port is None and parts.scheme not in ("http", "https")):
        raise ConfigError(
            f"{shown}: {where}.config.endpoint: {text!r} is not host:port or an http(s) URL",
            hint="e.g. tempo-distributor.observability.svc:4317 or https://backend.example.com/otlp",
        )
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _scrape_egress(env: Environment) -> list[dict]:
    if not env.observability.metrics:
        return []
    pods = {"app.kubernetes.io/name": "temporal"}
    return [_in_cluster("temporal-metrics", NAMESPACE["temporal"], pods, TEMPORAL_METRICS_PORT)]


def _client_namespaces(env: Environment) -> list[str]:
    """The namespaces whose pods call Temporal and the collector: the control plane's and each tier C tenant's."""
    return [NAMESPACE["controlplane"], *(f"{TENANT_NAMESPACE_PREFIX}{t.name}" for t in env.tenants)]


def _service(chart: str, component: str | None = None) -> str:
    """The in-cluster DNS name of a chart's Service (release name = chart name, so fullname = chart name)."""
    name = f"{chart}-{component}" if component else chart
    return f"{name}.{NAMESPACE[chart]}.svc.cluster.local"


def _database(env: Environment, name: str = "postgres") -> dict:
    return {"name": name, "to": [{"ipBlock": {"cidr": env.network.cidr}}], "ports": [{"port": 5432, "protocol": "TCP"}]}


def _namespace_peer(namespace: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def _collector_peer() -> dict:
    return {
        **_namespace_peer(NAMESPACE["otel-collector"]),
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "otel-collector"}},
    }


def _in_cluster(name: str, namespace: str, pod_labels: dict[str, str], port: int) -> dict:
    peer = {**_namespace_peer(namespace), "podSelector": {"matchLabels": pod_labels}}
    return {"name": name, "to": [peer], "ports": [{"port": port, "protocol": "TCP"}]}


def _replicas(env: Environment, shown: str) -> int:
    """Replicas of every HA service: one per AZ, capped by the system node group's desired size (required
    anti-affinity puts one per node). HA (hard zone spread, required anti-affinity) from 2 replicas up."""
    group = _cluster(env).get("system_node_group") or {}
    desired = _int(group.get("desired_size", 1), "stacks.cluster.system_node_group.desired_size", shown)
    return max(1, min(env.network.az_count, desired))


def _ha(ha: bool) -> dict:
    if ha:
        return {"zoneSpread": "DoNotSchedule", "nodeAntiAffinity": "required"}
    return {"zoneSpread": "ScheduleAnyway", "nodeAntiAffinity": "preferred"}


def _images(env: Environment, shown: str) -> tuple[dict[str, dict[str, str]], list[str]]:
    """{image: {repository, digest}} for every image the charts run, and the names the env model does not pin."""
    pinned = {k: v.model_dump() for k, v in (env.images or {}).items()}
    images: dict[str, dict[str, str]] = {}
    unpinned: list[str] = []
    for name in (name for spec in CHARTS for name in spec.images):
        if name in pinned:
            images[name] = pinned[name]
            continue
        unpinned.append(name)
        images[name] = {"repository": _default_repository(env, name, shown), "digest": UNPINNED}
    return images, unpinned


def _default_repository(env: Environment, image: str, shown: str) -> str:
    if image in UPSTREAM_REPOSITORIES:
        return UPSTREAM_REPOSITORIES[image]
    if env.cloud == "aws":  # our images: the env account's ECR
        return f"{env.account}.dkr.ecr.{env.region}.amazonaws.com/{image}"
    raise ConfigError(
        f"{shown}: images.{image}: not pinned, and there is no default {env.cloud} registry for it",
        hint=f"add images.{image}: {{repository, digest: sha256:…}}",
    )


def _check_system_capacity(env: Environment, charts: dict[str, dict[str, Any]], shown: str, notes: list[str]) -> None:
    """The platform's pods per system node must fit the node: with one pod of each component per node (the HA
    anti-affinity), a node carries one of each. Their requests must stay within SYSTEM_NODE_SHARE of its CPU and
    memory, or pods stay Pending and `deploy --atomic` rolls back."""
    group = _cluster(env).get("system_node_group") or {}
    types = group.get("instance_types") or []
    sizes = [INSTANCE_SIZES.get(t) for t in types]
    if not types or None in sizes:
        notes.append(f"{env.name}: system node capacity not checked (instance type(s) {types} not in INSTANCE_SIZES)")
        return
    cpu, mem = min(c for c, _ in sizes), min(m for _, m in sizes)  # type: ignore[misc]
    temporal, otel, api = charts["temporal"], charts["otel-collector"], charts["controlplane"]["api"]
    pods = {f"temporal {svc}": temporal["server"][svc] for svc in ("frontend", "history", "matching", "worker")}
    pods |= {"temporal web": temporal.get("web") or {}, "otel-collector": otel, "controlplane api": api}
    want_cpu = sum(_quantity(_requests(p).get("cpu", "0")) for p in pods.values())
    want_mem = sum(_quantity(_requests(p).get("memory", "0")) for p in pods.values()) / 2**30
    if want_cpu > cpu * SYSTEM_NODE_SHARE or want_mem > mem * SYSTEM_NODE_SHARE:
        raise ConfigError(
            f"{shown}: stacks.cluster.system_node_group: the platform's pods request {want_cpu:g} vCPU and "
            f"{want_mem:.2f} GiB per node, more than {SYSTEM_NODE_SHARE:.0%} of a {types[0]} ({cpu} vCPU, {mem} GiB)",
            hint="use a larger instance type for the system node group, or lower the requests in helm/<chart>/ci",
        )


def _requests(pod_values: dict) -> dict:
    return ((pod_values or {}).get("resources") or {}).get("requests") or {}


def _quantity(value: Any) -> float:
    """A Kubernetes quantity as a number: CPU in cores ("250m" -> 0.25), memory in bytes ("1Gi" -> 2**30)."""
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


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
