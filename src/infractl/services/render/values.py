"""Each chart's values for one environment, built from the env model (docs/render.md).

Values per chart, later layers win (dicts merged key by key, lists replaced whole):
  1. helm/<chart>/values.yaml                  the chart's defaults (Helm merges them itself)
  2. helm/<chart>/ci/<env>-values.yaml         what the env model does not hold: endpoints only known after apply
                                               (database host, evidence bucket), Vault address, resources
  3. values from environments/<env>.yaml       everything else: name, region, replicas/HA, worker pools per tenant
                                               tier, tier C tenants, exporters, every egress/ingress rule, images
  4. with --from-state, the applied stacks' outputs (STATE_VALUES)
The controlplane chart's `monitoring` (PrometheusRule, dashboard ConfigMaps) comes from the SLO definitions
(slo_definitions, the SEAM to infractl.services.slo) when the env exports metrics.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infractl.adapters import files
from infractl.errors import ConfigError, UsageError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.services import environments
from infractl.services.render import autoscaling
from infractl.services.render.capacity import check_system_capacity
from infractl.services.render.charts import CHARTS, NAMESPACE, ChartSpec, chart_path, service_host
from infractl.services.render.network import (
    DNS_PEER,
    DNS_RULE,
    INGRESS_PEER,
    TENANT_NAMESPACE_PREFIX,
    client_namespaces,
    collector_peer,
    database_rule,
    egress_allowlist,
    exporter_egress,
    kube_api_egress,
    metrics_ingress,
    namespace_peer,
    pod_discovery,
    scrape_egress,
    scrape_jobs,
)
from infractl.services.rollout import analysis as rollout_analysis

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
SYSTEM_NODE_SELECTOR = {"node.infractl.io/pool": "system"}
SYSTEM_TOLERATIONS = [{"key": "CriticalAddonsOnly", "operator": "Equal", "value": "true", "effect": "NoSchedule"}]


@dataclass(frozen=True)
class EnvValues:
    """Every chart's values for one environment, and what the build had to say about them."""

    env: Environment
    charts: dict[str, dict[str, Any]]  # chart name -> values (ci layer + env model layer)
    unpinned: list[str]
    notes: list[str]


# What --from-state takes from the applied stacks: (stack, output) -> where it goes in which chart's values.
STATE_VALUES = (
    (("data", "address"), "controlplane", ("config", "database", "host")),
    (("data", "port"), "controlplane", ("config", "database", "port")),
    (("evidence", "bucket_name"), "controlplane", ("config", "objectStore", "evidenceBucket")),
    (("data", "address"), "temporal", ("persistence", "host")),
    (("data", "port"), "temporal", ("persistence", "port")),
)
STATE_STACKS = sorted({stack for (stack, _), _, _ in STATE_VALUES})
# The SLO definitions of an env as the charts take them: (Prometheus rule-file `groups`, {file stem: Grafana
# dashboard JSON}). The default is slo_definitions; tests pass their own.
SloSource = Callable[[Project, Environment], tuple[list[dict], dict[str, dict]]]
# A dashboard's file stem names its ConfigMap (<fullname>-dashboard-<stem>) and its key (<stem>.json).
DASHBOARD_STEM = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")


def values_for(
    project: Project,
    env_name: str,
    outputs: dict[str, dict[str, Any]] | None = None,
    *,
    slo: SloSource | None = None,
) -> EnvValues:
    """Every chart's values for env_name: the ci layer overlaid with what the env model decides, then (when given)
    the applied stacks' outputs ({stack: {output: {value, ...}}}, see STATE_VALUES). The controlplane chart's
    `monitoring` comes from slo (default: slo_definitions) when the env exports metrics."""
    env = environments.load(project, env_name)
    shown = project.rel(project.env_file(env_name))
    notes: list[str] = []
    images, unpinned = _images(env, shown)
    if unpinned:
        notes.append(
            f"{env.name}: not pinned by digest, rendered with {UNPINNED[:15]}… (deploy refuses): {', '.join(unpinned)}"
        )
    replicas = autoscaling.ha_replicas(env, shown)
    charts: dict[str, dict[str, Any]] = {}
    for spec in CHARTS:
        chart_path(project, spec.name)
        base = _ci_values(project, spec, env.name)
        for image, path in spec.images.items():
            _set(base, path, images[image])
        overlay = {"temporal": _temporal, "otel-collector": _otel, "controlplane": _controlplane}[spec.name]
        charts[spec.name] = _merge(base, overlay(env, base, replicas, shown))
    controlplane = {
        "monitoring": _monitoring(project, env, slo),
        "delivery": rollout_analysis.chart_values(project, env),
    }
    charts["controlplane"] = _merge(charts["controlplane"], controlplane)
    check_system_capacity(env.name, _cluster(env).get("system_node_group") or {}, charts, shown, notes)
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
            "egress": [database_rule(env)],
            # The frontend's clients: the control plane and every tier C tenant's workers.
            "frontendIngress": [namespace_peer(ns) for ns in client_namespaces(env)],
            "metricsIngress": [collector_peer()],
            "webIngress": [INGRESS_PEER],
        },
    }


def _otel(env: Environment, base: dict, replicas: int, shown: str) -> dict:
    pipelines = {
        signal: {"exporters": [{"type": e.type, "config": e.config} for e in getattr(env.observability, signal)]}
        for signal in ("traces", "metrics", "logs")
    }
    scrape = scrape_jobs(env)
    return {
        "nodeSelector": SYSTEM_NODE_SELECTOR,
        "tolerations": SYSTEM_TOLERATIONS,
        "replicas": replicas,
        "autoscaling": autoscaling.collector_hpa(env, shown),  # the env model's autoscaling.otel_collector
        # One resource on every signal: the three correlate on these.
        "resourceAttributes": {
            "deployment.environment": env.name,
            "service.namespace": NAMESPACE["controlplane"],
            "cloud.provider": env.cloud,
            "cloud.region": env.region,
            "k8s.cluster.name": env.name,  # the cluster stack names the cluster after the env
        },
        "pipelines": pipelines,
        # Prometheus endpoints (Temporal's servers, the control plane's /metrics) into the metrics pipeline.
        "scrape": scrape,
        "networkPolicy": {
            "ingressFrom": [namespace_peer(ns) for ns in client_namespaces(env)],
            "egress": [DNS_RULE, *exporter_egress(env, shown), *scrape_egress(env), *kube_api_egress(env, scrape)],
        },
    }


def _controlplane(env: Environment, base: dict, replicas: int, shown: str) -> dict:
    lock_mode, classes = env.evidence_retention()
    return {
        "environment": env.name,
        "config": {
            "temporal": {"address": f"{service_host('temporal', 'frontend')}:7233"},
            "objectStore": {"region": env.region},
            "otel": {"endpoint": f"http://{service_host('otel-collector')}:4318"},
            # the ledger as the env model sets it (docs/evidence.md): the worker locks and signs run evidence so
            "evidence": {
                "lockMode": lock_mode,
                "retentionDays": classes["standard"],
                "transitKey": env.evidence.transit_key or f"infractl-evidence-{env.name}",
                "transitMount": env.evidence.transit_mount,
                "checkpointEvery": env.evidence.checkpoint_every,
            },
        },
        "api": {
            "nodeSelector": SYSTEM_NODE_SELECTOR,
            "tolerations": SYSTEM_TOLERATIONS,
            "ingressFrom": [INGRESS_PEER],
            "replicas": replicas,
            "autoscaling": autoscaling.api_hpa(env, shown),  # the env model's autoscaling.api
        },
        # who scrapes the metrics port, and whose ServiceAccount lists the pods for it (the collector's scrape jobs)
        "metrics": {"ingressFrom": metrics_ingress(env), "discoveredBy": pod_discovery(scrape_jobs(env))},
        "workerPools": _worker_pools(env, base.get("workerPools") or [], shown),
        "dedicatedTenants": {"namespacePrefix": TENANT_NAMESPACE_PREFIX, "tenants": _dedicated_tenants(env, shown)},
        "networkPolicy": {"egress": egress_allowlist(env)},
    }


def slo_definitions(project: Project, env: Environment) -> tuple[list[dict], dict[str, dict]]:
    """The env's SLO rule groups and dashboards: infractl.services.slo (slo/*.yaml and the env model's `slo:`,
    docs/slo.md), read only when an env exports metrics. A project without an slo/ folder (one made by `infractl
    init`, until it defines SLOs) renders no PrometheusRule and no dashboards."""
    from infractl.services import slo

    if not slo.defined(project.root):
        return [], {}

    sloset = slo.load(project.root, env)
    return slo.rule_groups(sloset), slo.dashboards(sloset)


def monitoring_values(groups: list[dict], dashboards: dict[str, dict]) -> dict:
    """The controlplane chart's `monitoring` values from Prometheus rule groups (a rule file's `groups`) and Grafana
    dashboards ({file stem: dashboard JSON}): on when there is either. The groups become one PrometheusRule, each
    dashboard a ConfigMap holding it as a JSON string (the chart copies the string, so no number is retyped)."""
    bad = sorted(stem for stem in dashboards if not DASHBOARD_STEM.match(stem))
    if bad:
        raise ConfigError(
            f"SLO dashboards {', '.join(bad)}: a dashboard's name must be a DNS label of at most 40 characters",
            hint="lower-case letters, digits and '-' (it names the dashboard's ConfigMap)",
        )
    return {
        "enabled": bool(groups or dashboards),
        "prometheusRule": {"groups": copy.deepcopy(groups)},
        "dashboards": {stem: json.dumps(dashboards[stem], separators=(",", ":")) for stem in sorted(dashboards)},
    }


def _monitoring(project: Project, env: Environment, slo: SloSource | None) -> dict:
    """The env's monitoring values: off without a metrics pipeline (the rules' series would never reach a backend)."""
    if not env.observability.metrics:
        return {"enabled": False}
    groups, dashboards = (slo or slo_definitions)(project, env)
    return monitoring_values(groups, dashboards)


def _worker_pools(env: Environment, base_pools: list[dict], shown: str) -> list[dict]:
    """One shared pool per tenant tier (stacks.cluster.tenant_tiers), scaled with its node group (_scaled).
    Resources and PDB come from the ci pool of the same tier (else the first)."""
    tiers = autoscaling.shared_tiers(env, shown)
    by_tier = {p.get("tier"): p for p in base_pools if isinstance(p, dict)}
    pools = []
    for tier, group in tiers.items():
        pool = copy.deepcopy(by_tier.get(tier) or (base_pools[0] if base_pools else {}))
        where = f"stacks.cluster.tenant_tiers.{tier}"
        pool.update(tier=tier, **_scaled(env, group, where, shown))
        pool.setdefault("pdb", {"maxUnavailable": 1})
        pools.append(pool)
    return pools


def _dedicated_tenants(env: Environment, shown: str) -> list[dict]:
    """Tier C tenants: each on its own node group (tier c-<name>, env.tenant_node_groups), scaled like a pool."""
    return [
        {"name": t.name, "tier": t.tier, **_scaled(env, t.node_group.model_dump(), f"tenants.{t.name}", shown)}
        for t in env.tenants
    ]


def _scaled(env: Environment, group: Any, where: str, shown: str) -> dict:
    """Workers on a node group: replicas = its desired nodes (at least 1), the HPA up to its max size
    (autoscaling.worker_hpa: the numbers docs/finops.md lists)."""
    hpa = autoscaling.worker_hpa(env, group, where, shown)
    return {"replicas": hpa["minReplicas"], "autoscaling": hpa}


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
    own = env.own_image_repository(image)  # our images: the env's own repository (ECR on AWS)
    if own:
        return own
    raise ConfigError(
        f"{shown}: images.{image}: not pinned, and there is no default {env.cloud} registry for it",
        hint=f"add images.{image}: {{repository, digest: sha256:…}}",
    )


def kube_version_for(env: Environment) -> str | None:
    """The Kubernetes version `helm lint` checks against: v<stacks.cluster.kubernetes_version>.0, if set."""
    version = _cluster(env).get("kubernetes_version")
    return f"v{version}.0" if isinstance(version, str) and version.count(".") == 1 else None


def _cluster(env: Environment) -> dict[str, Any]:
    cluster = env.stacks.get("cluster") or {}
    return cluster if isinstance(cluster, dict) else {}


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
