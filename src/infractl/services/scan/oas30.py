"""OpenAPI 3.1 → 3.0.3, for the differ: openapi-diff 0.24 validates its inputs as OpenAPI 3.0 and refuses 3.1
(`Unsupported OpenAPI version: 3.1.0`), which is what FastAPI writes.

Only what 3.0 cannot say changes, the same way on both sides of the diff: `anyOf: [X, {type: null}]` and
`type: [X, "null"]` become X with `nullable: true`, `const` a one-value `enum`, a schema's `examples` list its first
`example`, numeric `exclusiveMinimum/Maximum` the 3.0 boolean form; JSON Schema keywords 3.0 does not know
(`$schema`, `$comment`, `contentMediaType`, ...) and 3.1-only document fields (`webhooks`, `info.summary`,
`license.identifier`, `jsonSchemaDialect`) are dropped. Schemas are found structurally (`components.schemas` and
every `schema` of a parameter, header or media type), so a property *named* `const` or `type` is left alone.
"""

from __future__ import annotations

from typing import Any

DROPPED = frozenset(
    {
        "$schema",
        "$id",
        "$anchor",
        "$comment",
        "$defs",
        "$dynamicRef",
        "$dynamicAnchor",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "unevaluatedProperties",
        "unevaluatedItems",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "propertyNames",
        "if",
        "then",
        "else",
    }
)
NULL = {"type": "null"}
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMA_ONE = ("items", "not", "additionalProperties")


def document(doc: dict[str, Any]) -> dict[str, Any]:
    """A 3.0.3 copy of a 3.1 document (a 3.0 document is returned as it is)."""
    if not str(doc.get("openapi", "")).startswith("3.1"):
        return doc
    out = _walk(doc)
    out["openapi"] = "3.0.3"
    for key in ("webhooks", "jsonSchemaDialect"):
        out.pop(key, None)
    info = out.get("info")
    if isinstance(info, dict):
        info.pop("summary", None)
        if isinstance(info.get("license"), dict):
            info["license"].pop("identifier", None)
    return out


def _walk(node: Any) -> Any:
    """Copy node, converting every schema found under a `schema` key or in `components.schemas`."""
    if isinstance(node, list):
        return [_walk(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = schema(value)
        elif key == "schemas" and isinstance(value, dict):
            out[key] = {name: schema(s) for name, s in value.items()}
        else:
            out[key] = _walk(value)
    return out


def schema(s: Any) -> Any:
    """One schema object (and its subschemas) in 3.0 form."""
    if not isinstance(s, dict):
        return s
    out: dict[str, Any] = {}
    for key, value in s.items():
        if key in DROPPED:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: schema(p) for name, p in value.items()}
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            out[key] = [schema(x) for x in value]
        elif key in SUBSCHEMA_ONE:
            out[key] = schema(value)
        else:
            out[key] = value
    for key in SUBSCHEMA_LISTS[1:]:
        alts = out.get(key)
        if isinstance(alts, list) and NULL in alts:
            rest = [a for a in alts if a != NULL]
            del out[key]
            if len(rest) == 1 and isinstance(rest[0], dict) and "$ref" not in rest[0]:
                out = {**rest[0], **out}
            elif len(rest) == 1:
                out["allOf"] = [*out.get("allOf", []), rest[0]]
            elif rest:
                out[key] = rest
            out["nullable"] = True
    kind = out.get("type")
    if isinstance(kind, list):
        rest = [t for t in kind if t != "null"]
        if len(rest) < len(kind):
            out["nullable"] = True
        if len(rest) == 1:
            out["type"] = rest[0]
        else:
            del out["type"]
            if rest:
                out["anyOf"] = [{"type": t} for t in rest]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if isinstance(out.get("examples"), list):
        examples = out.pop("examples")
        if examples:
            out.setdefault("example", examples[0])
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(exclusive)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[bound] = value
            out[exclusive] = True
    return out
