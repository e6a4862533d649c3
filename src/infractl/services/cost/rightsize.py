"""`infractl cost rightsize ENV`: the entry. What the env runs (its shared and tier C database instances, its node
groups, the api and worker pods, all named as the Terraform modules and charts name them), measured over the lookback
window (utilisation.py), judged by the rule (recommend.py) and priced with the catalog (ladder.py, pricing/aws.yaml).
With --emulate, CloudWatch is the local emulator's and Prometheus the dev stack's: no cloud is reached."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from infractl.errors import InfractlError
from infractl.models.environment import Environment
from infractl.models.pricing import Catalog
from infractl.models.rightsize import Kind, Recommendation, RightsizeReport
from infractl.services.context import Context
from infractl.services.cost import ladder, recommend, utilisation
from infractl.services.cost.ladder import Size
from infractl.services.stacks import state
from infractl.services.validate import pricing

API_JOB, WORKER_JOB = "controlplane-api", "controlplane-worker"  # the dev stack's scrape jobs (services/dev)


def rightsize(
    ctx: Context, env_name: str, *, prometheus_url: str | None = None, now: datetime | None = None
) -> RightsizeReport:
    resolved = state.resolve(ctx, env_name)  # the env, and credentials checked against its account (one STS call)
    env, target = resolved.env, resolved.aws
    catalog = pricing.load_catalog(ctx.project)
    settings = env.rightsize
    w = utilisation.window(settings, now or datetime.now(UTC))
    notes: list[str] = []
    prom = prometheus_url or settings.prometheus_url or (_dev_prometheus(ctx) if ctx.emulate else None)
    burning = utilisation.slo_burning(prom, env.name) if prom else None
    headroom = settings.headroom_percent
    common = {"percentile_p": settings.percentile, "min_samples": settings.min_samples, "slo_burning": burning}
    recs: list[Recommendation] = []
    for identifier, klass, multi_az in _databases(env):
        current, steps = ladder.ladder(catalog, env.region, "database", klass)
        if current is None:
            recs.append(_unknown("database", identifier, klass, f"no capacity known for RDS class {klass}"))
            continue
        samples = utilisation.database(target, identifier, current, w)
        decision = recommend.decide(current, steps, samples, headroom_percent=headroom.database, **common)
        recs.append(_instance("database", identifier, current, decision, 2 if multi_az else 1, catalog))
    for name, group in _node_groups(env):
        types, desired = group.get("instance_types") or [], int(group.get("desired_size") or 0)
        current, steps = ladder.ladder(catalog, env.region, "nodes", types[0]) if types else (None, [])
        if current is None:
            recs.append(_unknown("nodes", name, ",".join(types) or "?", f"no capacity known for {types or 'no type'}"))
            continue
        samples, why = utilisation.node_group(target, env.name, name, w)
        if why:
            notes.append(why)
        decision = recommend.decide(current, steps, samples, headroom_percent=headroom.nodes, **common)
        recs.append(_instance("nodes", name, current, decision, desired, catalog))
    pods = _pods(ctx, env, notes) if prom else []
    if prom is None:
        notes.append(
            "pods not measured: no Prometheus (rightsize.prometheus_url in the env model, --prometheus URL, or the dev"
            " stack with --emulate)"
        )
    for name, job, requests, node in pods:
        current = ladder.pod_size(ladder.quantity(requests.get("cpu", 0)), ladder.quantity(requests.get("memory", 0)))
        samples = utilisation.pod(prom, job, current, w)
        decision = recommend.decide(current, None, samples, headroom_percent=headroom.pods, **common)
        recs.append(_pod(name, current, decision, node, catalog, env.region))
    if burning:
        notes.append(f"SLO alerts of {env.name} are firing: every down-size is held until they resolve")
    return RightsizeReport(
        env=env.name,
        emulated=ctx.emulate,
        region=env.region,
        catalog_version=catalog.version,
        lookback=settings.lookback,
        period=settings.period,
        percentile=settings.percentile,
        headroom_percent=headroom.model_dump(),
        start=w.start.isoformat(),
        end=w.end.isoformat(),
        prometheus_url=prom,
        slo_burning=burning,
        recommendations=recs,
        notes=notes,
    )


def _databases(env: Environment) -> list[tuple[str, str, bool]]:
    """(DBInstanceIdentifier, class, Multi-AZ): the data stack's shared instance `<env>-control-plane` and each tier C
    tenant's `<env>-tenant-<name>` (terraform/stacks/aws/data/main.tf)."""
    data = env.stacks.get("data") or {}
    found = []
    if data.get("instance_class"):
        found.append((f"{env.name}-control-plane", str(data["instance_class"]), bool(data.get("multi_az"))))
    for tenant in env.tenants:
        if (inst := tenant.dedicated_instance) is not None:
            found.append((f"{env.name}-tenant-{tenant.name}", inst.instance_class, inst.multi_az))
    return found


def _node_groups(env: Environment) -> list[tuple[str, dict[str, Any]]]:
    """(EKS node group name, its settings): `<env>-system` and `<env>-tenant-<tier>` in cluster `<env>`
    (terraform/modules/aws/eks/main.tf: node_group_names)."""
    cluster = env.stacks.get("cluster") or {}
    found = []
    if isinstance(cluster.get("system_node_group"), dict):
        found.append((f"{env.name}-system", cluster["system_node_group"]))
    for tier, group in env.tenant_node_groups.items():
        if isinstance(group, dict):
            found.append((f"{env.name}-tenant-{tier}", group))
    return found


def _pods(ctx: Context, env: Environment, notes: list[str]) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(pod, scrape job, requests, the node group it runs on): the api on the system node group, the shared worker
    pool of the first tenant tier on its tier's; requests from the chart values `infractl render` builds (a project
    without the charts has no pods to size: a note)."""
    from infractl.services.render import values

    try:
        charts = values.values_for(ctx.project, env.name, slo=lambda _p, _e: ([], {})).charts["controlplane"]
    except InfractlError as exc:
        notes.append(f"pods not measured: their requests are unknown ({exc.message})")
        return []
    cluster = env.stacks.get("cluster") or {}
    found = []
    api = (charts.get("api") or {}).get("resources", {}).get("requests") or {}
    if api:
        found.append(("api", API_JOB, api, cluster.get("system_node_group") or {}))
    pools = charts.get("workerPools") or []
    if pools and (pools[0].get("resources") or {}).get("requests"):
        tier = pools[0].get("tier")
        found.append(
            (f"worker ({tier})", WORKER_JOB, pools[0]["resources"]["requests"], env.tenant_node_groups.get(tier) or {})
        )
    return found


def _dev_prometheus(ctx: Context) -> str | None:
    from infractl.services.dev.statefile import dev_dir, load_state

    recorded = load_state(dev_dir(ctx.project.work_dir))
    port = (recorded.get("ports") or {}).get("prometheus") if recorded.get("services") else None
    return f"http://127.0.0.1:{port}" if port else None


def _unknown(kind: Kind, name: str, current: str, why: str) -> Recommendation:
    return Recommendation(kind=kind, name=name, current=current, action="insufficient-data", reasons=[why])


def _instance(
    kind: Kind, name: str, current: Size, d: recommend.Decision, count: int, catalog: Catalog
) -> Recommendation:
    hours = catalog.hours_per_month
    rec = d.recommended

    def monthly(size: Size | None) -> float | None:
        return None if size is None or size.hourly is None else round(size.hourly * hours * count, 2)

    if kind == "database":
        shown = lambda s: f"{s.name}{' Multi-AZ' if count == 2 else ''}"  # noqa: E731
        basis = f"hourly x {hours:g} h{' x 2 (Multi-AZ)' if count == 2 else ''}; storage unchanged, not counted"
    else:
        shown = lambda s: f"{count} x {s.name}"  # noqa: E731
        basis = f"{count} node(s) x hourly x {hours:g} h; root volumes unchanged, not counted"
    unpriced = [s.name for s in (current, rec) if s is not None and s.hourly is None]
    if unpriced:
        basis = f"unpriced: no catalog price for {', '.join(unpriced)} in the region"
    return Recommendation(
        kind=kind,
        name=name,
        current=shown(current),
        recommended=shown(rec) if rec is not None else None,
        action=d.action,
        confidence=d.confidence,
        measurements=d.measurements,
        current_monthly_usd=monthly(current),
        recommended_monthly_usd=monthly(rec),
        basis=basis,
        reasons=d.reasons,
    )


def _pod(name: str, current: Size, d: recommend.Decision, node: dict, catalog: Catalog, region: str) -> Recommendation:
    """A pod priced per replica as its share of its node group's instance: the larger of its CPU and memory shares
    of one node, times the node's monthly price (what decides how many such pods a node holds)."""
    types = node.get("instance_types") or []
    node_size, _ = ladder.ladder(catalog, region, "nodes", types[0]) if types else (None, [])
    hours = catalog.hours_per_month

    def monthly(size: Size | None) -> float | None:
        if size is None or node_size is None or node_size.hourly is None:
            return None
        share = max(size.cpu / node_size.cpu, size.memory / node_size.memory)
        return round(share * node_size.hourly * hours, 2)

    if node_size is None or node_size.hourly is None:
        basis = f"unpriced: its node group's instance type {types or '?'} has no capacity or price in the catalog"
    else:
        basis = (
            f"per replica: the larger of its CPU and memory shares of a {node_size.name} ({node_size.cpu:g} vCPU,"
            f" {ladder.memory_text(node_size.memory)}) at {node_size.hourly}/h"
        )
    return Recommendation(
        kind="pod",
        name=name,
        current=current.name,
        recommended=d.recommended.name if d.recommended is not None else None,
        action=d.action,
        confidence=d.confidence,
        measurements=d.measurements,
        current_monthly_usd=monthly(current),
        recommended_monthly_usd=monthly(d.recommended),
        basis=basis,
        reasons=d.reasons,
    )
