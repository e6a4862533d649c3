"""The autoscaling strategy of an environment, from the env model only (docs/finops.md#autoscaling): the HPAs the
charts render (values.py takes them from here), the node groups' min/max (stacks.cluster.system_node_group and
tenant_node_groups: the cluster stack's inputs) and the databases' storage ceilings (stacks.data and tenant_instances:
the data stack's inputs). `plan` lists them, `markdown` is the table docs/finops.md holds."""

from __future__ import annotations

from typing import Any

from infractl.errors import ConfigError
from infractl.models.environment import Environment
from infractl.models.finops import AutoscalingPlan, ScalingRow

# docs/finops.md holds the generated tables between these markers (tests/unit/test_finops_doc.py compares them).
BEGIN, END = "<!-- autoscaling:begin (generated from environments/*.yaml) -->", "<!-- autoscaling:end -->"
HPA_API, HPA_COLLECTOR = "api", "otel-collector"


def ha_replicas(env: Environment, shown: str = "") -> int:
    """Replicas of every HA service: one per AZ, capped by the system node group's desired size (required
    anti-affinity puts one per node); also the api's and the collector's HPA floor."""
    group = _cluster(env).get("system_node_group") or {}
    desired = _int(group.get("desired_size", 1), "stacks.cluster.system_node_group.desired_size", shown)
    return max(1, min(env.network.az_count, desired))


def worker_hpa(env: Environment, group: Any, where: str, shown: str = "") -> dict[str, Any]:
    """Workers on a node group: from its desired nodes (at least 1) to its max size, at autoscaling.workers' CPU."""
    group = group if isinstance(group, dict) else {}
    desired = max(1, _int(group.get("desired_size", 1), f"{where}.desired_size", shown))
    maximum = max(_int(group.get("max_size", desired), f"{where}.max_size", shown), desired)
    return {
        "enabled": True,
        "minReplicas": desired,
        "maxReplicas": maximum,
        "targetCPUUtilizationPercentage": env.autoscaling.workers.target_cpu_percent,
    }


def api_hpa(env: Environment, shown: str = "") -> dict[str, Any]:
    replicas, api = ha_replicas(env, shown), env.autoscaling.api
    return {
        "enabled": True,
        "minReplicas": replicas,
        "maxReplicas": max(api.max_replicas, replicas),
        "targetCPUUtilizationPercentage": api.target_cpu_percent,
    }


def collector_hpa(env: Environment, shown: str = "") -> dict[str, Any]:
    replicas, otel = ha_replicas(env, shown), env.autoscaling.otel_collector
    return {
        "enabled": otel.enabled,
        "minReplicas": replicas,
        "maxReplicas": max(otel.max_replicas, replicas),
        "targetMemoryUtilizationPercentage": otel.target_memory_percent,
    }


def shared_tiers(env: Environment, shown: str = "") -> dict[str, Any]:
    """stacks.cluster.tenant_tiers: the shared tiers (one worker pool each)."""
    tiers = _cluster(env).get("tenant_tiers") or {}
    if not isinstance(tiers, dict):
        raise ConfigError(f"{shown}: stacks.cluster.tenant_tiers: expected a mapping of tier name to node group")
    return tiers


def plan(env: Environment, shown: str = "") -> AutoscalingPlan:
    """Every number of the env's autoscaling strategy: HPAs (pods), node groups (nodes), storage (GiB)."""
    rows = [_hpa_row(HPA_API, api_hpa(env, shown))]
    for tier, group in shared_tiers(env, shown).items():
        rows.append(_hpa_row(f"worker {tier}", worker_hpa(env, group, f"stacks.cluster.tenant_tiers.{tier}", shown)))
    for t in env.tenants:
        rows.append(
            _hpa_row(f"worker tenant {t.name}", worker_hpa(env, t.node_group.model_dump(), f"tenants.{t.name}", shown))
        )
    rows.append(_hpa_row(HPA_COLLECTOR, collector_hpa(env, shown)))
    groups = {"system": _cluster(env).get("system_node_group") or {}, **env.tenant_node_groups}
    for name, group in groups.items():
        where = "stacks.cluster.system_node_group" if name == "system" else f"node group {name}"
        g = group if isinstance(group, dict) else {}
        rows.append(
            ScalingRow(
                kind="node-group",
                name=name,
                min=_int(g.get("min_size"), f"{where}.min_size", shown),
                max=_int(g.get("max_size"), f"{where}.max_size", shown),
            )
        )
    data = env.stacks.get("data") or {}
    if isinstance(data, dict) and "allocated_storage_gib" in data:
        low = _int(data["allocated_storage_gib"], "stacks.data.allocated_storage_gib", shown)
        high = data.get("max_allocated_storage_gib")
        high = low if high is None else _int(high, "stacks.data.max_allocated_storage_gib", shown)
        rows.append(ScalingRow(kind="storage", name="shared instance", min=low, max=high))
    for name, inst in env.tenant_instances.items():
        rows.append(
            ScalingRow(
                kind="storage",
                name=f"tenant {name}",
                min=inst["allocated_storage_gib"],
                max=inst["max_allocated_storage_gib"],
            )
        )
    return AutoscalingPlan(env=env.name, rows=rows)


KIND_SHOWN = {"hpa": "HPA (pods)", "node-group": "node group (nodes)", "storage": "database storage (GiB)"}


def markdown(plans: list[AutoscalingPlan]) -> str:
    """One table per env, between BEGIN and END: what docs/finops.md holds."""
    out = [BEGIN]
    for p in plans:
        out += ["", f"**{p.env}**", "", "| what | name | min | max | scales on |", "| --- | --- | --- | --- | --- |"]
        out += [f"| {KIND_SHOWN[r.kind]} | {r.name} | {r.min} | {r.max} | {r.target} |" for r in p.rows]
    return "\n".join([*out, "", END])


def _hpa_row(name: str, hpa: dict[str, Any]) -> ScalingRow:
    if "targetCPUUtilizationPercentage" in hpa:
        target = f"cpu {hpa['targetCPUUtilizationPercentage']}%"
    else:
        target = f"memory {hpa['targetMemoryUtilizationPercentage']}%"
    if not hpa["enabled"]:  # no HPA: the Deployment's fixed replicas
        return ScalingRow(kind="hpa", name=name, min=hpa["minReplicas"], max=hpa["minReplicas"], target="off")
    return ScalingRow(kind="hpa", name=name, min=hpa["minReplicas"], max=hpa["maxReplicas"], target=target)


def _cluster(env: Environment) -> dict[str, Any]:
    cluster = env.stacks.get("cluster") or {}
    return cluster if isinstance(cluster, dict) else {}


def _int(value: Any, field: str, shown: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{shown}: {field}: expected an integer, got {value!r}", hint=f"fix {shown}")
    return value
