"""The rendered NetworkPolicies of all three charts, evaluated together the way Kubernetes does (a connection needs
the source's egress and the destination's ingress; a pod selected by no policy of a type is open for it): every flow
the platform needs is allowed, and the flows it must not have are denied. No cluster here, so this is an evaluator
of the NetworkPolicy semantics over the rendered objects, not a CNI; it is written from the API reference
(networking.k8s.io/v1), independently of how render builds the rules."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import helm_python  # noqa: F401 - installed by make: missing is a failure, never a skip
import pytest
import yaml

from infractl.services.render import network as network_service
from tests.integration.charts import ENVS, env_values, selects

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: dict
    ports: dict = field(default_factory=dict)  # container port name -> number


@dataclass(frozen=True)
class Address:
    name: str
    ip: str


class Cluster:
    def __init__(self, objects: list[dict], extra_pods: list[Pod]) -> None:
        self.policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
        self.namespaces: dict[str, dict] = {}
        self.pods: list[Pod] = list(extra_pods)
        for o in objects:
            if o["kind"] == "Namespace":
                self.namespaces[o["metadata"]["name"]] = o["metadata"].get("labels") or {}
            if o["kind"] in ("Deployment", "Job", "Rollout"):  # Rollout: the api where delivery.progressive
                template = o["spec"]["template"]
                ports = {
                    p["name"]: p["containerPort"]
                    for c in template["spec"]["containers"]
                    for p in c.get("ports", [])
                    if "name" in p
                }
                labels = template["metadata"]["labels"]
                self.pods.append(Pod(o["metadata"]["name"], o["metadata"]["namespace"], labels, ports))

    def pod(self, name: str) -> Pod:
        [pod] = [p for p in self.pods if p.name == name]
        return pod

    def _ns_labels(self, namespace: str) -> dict:
        return {"kubernetes.io/metadata.name": namespace, **self.namespaces.get(namespace, {})}

    def _peer_matches(self, peer: dict, policy_ns: str, other: Pod | Address) -> bool:
        if "ipBlock" in peer:
            if isinstance(other, Pod):
                return False  # pod IPs are not in our ipBlocks (the VPC CIDR holds nodes, pods use their own range)
            block = peer["ipBlock"]
            ip = ipaddress.ip_address(other.ip)
            inside = ip in ipaddress.ip_network(block["cidr"])
            return inside and not any(ip in ipaddress.ip_network(e) for e in block.get("except", []))
        if isinstance(other, Address):
            return False
        ns_ok = (
            selects(peer["namespaceSelector"], self._ns_labels(other.namespace))
            if "namespaceSelector" in peer
            else other.namespace == policy_ns
        )
        pod_ok = selects(peer["podSelector"], other.labels) if "podSelector" in peer else True
        return ns_ok and pod_ok

    @staticmethod
    def _port_matches(rule: dict, port: int, protocol: str, target: Pod | Address) -> bool:
        ports = rule.get("ports")
        if not ports:
            return True
        for p in ports:
            if p.get("protocol", "TCP") != protocol:
                continue
            wanted = p.get("port")
            if wanted is None:
                return True
            if isinstance(wanted, str):  # a named port of the destination pod
                wanted = target.ports.get(wanted) if isinstance(target, Pod) else None
            if wanted is not None and (wanted <= port <= p.get("endPort", wanted)):
                return True
        return False

    def _allowed(self, pod: Pod, other: Pod | Address, direction: str, port: int, protocol: str, dest) -> bool:
        kind = "Egress" if direction == "egress" else "Ingress"
        policies = [
            p
            for p in self.policies
            if p["metadata"]["namespace"] == pod.namespace
            and kind in p["spec"].get("policyTypes", ["Ingress"])
            and (p["spec"]["podSelector"] == {} or selects(p["spec"]["podSelector"], pod.labels))
        ]
        if not policies:
            return True  # isolated by nothing
        key = "to" if direction == "egress" else "from"
        for policy in policies:
            for rule in policy["spec"].get(direction) or []:
                peers = rule.get(key)
                peer_ok = not peers or any(self._peer_matches(x, pod.namespace, other) for x in peers)
                if peer_ok and self._port_matches(rule, port, protocol, dest):
                    return True
        return False

    def can(self, src: Pod, dst: Pod | Address, port: int, protocol: str = "TCP") -> bool:
        if not self._allowed(src, dst, "egress", port, protocol, dst):
            return False
        if isinstance(dst, Address):
            return True
        return self._allowed(dst, src, "ingress", port, protocol, dst)


@pytest.fixture(scope="module", params=ENVS)
def env_cluster(request, rendered_env) -> tuple[str, Cluster, dict]:
    env = request.param
    result = rendered_env(env)
    objects = []
    for chart in result.charts:
        for obj in yaml.safe_load_all(Path(chart.manifest).read_text()):
            if obj:
                obj["metadata"].setdefault("namespace", chart.namespace)  # helm installs into the release namespace
                objects.append(obj)
    model = env_values(env).env
    vpc = ipaddress.ip_network(model.network.cidr)
    others = [
        Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
        Pod("ingress-nginx", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
        Pod("vault", "vault", {"app.kubernetes.io/name": "vault"}),
        Pod("tempo-distributor", "observability", {"app.kubernetes.io/name": "tempo"}),
        Pod("mimir", "observability", {"app.kubernetes.io/name": "mimir"}),
        Pod("loki", "observability", {"app.kubernetes.io/name": "loki"}),
        Pod("intruder", "default", {"app": "intruder"}),
    ]
    addresses = {
        "database": Address("database", str(vpc.network_address + 4100)),  # an address in the VPC's data subnets
        # an interface of EKS's private API endpoint, in the cluster's subnets (the `kubernetes` Service's endpoint)
        "kube-apiserver": Address("kube-apiserver", str(vpc.network_address + 300)),
        "s3": Address("s3", str(next(ipaddress.ip_network(network_service.S3_CIDRS[model.region][0]).hosts()))),
        "internet": Address("internet", "1.1.1.1"),
    }
    allowlist = [
        (Address(rule.description, str(next(ipaddress.ip_network(rule.cidr).hosts()))), rule.ports)
        for rule in model.network.egress_allowlist
    ]
    return (
        env,
        Cluster(objects, others),
        addresses | {"tenants": [t.name for t in model.tenants], "allowlist": allowlist},
    )


def _workers(cluster: Cluster) -> list[Pod]:
    return [
        p for p in cluster.pods if p.labels.get("app.kubernetes.io/component") == "worker" and p.namespace != "temporal"
    ]


def test_the_flows_the_platform_needs_are_allowed(env_cluster):
    env, c, at = env_cluster
    api, dns, vault = c.pod("controlplane-api"), c.pod("kube-dns"), c.pod("vault")
    frontend, history, collector = (
        c.pod("temporal-frontend"),
        c.pod("temporal-history"),
        c.pod("otel-collector-gateway"),
    )
    assert c.can(c.pod("ingress-nginx"), api, 8080)
    assert c.can(c.pod("ingress-nginx"), c.pod("temporal-web"), 8080)
    assert {p.namespace for p in _workers(c)} == {"controlplane", *(f"tenant-{t}" for t in at["tenants"])}
    for client in [api, *_workers(c)]:
        where = f"{env}: {client.namespace}/{client.name}"
        assert c.can(client, dns, 53, "UDP") and c.can(client, dns, 53), where
        assert c.can(client, frontend, 7233), where
        assert c.can(client, at["database"], 5432), where
        assert c.can(client, vault, 8200), where
        assert c.can(client, at["s3"], 443), where
        assert c.can(client, collector, 4318), where
        for address, ports in at["allowlist"]:  # the env model's network.egress_allowlist, on its ports only
            assert all(c.can(client, address, p) for p in ports), (where, address)
            assert not c.can(client, address, max(ports) + 1), (where, address)
    # Temporal's own traffic: gRPC and membership between its services, the database, and the schema Job.
    for a in ("temporal-frontend", "temporal-history", "temporal-matching", "temporal-worker"):
        for b, port in (("temporal-history", 7234), ("temporal-matching", 7235), ("temporal-frontend", 7233)):
            assert c.can(c.pod(a), c.pod(b), port), (a, b)
        assert c.can(c.pod(a), at["database"], 5432), a
    assert c.can(c.pod("temporal-web"), frontend, 7233)
    assert c.can(c.pod("temporal-schema"), at["database"], 5432)
    # The collector: exports to its backends' pods, scrapes Temporal and every api and worker pod's metrics port.
    assert c.can(collector, c.pod("tempo-distributor"), 4317)
    assert c.can(collector, c.pod("mimir"), 8080) and c.can(collector, c.pod("loki"), 3100)
    assert c.can(collector, history, 9090) and c.can(collector, frontend, 9090)
    for pod in [api, *_workers(c)]:
        assert c.can(collector, pod, pod.ports["metrics"]), f"{env}: the collector cannot scrape {pod.name}"
    # ... which it finds by listing pods on the Kubernetes API server
    assert c.can(collector, at["kube-apiserver"], 443), f"{env}: the collector cannot reach the API server"


def test_nothing_else_gets_through(env_cluster):
    env, c, at = env_cluster
    api, intruder = c.pod("controlplane-api"), c.pod("intruder")
    frontend, history = c.pod("temporal-frontend"), c.pod("temporal-history")
    everyone = [
        p
        for p in c.pods
        if p.namespace in ("controlplane", "temporal", "telemetry") or p.namespace.startswith("tenant-")
    ]
    for pod in everyone:
        assert not c.can(pod, at["internet"], 443), f"{pod.name} reaches the internet"
        assert not c.can(pod, intruder, 80), f"{pod.name} reaches a pod outside the allowlist"
        assert not c.can(intruder, pod, next(iter(pod.ports.values()), 8080)), f"anyone reaches {pod.name}"
    assert not c.can(api, history, 7234)  # clients get the frontend only
    assert not c.can(api, frontend, 9090)  # ... and not its metrics
    # The control plane's metrics port: the collector only (not the ingress controller, not each other, not the
    # collector on any other port).
    collector = c.pod("otel-collector-gateway")
    for pod in [api, *_workers(c)]:
        metrics = pod.ports["metrics"]
        assert not c.can(intruder, pod, metrics) and not c.can(c.pod("ingress-nginx"), pod, metrics), pod.name
        assert not any(c.can(other, pod, metrics) for other in [api, *_workers(c)] if other is not pod), pod.name
        assert not c.can(collector, pod, 8080), pod.name
    assert not c.can(c.pod("ingress-nginx"), frontend, 7233)
    assert not c.can(c.pod("otel-collector-gateway"), at["database"], 5432)
    # The API server: the collector only (its pod discovery), on 443 only; no other pod of the platform needs it.
    assert not c.can(collector, at["kube-apiserver"], 6443)
    for pod in everyone:
        if pod is not collector:
            assert not c.can(pod, at["kube-apiserver"], 443), f"{env}: {pod.name} reaches the API server"
    # Tier C tenants: isolated from each other and from the shared workers, both ways.
    tenants = [p for p in _workers(c) if p.namespace.startswith("tenant-")]
    shared = [p for p in _workers(c) if p.namespace == "controlplane"]
    for a in tenants:
        assert not c.can(a, history, 7234)
        for b in tenants + shared:
            if a is not b:
                assert not c.can(a, b, 8080) and not c.can(b, a, 8080), (a.name, b.name)
    if env == "prod":
        assert len(tenants) == 2


def test_the_evaluator_can_say_no():
    """The evaluator itself: a default-deny namespace blocks, a matching allow rule opens exactly its port."""
    deny = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "a"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow", "namespace": "a"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "x"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}],
                    "ports": [{"port": 80}],
                }
            ],
        },
    }
    x, y = Pod("x", "a", {"app": "x"}), Pod("y", "b", {"app": "y"})
    assert not Cluster([deny], [x, y]).can(x, y, 80)
    open_ = Cluster([deny, allow], [x, y])
    assert open_.can(x, y, 80) and not open_.can(x, y, 81) and not open_.can(y, x, 80)
