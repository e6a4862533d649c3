"""Policies on the env's rendered manifests (`infractl render ENV`, rendered by the gate into a scratch folder):

- sandboxing: checkov's Kubernetes checks named in the gate's definition (non-root, no privilege escalation, read-only
  root filesystem, capabilities dropped, seccomp, no host namespaces), every workload; a check skipped in a chart
  with a written reason is a waiver, listed, not a failure;
- tenant isolation: rules checkov has no check for (ours, docs/gates.md): every namespace with workloads is
  default-deny both ways; a tenant namespace admits no other tenant's namespace, nor every namespace; its workloads
  run as their own ServiceAccount on the tenant's own node tier; every tier C tenant of the env is rendered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from infractl.models.gate import CheckDef, Evidence
from infractl.services.gate.live import met
from infractl.services.gate.reports import not_met

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Rollout", "ReplicaSet", "Pod")
TENANT_NS = "tenant-"
RELEASE_NS = "(release namespace)"  # a chart object without metadata.namespace lands in the release's namespace
SHOWN = 5


def documents(files: list[Path]) -> list[dict[str, Any]]:
    docs = []
    for path in files:
        docs += [
            d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if isinstance(d, dict) and d.get("kind")
        ]
    return docs


def _ns(doc: dict[str, Any]) -> str:
    return str((doc.get("metadata") or {}).get("namespace") or RELEASE_NS)


def _name(doc: dict[str, Any]) -> str:
    return f"{doc['kind']} {_ns(doc)}/{(doc.get('metadata') or {}).get('name', '?')}"


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return ((spec.get("template") or {}).get("spec")) or {}


def _rules(policy: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    spec = policy.get("spec") or {}
    for rule in spec.get("ingress") or []:
        yield "ingress", rule or {}
    for rule in spec.get("egress") or []:
        yield "egress", rule or {}


def _peer_problem(direction: str, peer: dict[str, Any], own: str) -> str | None:
    """Why one peer of a tenant namespace's rule reaches beyond what isolation allows, or None."""
    block = peer.get("ipBlock")
    if block is not None:
        cidr = str(block.get("cidr", ""))
        prefix = int(cidr.split("/", 1)[1]) if "/" in cidr and cidr.split("/", 1)[1].isdigit() else 0
        if direction == "ingress":
            return f"admits ingress from the address block {cidr}: tenant pods take traffic from named peers only"
        if prefix < 8:
            return f"allows egress to {cidr}: every address"
        return None  # egress to a named range (the VPC's databases, an allowlisted service): ports limit it
    selector = peer.get("namespaceSelector")
    if selector is None:
        return None  # a podSelector alone: the tenant's own namespace
    labels = selector.get("matchLabels") or {}
    named = labels.get("kubernetes.io/metadata.name")
    if not named or selector.get("matchExpressions"):
        return f"{direction} peer selects namespaces by {selector or 'nothing (every namespace)'}, not by name"
    if named.startswith(TENANT_NS) and named != own:
        return f"admits another tenant's namespace {named}"
    return None


def _default_deny(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    return (
        spec.get("podSelector") in ({}, None)
        and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or [])
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def isolation_problems(docs: list[dict[str, Any]], tenants: list[str]) -> list[str]:
    """Every reason the rendered manifests do not isolate tenants (empty: they do)."""
    problems = []
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for ns in sorted({_ns(w) for w in workloads}):
        if not any(_default_deny(p) for p in policies if _ns(p) == ns):
            problems.append(f"namespace {ns} has workloads but no default-deny NetworkPolicy (Ingress and Egress)")
    for policy in policies:
        ns = _ns(policy)
        if not ns.startswith(TENANT_NS):
            continue
        for direction, rule in _rules(policy):
            peers = rule.get("from" if direction == "ingress" else "to")
            if not peers:
                problems.append(f"{_name(policy)} has an {direction} rule without peers: it admits everyone")
                continue
            for peer in peers:
                found = _peer_problem(direction, peer, ns)
                if found:
                    problems.append(f"{_name(policy)} {found}")
    for work in workloads:
        ns = _ns(work)
        if not ns.startswith(TENANT_NS):
            continue
        pod = _pod_spec(work)
        if pod.get("serviceAccountName") in (None, "", "default"):
            problems.append(f"{_name(work)} runs as the default ServiceAccount")
        tier = f"c-{ns[len(TENANT_NS) :]}"
        if (pod.get("nodeSelector") or {}).get("node.infractl.io/tier") != tier:
            problems.append(f"{_name(work)} is not pinned to its tenant's node tier {tier} (nodeSelector)")
    rendered = {_ns(d) for d in docs}
    for tenant in tenants:
        if f"{TENANT_NS}{tenant}" not in rendered:
            problems.append(f"tier C tenant {tenant} has no namespace {TENANT_NS}{tenant} in the render")
    return problems


def tenant_isolation(check: CheckDef, files: list[Path], tenants: list[str], now: datetime) -> Evidence:
    source = "live: infractl render (NetworkPolicies, ServiceAccounts, node tiers)"
    docs = documents(files)
    problems = isolation_problems(docs, tenants)
    if problems:
        shown = "; ".join(problems[:SHOWN]) + (f" (+{len(problems) - SHOWN} more)" if len(problems) > SHOWN else "")
        return not_met(check, source, f"{len(problems)} isolation problems: {shown}", now)
    namespaces = sorted({_ns(d) for d in docs if d["kind"] in WORKLOADS})
    return met(
        check,
        source,
        f"{len(namespaces)} namespaces default-deny; tier C tenants isolated: {', '.join(tenants) or 'none'}",
        now,
        namespaces=namespaces,
    )


def sandboxing(check: CheckDef, files: list[Path], results: list[Any], now: datetime) -> Evidence:
    """checkov's results (adapters/checkov.Result) of the definition's rules on the rendered manifests."""
    source = f"live: checkov {','.join(check.rules)} on infractl render"
    failed = [r for r in results if r.status == "failed"]
    waived = [f"{r.check_id} {r.resource}: {r.reason}" for r in results if r.status == "skipped"]
    passed = sum(1 for r in results if r.status == "passed")
    if failed:
        shown = "; ".join(f"{r.check_id} {r.resource} ({r.name})" for r in failed[:SHOWN])
        return not_met(check, source, f"{len(failed)} failed: {shown}", now, waived=waived)
    if not passed:
        return not_met(check, source, f"checkov checked nothing in {len(files)} manifests", now)
    detail = f"{passed} checks passed" + (f", {len(waived)} waived in the charts with a reason" if waived else "")
    return met(check, source, detail, now, passed=passed, waived=waived)
