"""The tag gate: every taggable resource of a plan carries the environment's required tags."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infractl.models.environment import REQUIRED_TAGS, Environment
from infractl.models.validation import Finding


def _creating(plan: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for rc in plan.get("resource_changes", []):
        actions = rc.get("change", {}).get("actions", [])
        if rc.get("mode") == "managed" and ("create" in actions or "update" in actions):
            yield rc


def tag_findings(plan: dict[str, Any], env: Environment, stack: str) -> list[Finding]:
    """Every taggable resource (its schema has tags_all) carries the env's required tags with the env's values."""
    required = {k: env.tags[k] for k in REQUIRED_TAGS if k in env.tags}
    found = []
    for rc in _creating(plan):
        after = rc["change"].get("after") or {}
        unknown = rc["change"].get("after_unknown") or {}
        if "tags_all" not in after and "tags_all" not in unknown:
            continue  # not taggable
        if unknown.get("tags_all") is True:
            # tags_all is left unknown when no default_tags apply: the resource's own tags are all it will have
            if unknown.get("tags") is True:
                found.append(_tag_finding(stack, env.name, rc["address"], "its tags are unknown until apply"))
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
            found.append(_tag_finding(stack, env.name, rc["address"], "; ".join(parts)))
    return found


def _tag_finding(stack: str, env: str, address: str, message: str) -> Finding:
    return Finding(gate="tags", rule="required-tags", stack=stack, env=env, address=address, message=message)
