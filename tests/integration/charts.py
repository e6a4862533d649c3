"""What the chart tests share: the chart values `infractl render` builds from the env model (built once per env and
process), and Kubernetes label-selector matching."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

from infractl.models.project import Project
from infractl.services.render import values as values_service

REPO = Path(__file__).resolve().parents[2]
PROJECT = Project(root=REPO, work_dir=REPO / ".infractl")
ENVS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))


@functools.cache
def env_values(env: str) -> values_service.EnvValues:
    return values_service.values_for(PROJECT, env)


def chart_values(chart: str, env: str) -> dict:
    """A chart's values for env, as `infractl render` builds them (ci layer + env model); a copy to mutate."""
    return copy.deepcopy(env_values(env).charts[chart])


def selects(selector: dict | None, labels: dict) -> bool:
    """A LabelSelector (matchLabels + matchExpressions In/NotIn/Exists/DoesNotExist) against a label set."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values):
            return False
        if (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True
