"""Whether the platform's pods fit the system node group: their requests per node against the node's CPU and memory."""

from __future__ import annotations

from typing import Any

from infractl.errors import ConfigError

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


def check_system_capacity(
    env_name: str, group: dict[str, Any], charts: dict[str, dict[str, Any]], shown: str, notes: list[str]
) -> None:
    """The platform's pods per system node must fit the node: with one pod of each component per node (the HA
    anti-affinity), a node carries one of each. Their requests must stay within SYSTEM_NODE_SHARE of its CPU and
    memory, or pods stay Pending and `deploy --atomic` rolls back. group: stacks.cluster.system_node_group."""
    types = group.get("instance_types") or []
    sizes = [INSTANCE_SIZES.get(t) for t in types]
    if not types or None in sizes:
        notes.append(f"{env_name}: system node capacity not checked (instance type(s) {types} not in INSTANCE_SIZES)")
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
