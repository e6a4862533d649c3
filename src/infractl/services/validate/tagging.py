"""The tag gate: every taggable resource of a plan carries the environment's required tags, and a `tenant` tag:
the tenant's name on a tenant-scoped resource (the env model's finops.tenant_resources, for the tenants of
`tenants:`), `shared` on every other one (docs/finops.md#tags)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from infractl.models.environment import REQUIRED_TAGS, SHARED, TENANT_TAG, Environment
from infractl.models.validation import Finding


def _creating(plan: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for rc in plan.get("resource_changes", []):
        actions = rc.get("change", {}).get("actions", [])
        if rc.get("mode") == "managed" and ("create" in actions or "update" in actions):
            yield rc


def tenant_patterns(env: Environment, stack: str) -> list[tuple[str, re.Pattern[str]]]:
    """(declared address, its regular expression) of the stack's tenant-scoped resources in env."""
    names = [t.name for t in env.tenants]
    return [(r.address, p) for r in env.finops.tenant_resources if r.stack == stack and (p := r.pattern(names))]


def owner(address: str, patterns: list[tuple[str, re.Pattern[str]]]) -> tuple[str, str] | None:
    """(tenant, declared address) of a tenant-scoped resource, None for a shared one."""
    for declared, pattern in patterns:
        if m := pattern.fullmatch(address):
            return m["tenant"], declared
    return None


def tag_findings(plan: dict[str, Any], env: Environment, stack: str) -> list[Finding]:
    """Every taggable resource (its schema has tags_all) carries the env's required tags with the env's values, and
    tenant=<its tenant> (tenant-scoped) or tenant=shared (all others)."""
    required = {k: env.tags[k] for k in REQUIRED_TAGS if k in env.tags}
    patterns = tenant_patterns(env, stack)
    found = []
    for rc in _creating(plan):
        address = rc["address"]
        after = rc["change"].get("after") or {}
        unknown = rc["change"].get("after_unknown") or {}
        if "tags_all" not in after and "tags_all" not in unknown:
            continue  # not taggable
        if unknown.get("tags_all") is True:
            # tags_all is left unknown when no default_tags apply: the resource's own tags are all it will have
            if unknown.get("tags") is True:
                found.append(_finding("required-tags", stack, env.name, address, "its tags are unknown until apply"))
                continue
            tags = after.get("tags") or {}
        else:
            tags = after.get("tags_all") or {}
        missing = [k for k in required if k not in tags]
        wrong = [k for k in required if k in tags and tags[k] != required[k]]
        if missing or wrong:
            parts = []
            if missing:
                parts.append("missing required tag" + ("s " if len(missing) > 1 else " ") + ", ".join(missing))
            if wrong:
                parts.append(", ".join(f"{k}={tags[k]!r} (expected {required[k]!r})" for k in wrong))
            found.append(_finding("required-tags", stack, env.name, address, "; ".join(parts)))
        problem = _tenant_problem(tags.get(TENANT_TAG), owner(address, patterns), env.name)
        if problem:
            rule, message = problem
            found.append(_finding(rule, stack, env.name, address, message))
    return found


def _tenant_problem(value: str | None, scoped: tuple[str, str] | None, env: str) -> tuple[str, str] | None:
    """(rule, message saying the fix) when the resource's tenant tag is not the one it needs, else None."""
    has = "no tenant tag" if value is None else f"tenant={value!r}"
    if scoped is not None:
        tenant, declared = scoped
        if value == tenant:
            return None
        return (
            "tenant-tag",
            f"{has}, expected tenant={tenant!r}: it is tenant {tenant}'s (finops.tenant_resources {declared}):"
            f' set tags = {{ tenant = "{tenant}" }} on it (or on its module)',
        )
    if value == SHARED:
        return None
    return (
        "shared-tag",
        f"{has}, expected tenant={SHARED!r}: a shared resource takes it from its provider's default_tags"
        f" (the stack's tags input env.stack_tags in terraform/stacks/stacks.yaml); if it is one tenant's, list its"
        f" address under finops.tenant_resources in environments/{env}.yaml and tag it with the tenant's name",
    )


def _finding(rule: str, stack: str, env: str, address: str, message: str) -> Finding:
    return Finding(gate="tags", rule=rule, stack=stack, env=env, address=address, message=message)
