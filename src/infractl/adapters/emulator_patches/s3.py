"""S3: bucket-policy conditions over TLS, delete-marker disposal, replication configuration echo."""

from __future__ import annotations

import json
from typing import Any

from infractl.adapters.emulator_patches import replace


def secure_transport_view(policy: str) -> str:
    """The bucket policy as it applies to a request made over TLS (the emulator serves only TLS).

    moto ignores policy conditions: it applies every conditional statement unconditionally, so a standard
    TLS-only statement (Deny when aws:SecureTransport is false) denies everything, and a Deny conditioned on a
    request header (e.g. s3:x-amz-server-side-encryption present and not aws:kms) refuses every upload.
    Here a statement conditioned on aws:SecureTransport is kept, without that condition, when the condition holds
    over TLS, and dropped when it does not. A statement left with conditions moto cannot evaluate (request
    headers, principal org, source IP ...) is dropped: on the emulator such statements never apply, which errs
    towards allowing for Deny statements and towards not granting for Allow statements.
    """
    doc = json.loads(policy)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept: list[dict[str, Any]] = []
    for statement in statements:
        condition = dict(statement.get("Condition") or {})
        bool_ops = dict(condition.get("Bool") or {})
        key = next((k for k in bool_ops if k.lower() == "aws:securetransport"), None)
        if key is not None:
            expected = bool_ops.pop(key)
            values = expected if isinstance(expected, list) else [expected]
            if "true" not in [str(v).lower() for v in values]:
                continue  # applies only to plain-HTTP requests, which never reach this emulator
            if bool_ops:
                condition["Bool"] = bool_ops
            else:
                condition.pop("Bool")
            statement = {k: v for k, v in statement.items() if k != "Condition"}
            if condition:
                statement["Condition"] = condition
        if statement.get("Condition"):
            continue  # conditions moto cannot evaluate: the statement never applies here
        kept.append(statement)
    return json.dumps({**doc, "Statement": kept})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _filter_view(stored: Any) -> dict[str, Any]:
    """A rule's <Filter> as parsed by xmltodict, in the shape GetBucketReplication returns."""
    if not stored:
        return {"Prefix": ""}
    view = dict(stored)
    if "Prefix" in view:
        view["Prefix"] = view["Prefix"] or ""
    if "And" in view:
        and_ = dict(view["And"] or {})
        tags = _as_list(and_.pop("Tag", None))
        if "Prefix" in and_:
            and_["Prefix"] = and_["Prefix"] or ""
        if tags:
            and_["Tags"] = tags
        view["And"] = and_
    return view


def replication_rule_view(rule: dict[str, Any]) -> dict[str, Any]:
    """One stored replication rule as AWS returns it: everything that was put, AWS defaults for the rest."""
    view: dict[str, Any] = {
        "ID": rule["ID"],
        "Priority": rule["Priority"],
        "Status": rule["Status"],
        "DeleteMarkerReplication": rule.get("DeleteMarkerReplication") or {"Status": "Disabled"},
        "Destination": rule["Destination"],
    }
    if "Filter" in rule:
        view["Filter"] = _filter_view(rule["Filter"])
    elif "Prefix" in rule:  # V1 rule: prefix at rule level
        view["Prefix"] = rule["Prefix"] or ""
    else:
        view["Filter"] = {"Prefix": ""}
    for key in ("SourceSelectionCriteria", "ExistingObjectReplication"):
        if rule.get(key):
            view[key] = rule[key]
    return view


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.models import FakeBucket, FakeDeleteMarker
    from moto.s3.responses import S3Response

    def get_permission(self: Any, action: str, resource: str) -> Any:
        """Gap: moto has no request context for policy conditions, so a TLS-only Deny denies every request."""
        if self.policy is None:
            return PermissionResult.NEUTRAL
        raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        return IAMPolicy(secure_transport_view(raw)).is_action_permitted(action, resource)

    replace(FakeBucket, "get_permission", lambda _orig: get_permission)

    def dispose(self: Any, garbage: bool = False) -> None:
        """Gap: FakeDeleteMarker has no dispose(), which moto calls on every version of a key it drops.

        Deleting objects from a bucket whose versioning was suspended (terraform destroys aws_s3_bucket_versioning
        before the bucket) fails with a 500 that the SDK retries: the destroy hangs. A delete marker holds no
        buffer, so there is nothing to dispose of.
        """

    replace(FakeDeleteMarker, "dispose", lambda _orig: dispose)

    def get_bucket_replication(self: Any) -> Any:
        """Gap: moto answers GetBucketReplication with a fixed DeleteMarkerReplication=Disabled and an empty
        Filter, and drops SourceSelectionCriteria and ExistingObjectReplication: the stored rule is echoed here.
        """
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = [replication_rule_view(rule) for rule in replication["Rule"]]
        config = {"Role": replication["Role"], "Rules": rules}
        return self.serialized(ActionResult({"ReplicationConfiguration": config}))

    replace(S3Response, "get_bucket_replication", lambda _orig: get_bucket_replication)
