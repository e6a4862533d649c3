"""The network rules render writes into the charts' NetworkPolicies: the peers (DNS, the ingress controller, a
namespace, the collector), the control plane's egress allowlist, the collector's egress to its exporters' backends,
to the Prometheus endpoints it scrapes and to the Kubernetes API its pod discovery reads, and the namespaces whose
pods may call Temporal and the collector (docs/render.md). With the scrape jobs themselves: who scrapes what, and
whose ServiceAccount may list the control plane's pods for it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from infractl.errors import ConfigError
from infractl.models.environment import Environment, Exporter
from infractl.services.render.charts import NAMESPACE

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
# The cluster's ingress controller: the only peer that reaches the api and the Temporal web UI from outside.
INGRESS_PEER = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
}
# Temporal's Prometheus endpoints: the headless Services of its servers (helm/temporal/templates/server.yaml).
TEMPORAL_METRICS_PORT = 9090
TEMPORAL_METRICS_DNS = [
    f"temporal-{svc}.temporal.svc.cluster.local" for svc in ("frontend-headless", "history", "matching", "worker")
]
# The control plane's Prometheus endpoint: every api and worker pod serves GET /metrics on this port
# (CONTROLPLANE_METRICS_PORT), its container port `metrics` (helm/controlplane/templates/workloads.yaml). The collector
# finds the pods through the Kubernetes API (role pod), so that a series carries its pod's labels: the api's carry
# Argo Rollouts' pod template hash, which the AnalysisTemplate's queries select the canary by. The scrape job names are
# the ones the SLO rules are written against.
CONTROLPLANE_METRICS_PORT = 9464
CONTROLPLANE_SCRAPE_JOBS = ("controlplane-api", "controlplane-worker")
CONTROLPLANE_RELEASE = "controlplane"  # the release name (= chart name): app.kubernetes.io/{name,instance} of its pods
# The label Argo Rollouts puts on the pods of each ReplicaSet of a Rollout (the AnalysisTemplate's canary-hash value).
ROLLOUTS_HASH_LABEL = "rollouts-pod-template-hash"
# The collector's ServiceAccount (helm/otel-collector: <release>-gateway) and the Kubernetes API server: EKS's private
# endpoint has its network interfaces in the cluster's subnets, inside the VPC CIDR, and serves 443 (the cluster
# security group admits 443 from the VPC CIDR: terraform/modules/aws/eks/main.tf).
COLLECTOR_SERVICE_ACCOUNT = "otel-collector-gateway"
KUBE_API_PORT = 443
# The in-cluster endpoint of an OTel exporter: <service>.<namespace>.svc[.cluster.local].
IN_CLUSTER_HOST = re.compile(
    r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.(?P<ns>[a-z0-9]([a-z0-9-]*[a-z0-9])?)\.svc(\.cluster\.local)?$"
)


def egress_allowlist(env: Environment) -> list[dict]:
    """The controlplane pods' egress allowlist: DNS, the database (the VPC CIDR), Temporal, Vault, the object store,
    the OTel Collector, and the env model's `network.egress_allowlist` (one rule `allowlist-<i>` per entry, its CIDR
    on its TCP ports). Nothing else leaves a pod."""
    s3 = S3_CIDRS.get(env.region)
    if s3 is None:
        raise ConfigError(
            f"region {env.region}: no S3 address ranges known for the object-store egress rule",
            hint="add the region's S3 prefixes to S3_CIDRS in src/infractl/services/render/network.py",
        )
    temporal_frontend = {"app.kubernetes.io/name": "temporal", "app.kubernetes.io/component": "frontend"}
    return [
        DNS_RULE,
        database_rule(env, name="database"),
        _in_cluster("temporal", NAMESPACE["temporal"], temporal_frontend, 7233),
        _in_cluster("vault", VAULT_NAMESPACE, {"app.kubernetes.io/name": "vault"}, 8200),
        {
            "name": "object-store",
            "to": [{"ipBlock": {"cidr": c}} for c in s3],
            "ports": [{"port": 443, "protocol": "TCP"}],
        },
        _in_cluster("otel-collector", NAMESPACE["otel-collector"], {"app.kubernetes.io/name": "otel-collector"}, 4318),
        *(
            {
                "name": f"allowlist-{i}",
                "to": [{"ipBlock": {"cidr": str(rule.cidr)}}],
                "ports": [{"port": port, "protocol": "TCP"} for port in rule.ports],
            }
            for i, rule in enumerate(env.network.egress_allowlist)
        ),
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
                peers = [namespace_peer(match["ns"])]
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


def scrape_jobs(env: Environment) -> list[dict]:
    """What the collector scrapes into its metrics pipeline (nothing without a metrics exporter): Temporal's servers
    (Prometheus metrics only) by the DNS A records of their headless Services, and the control plane's api and
    workers as pods found through the Kubernetes API (in the control plane's namespace; the workers also in every
    tier C tenant's), kept by their chart labels on the metrics port. The api's series carry Argo Rollouts' pod
    template hash as the label delivery.analysis.canary_label names, and their `namespace` and `pod`; the workers'
    carry no pod label (a tier C worker's namespace and pod name the tenant, and no label holds a tenant)."""
    if not env.observability.metrics:
        return []
    api_job, worker_job = CONTROLPLANE_SCRAPE_JOBS
    api = {
        "namespaces": [NAMESPACE["controlplane"]],
        "matchLabels": _controlplane_labels("api", release=True),
        "podLabels": {ROLLOUTS_HASH_LABEL: env.delivery.analysis.canary_label},
        "podIdentity": True,
    }
    workers = {"namespaces": client_namespaces(env), "matchLabels": _controlplane_labels("worker", release=True)}
    return [
        {"job": "temporal", "dnsNames": TEMPORAL_METRICS_DNS, "port": TEMPORAL_METRICS_PORT},
        {"job": api_job, "pods": api, "port": CONTROLPLANE_METRICS_PORT},
        {"job": worker_job, "pods": workers, "port": CONTROLPLANE_METRICS_PORT},
    ]


def pod_discovery(jobs: list[dict]) -> list[dict]:
    """The ServiceAccounts that list pods for the scrape jobs ({name, namespace}: the collector's), for the
    controlplane chart's metrics.discoveredBy (a Role and RoleBinding in each of its namespaces); none when no job
    discovers pods."""
    if not any("pods" in job for job in jobs):
        return []
    return [{"name": COLLECTOR_SERVICE_ACCOUNT, "namespace": NAMESPACE["otel-collector"]}]


def kube_api_egress(env: Environment, jobs: list[dict]) -> list[dict]:
    """The collector's egress to the Kubernetes API server, which its pod discovery lists and watches: the VPC CIDR
    on 443 (the API server's private endpoint, where the `kubernetes` Service sends it); none when no job discovers
    pods."""
    if not any("pods" in job for job in jobs):
        return []
    return [
        {
            "name": "kube-apiserver",
            "to": [{"ipBlock": {"cidr": env.network.cidr}}],
            "ports": [{"port": KUBE_API_PORT, "protocol": "TCP"}],
        }
    ]


def scrape_egress(env: Environment) -> list[dict]:
    """The collector's egress to what scrape_jobs scrapes: Temporal's servers, the control plane's api, and its
    workers in the control plane's and every tier C tenant's namespace, each on its metrics port."""
    if not env.observability.metrics:
        return []
    pods = {"app.kubernetes.io/name": "temporal"}
    ports = [{"port": CONTROLPLANE_METRICS_PORT, "protocol": "TCP"}]
    return [
        _in_cluster("temporal-metrics", NAMESPACE["temporal"], pods, TEMPORAL_METRICS_PORT),
        {
            "name": "controlplane-api-metrics",
            "to": [_controlplane_peer(NAMESPACE["controlplane"], "api")],
            "ports": ports,
        },
        {
            "name": "controlplane-worker-metrics",
            "to": [_controlplane_peer(ns, "worker") for ns in client_namespaces(env)],
            "ports": ports,
        },
    ]


def metrics_ingress(env: Environment) -> list[dict]:
    """Who may scrape the control plane's metrics port: the collector's pods, when the env exports metrics (the env
    model names no other scraper, e.g. no Prometheus namespace)."""
    return [collector_peer()] if env.observability.metrics else []


def client_namespaces(env: Environment) -> list[str]:
    """The namespaces whose pods call Temporal and the collector: the control plane's and each tier C tenant's."""
    return [NAMESPACE["controlplane"], *(f"{TENANT_NAMESPACE_PREFIX}{t.name}" for t in env.tenants)]


def database_rule(env: Environment, name: str = "postgres") -> dict:
    return {"name": name, "to": [{"ipBlock": {"cidr": env.network.cidr}}], "ports": [{"port": 5432, "protocol": "TCP"}]}


def namespace_peer(namespace: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def collector_peer() -> dict:
    return {
        **namespace_peer(NAMESPACE["otel-collector"]),
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "otel-collector"}},
    }


def _in_cluster(name: str, namespace: str, pod_labels: dict[str, str], port: int) -> dict:
    peer = {**namespace_peer(namespace), "podSelector": {"matchLabels": pod_labels}}
    return {"name": name, "to": [peer], "ports": [{"port": port, "protocol": "TCP"}]}


def _controlplane_peer(namespace: str, component: str) -> dict:
    return {**namespace_peer(namespace), "podSelector": {"matchLabels": _controlplane_labels(component)}}


def _controlplane_labels(component: str, *, release: bool = False) -> dict[str, str]:
    """The labels of a control plane component's pods (helm/common's common.labels.matchLabels), with the release's
    app.kubernetes.io/instance when release is set."""
    labels = {"app.kubernetes.io/name": CONTROLPLANE_RELEASE}
    if release:
        labels["app.kubernetes.io/instance"] = CONTROLPLANE_RELEASE
    return {**labels, "app.kubernetes.io/component": component}
