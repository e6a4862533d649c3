"""What the chart tests share: the chart values `infractl render` builds from the env model (built once per env and
process), rendering the controlplane chart in process (helm-python-sdk), Kubernetes label-selector matching, and
checking custom resources against their CRD's vendored schema (docs/schemas/crds/) as the API server would."""

from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import helm_python as helm
import jsonschema
import yaml

from infractl.models.project import Project
from infractl.services.render import values as values_service
from infractl.services.render.charts import NAMESPACE

REPO = Path(__file__).resolve().parents[2]
PROJECT = Project(root=REPO, work_dir=REPO / ".infractl")
ENVS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


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


def load_docs(text: str) -> list[dict]:
    return [d for d in yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if d]


def render_chart(chart_name: str, vals: dict) -> list[dict]:
    """A chart rendered in process as `infractl render` installs it: release = chart name, into the chart's
    namespace (hooks included, no NOTES)."""
    chart = helm.Chart.load(str(REPO / "helm" / chart_name))
    try:
        rendered = chart.render(vals, name=chart_name, namespace=NAMESPACE[chart_name], is_install=True)
    finally:
        chart.close()
    return [d for p, t in sorted(rendered.items()) if not p.endswith("NOTES.txt") for d in load_docs(t)]


def render_controlplane(vals: dict) -> list[dict]:
    """The controlplane chart rendered in process as an install into its namespace (hooks included, no NOTES)."""
    return render_chart("controlplane", vals)


# --- custom resources against their CRD's schema ---------------------------------------------------------------


def strict_schema(schema: dict) -> dict:
    """A CRD's structural schema as a strict field validation sees it: an object with `properties` takes no other
    field (the API server prunes them silently, or refuses them with kubectl's --validate=strict); `metadata` and
    x-kubernetes-preserve-unknown-fields objects stay open."""
    out = copy.deepcopy(schema)

    def visit(node: dict) -> None:
        open_ = "additionalProperties" in node or node.get("x-kubernetes-preserve-unknown-fields")
        if "properties" in node and not open_:
            node["additionalProperties"] = False
        for sub in node.get("properties", {}).values():
            visit(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                visit(node[key])
        for sub in node.get("anyOf", []) + node.get("allOf", []):
            visit(sub)

    visit(out)
    return out


@functools.cache
def crd_validator(path: Path) -> jsonschema.Draft7Validator:
    """The validator of a vendored CRD schema (docs/schemas/crds/*.json: a served version's openAPIV3Schema)."""
    return jsonschema.Draft7Validator(strict_schema(json.loads(path.read_text())))


def list_map_duplicates(schema: dict, value, where: str = "") -> list[str]:
    """x-kubernetes-list-type: map (e.g. spec.groups keyed by name): the API server refuses two items with one key."""
    found = []
    if isinstance(value, list):
        if schema.get("x-kubernetes-list-type") == "map":
            keys = [tuple(item.get(k) for k in schema["x-kubernetes-list-map-keys"]) for item in value]
            found += [f"{where}: duplicate key {k}" for k in sorted(set(keys), key=str) if keys.count(k) > 1]
        for i, item in enumerate(value):
            found += list_map_duplicates(schema.get("items", {}), item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                found += list_map_duplicates(sub, value[key], f"{where}.{key}")
    return found


def crd_problems(validator: jsonschema.Draft7Validator, obj: dict, api_version: str, kind: str) -> list[str]:
    """Why the API server would refuse obj as a custom resource of this CRD (strict), [] when it would not."""
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(obj)]
    errors += list_map_duplicates(validator.schema, obj)
    if obj.get("apiVersion") != api_version or obj.get("kind") != kind:
        errors.append(f"not a {api_version} {kind}: {obj.get('apiVersion')} {obj.get('kind')}")
    name = (obj.get("metadata") or {}).get("name", "")
    if not (DNS_SUBDOMAIN.match(name) and len(name) <= 253):
        errors.append(f"metadata.name {name!r} is not a DNS subdomain")
    return errors
