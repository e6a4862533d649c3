"""S3 bucket configurations moto lacks or trims, stored as sent and echoed as AWS does.

moto routes a bucket request by its query parameters and falls back to CreateBucket (PUT) or ListObjects (GET) for a
parameter it does not know: `PutBucketRequestPayment`, `PutBucketMetricsConfiguration`,
`PutBucketIntelligentTieringConfiguration` and `PutBucketAnalyticsConfiguration` "succeeded" as CreateBucket and
their reads answered a listing. For those, and for lifecycle rules (moto drops `Filter.And`'s object size bounds and
ignores the `x-amz-transition-default-minimum-object-size` header) and logging (moto drops `TargetObjectKeyFormat`),
the configuration document is kept as the client sent it and returned by the matching Get (these documents have the
same shape both ways).
"""

from __future__ import annotations

import re
from typing import Any

from infractl.adapters.emulator_patches import replace, s3_lock, wraps

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
# query parameter -> (root element of the List answer, element of one configuration)
BY_ID = {
    "metrics": ("ListMetricsConfigurationsResult", "MetricsConfiguration"),
    "intelligent-tiering": ("ListBucketIntelligentTieringConfigurationsOutput", "IntelligentTieringConfiguration"),
    "analytics": ("ListBucketAnalyticsConfigurationResult", "AnalyticsConfiguration"),
}
TRANSITION_HEADER = "x-amz-transition-default-minimum-object-size"
LISTED_OWNER = "bcaf1ffd86f41161ca5fb16fd081034f"  # moto's ListBuckets owner; its ACLs name moto.s3.models.OWNER
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>\s*")


def document(body: bytes) -> bytes:
    """A stored request document without its XML declaration."""
    return _DECLARATION.sub(b"", body or b"")


def xml(text: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + text


def listing(kind: str, stored: dict[str, bytes]) -> bytes:
    """The List answer for configurations stored by id (one page: no bucket holds more than AWS's 1,000)."""
    root, _ = BY_ID[kind]
    items = b"".join(stored[key] for key in sorted(stored))
    return xml(f'<{root} xmlns="{NS}"><IsTruncated>false</IsTruncated>'.encode() + items + f"</{root}>".encode())


def mfa_delete_of(body: bytes) -> str | None:
    found = re.search(rb"<MfaDelete>\s*(\w+)\s*</MfaDelete>", body or b"")
    return found.group(1).decode() if found else None


def _store(bucket: Any) -> dict[str, Any]:
    if not hasattr(bucket, "_infractl_config"):
        bucket._infractl_config = {}
    return bucket._infractl_config  # type: ignore[no-any-return]


def _no_such_configuration() -> tuple[int, dict[str, str], bytes]:
    body = xml(
        b"<Error><Code>NoSuchConfiguration</Code><Message>The specified configuration does not exist.</Message></Error>"
    )
    return 404, {"Content-Type": "application/xml"}, body


def _one(query: dict[str, Any], name: str) -> str | None:
    values = query.get(name)
    return values[0] if isinstance(values, list) and values else values


def apply() -> None:
    from moto.s3.models import OWNER, FakeBucket
    from moto.s3.responses import S3Response

    def wrap_put(orig: Any) -> Any:
        @wraps(orig)
        def _bucket_response_put(self: Any, request: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
            """Gap: PUT ?requestPayment, ?metrics, ?intelligent-tiering and ?analytics ran as CreateBucket; the
            lifecycle's size bounds and default minimum transition size, logging's TargetObjectKeyFormat and
            versioning's MfaDelete were dropped. Object Lock's refusals come first (s3_lock.bucket_put_refusal)."""
            refusal = s3_lock.bucket_put_refusal(self, bucket_name, querystring)
            if refusal is not None:
                return refusal
            kind = next((k for k in ("requestPayment", *BY_ID) if k in querystring), None)
            if kind is not None:
                store = _store(self.backend.get_bucket(bucket_name))
                if kind == "requestPayment":
                    store["requestPayment"] = document(self.body)
                else:
                    store.setdefault(kind, {})[_one(querystring, "id")] = document(self.body)
                return 200, {}, b""
            answer = orig(self, request, bucket_name, querystring)
            store = _store(self.backend.get_bucket(bucket_name))
            if "lifecycle" in querystring:
                store["lifecycle"] = document(self.body)
                store["transition"] = request.headers.get(TRANSITION_HEADER) or "all_storage_classes_128K"
            elif "logging" in querystring:
                store["logging"] = document(self.body)
            elif "versioning" in querystring and mfa_delete_of(self.body):
                store["mfaDelete"] = mfa_delete_of(self.body)
            return answer

        return _bucket_response_put

    def wrap_get(orig: Any) -> Any:
        @wraps(orig)
        def _bucket_response_get(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
            """See _bucket_response_put: the stored documents are returned; other reads are moto's."""
            kind = next((k for k in ("requestPayment", *BY_ID) if k in querystring), None)
            if kind is None and not {"lifecycle", "versioning", "logging"} & set(querystring):
                return orig(self, bucket_name, querystring)
            store = _store(self.backend.get_bucket(bucket_name))
            if kind == "requestPayment":
                payer = "<Payer>BucketOwner</Payer>"
                default = f'<RequestPaymentConfiguration xmlns="{NS}">{payer}</RequestPaymentConfiguration>'
                return 200, {}, xml(store.get("requestPayment") or default.encode())
            if kind is not None:
                stored = store.get(kind, {})
                key = _one(querystring, "id")
                if key is None:
                    return 200, {}, listing(kind, stored)
                return (200, {}, xml(stored[key])) if key in stored else _no_such_configuration()
            answer = orig(self, bucket_name, querystring)
            if "lifecycle" in querystring and store.get("lifecycle"):
                return 200, {TRANSITION_HEADER: store["transition"]}, xml(store["lifecycle"])
            if "logging" in querystring and store.get("logging") and self.backend.get_bucket_logging(bucket_name):
                return 200, {}, xml(store["logging"])
            if "versioning" in querystring and store.get("mfaDelete"):
                status = self.backend.get_bucket_versioning(bucket_name)
                inner = (
                    f"<Status>{status}</Status>" if status else ""
                ) + f"<MfaDelete>{store['mfaDelete']}</MfaDelete>"
                return 200, {}, xml(f'<VersioningConfiguration xmlns="{NS}">{inner}</VersioningConfiguration>'.encode())
            return answer

        return _bucket_response_get

    def wrap_delete(orig: Any) -> Any:
        @wraps(orig)
        def _bucket_response_delete(self: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
            """See _bucket_response_put: DELETE ?metrics&id=… (and the others) remove the stored document."""
            kind = next((k for k in BY_ID if k in querystring), None)
            if kind is not None:
                stored = _store(self.backend.get_bucket(bucket_name)).get(kind, {})
                if stored.pop(_one(querystring, "id"), None) is None:
                    return _no_such_configuration()
                return 204, {}, b""
            answer = orig(self, bucket_name, querystring)
            if "lifecycle" in querystring:
                _store(self.backend.get_bucket(bucket_name)).pop("lifecycle", None)
            return answer

        return _bucket_response_delete

    replace(S3Response, "_bucket_response_put", wrap_put)
    replace(S3Response, "_bucket_response_get", wrap_get)
    replace(S3Response, "_bucket_response_delete", wrap_delete)

    def set_accelerate_configuration(self: Any, accelerate_config: str) -> None:
        """Gap: moto ignores `Suspended` on a bucket never accelerated, so GetBucketAccelerateConfiguration has no
        Status and `acceleration_status = "Suspended"` never plans clean. AWS stores and returns it."""
        self.accelerate_configuration = accelerate_config

    def wrap_all_buckets(orig: Any) -> Any:
        @wraps(orig)
        def all_buckets(self: Any) -> Any:
            """Gap: moto's ListBuckets names an owner ID that is not the canonical user of its ACLs, so an ACL whose
            owner is `data.aws_canonical_user_id` (read from ListBuckets) differs from what GetBucketAcl returns on
            every plan. ListBuckets now names the ACLs' owner."""
            status, headers, body = orig(self)
            if isinstance(body, bytes):
                body = body.replace(LISTED_OWNER.encode(), OWNER.encode())
            elif isinstance(body, str):
                body = body.replace(LISTED_OWNER, OWNER)
            return status, headers, body

        return all_buckets

    replace(S3Response, "all_buckets", wrap_all_buckets)

    replace(FakeBucket, "set_accelerate_configuration", lambda _orig: set_accelerate_configuration)

    def log_permissions_enabled_policy(self: Any, target_bucket: Any, target_prefix: str | None) -> bool:
        """Gap: moto refuses PutBucketLogging unless the target bucket's policy (or ACL) already lets the logging
        service write. AWS does not check that when the logging configuration is put, and Terraform creates the
        target's policy in parallel, so moto failed a configuration AWS accepts."""
        return True

    replace(FakeBucket, "_log_permissions_enabled_policy", lambda _orig: log_permissions_enabled_policy)
