"""S3 replication performed: a new version in a bucket with a replication configuration is copied to its destination.

moto stores a bucket's replication configuration (and `s3.py` echoes it) but never copies an object, so the evidence
bucket's DR copy stayed empty on the emulator and `infractl drill dr` had nothing to check. Here a successful
PutObject, CopyObject or CompleteMultipartUpload into a bucket whose configuration has an Enabled rule matching the key
(filter by prefix, tag or `And`; a V1 rule's prefix) is replicated at once, inside the same request (synchronous:
simple and deterministic; S3 replicates asynchronously: a measured lag means nothing here):

- the replica is a new version of the same key in the destination bucket (`arn:aws:s3:::NAME`, any region; in the
  rule's `Account` when one is named), with the source's version id, body, ETag, metadata (content type included),
  checksum, tags and Object Lock mode, retain-until date and legal hold; a source version without retention gets the
  destination's default retention; its storage class is the rule's, else the source's; it is encrypted with the
  rule's `ReplicaKmsKeyID`, else as the source (else the destination's default encryption);
- the source version's `ReplicationStatus` becomes COMPLETED and the replica's REPLICA (HeadObject and GetObject show
  `x-amz-replication-status`); when S3 would fail the copy (the destination bucket missing, not versioned, in another
  account than the rule names, or without Object Lock for a locked source) the source is FAILED and the PUT still
  succeeds;
- an SSE-KMS source version is replicated only when the rule's `SourceSelectionCriteria.SseKmsEncryptedObjects` is
  Enabled (S3 skips it otherwise: no status);
- a replica is never replicated again (a contextvar guards the copy), as S3 does not chain replicas;
- a later change of the source version's retention or legal hold is applied to its replicas, as S3 replicates them;
- a delete without a version id (a delete marker) is replicated when the rule's `DeleteMarkerReplication` is
  Enabled and the replica key exists; deletes of a version are never replicated (as on S3).

The destination's own Object Lock holds for the replica (it is a version there like any other: s3_lock's rules apply).
Not modelled: the rule's IAM role is not checked, replication time control and metrics, existing-object replication
(S3 Batch Replication), replica modification sync. tests/integration/test_emulator_replication.py is the proof;
docs/emulator.md ("Replication") lists it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from typing import Any

from infractl.adapters import emulator_patches as patches
from infractl.adapters.emulator_patches import wraps

__all__ = ["apply", "chosen_rules", "destination_name", "rule_matches"]

STATUS_ATTR = "_infractl_replication_status"
REPLICAS_ATTR = "_infractl_replicas"  # on a source version: [(account, partition, bucket), …] holding its replica
STATUS_HEADER = "x-amz-replication-status"
_REPLICATING: contextvars.ContextVar[bool] = contextvars.ContextVar("infractl_s3_replicating", default=False)


def replace(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Wrap on top of s3_lock's versions (complete_multipart_upload, delete_object), once."""
    patches.replace(owner, name, make, layer="replication")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _tags_match(wanted: Any, tags: dict[str, str]) -> bool:
    return all(tags.get(str(t.get("Key"))) == str(t.get("Value") or "") for t in _as_list(wanted))


def rule_matches(rule: dict[str, Any], key: str, tags: dict[str, str]) -> bool:
    """Whether a stored rule (as xmltodict parsed it) is Enabled and its filter selects the key with these tags."""
    if rule.get("Status") != "Enabled":
        return False
    if "Filter" not in rule:
        return key.startswith(rule.get("Prefix") or "")  # V1 rule (or no filter: every key)
    filt = rule.get("Filter") or {}
    if "And" in filt:
        and_ = filt.get("And") or {}
        return key.startswith(and_.get("Prefix") or "") and _tags_match(and_.get("Tag"), tags)
    if "Tag" in filt:
        return _tags_match(filt["Tag"], tags)
    return key.startswith(filt.get("Prefix") or "")


def destination_name(rule: dict[str, Any]) -> str:
    """The destination bucket's name from the rule's `arn:aws:s3:::NAME` (a bare name is taken as is)."""
    arn = str((rule.get("Destination") or {}).get("Bucket") or "")
    return arn.split(":::", 1)[1] if ":::" in arn else arn


def chosen_rules(rules: Iterable[dict[str, Any]], key: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    """The rules that replicate this key: per destination bucket, the matching Enabled rule of highest priority."""
    best: dict[str, dict[str, Any]] = {}
    for rule in rules:
        if not rule_matches(rule, key, tags):
            continue
        name = destination_name(rule)
        if name not in best or int(rule.get("Priority") or 0) > int(best[name].get("Priority") or 0):
            best[name] = rule
    return list(best.values())


def _enabled(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Status") == "Enabled"


def apply() -> None:
    from moto.s3.models import FakeKey, S3Backend, s3_backends
    from moto.s3.responses import S3Response

    def destination(rule: dict[str, Any]) -> tuple[Any, Any] | None:
        """(backend, bucket) of the rule's destination, or None when it does not exist where the rule says."""
        name = destination_name(rule)
        account = (rule.get("Destination") or {}).get("Account")
        owner = s3_backends.bucket_accounts.get(name)
        if owner is None or (account and str(account) != owner[1]):
            return None
        backend = s3_backends[owner[1]][owner[0]]
        bucket = backend.buckets.get(name)
        return (backend, bucket) if bucket is not None else None

    def copy_to(source: Any, tags: dict[str, str], rule: dict[str, Any]) -> bool:
        """Write the replica of `source` as the rule says; False where S3 would fail the replication."""
        found = destination(rule)
        if found is None:
            return False
        backend, bucket = found
        locked = bool(source.lock_mode) or source.lock_legal_status == "ON"
        if not bucket.is_versioned or (locked and not bucket.object_lock_enabled):
            return False
        mode, until = source.lock_mode, source.lock_until
        if not mode and bucket.has_default_lock:
            mode, until = bucket.default_lock_mode, bucket.default_retention()
        target = rule.get("Destination") or {}
        replica_key = (target.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
        encryption = "aws:kms" if replica_key else (source.encryption if source.encryption == "AES256" else None)
        replica = backend.put_object(
            bucket.name,
            source.name,
            source.value,
            storage=target.get("StorageClass") or source.storage_class,
            etag=source.etag.strip('"'),
            encryption=encryption,
            kms_key_id=replica_key,
            lock_mode=mode,
            lock_legal_status=source.lock_legal_status,
            lock_until=until,
            checksum_value=source.checksum_value,
        )
        replica._version_id = source.version_id  # S3 keeps the version id
        replica.set_metadata(dict(source.metadata))
        replica.checksum_algorithm = source.checksum_algorithm
        if tags:
            backend.put_object_tagging(replica, tags)
        setattr(replica, STATUS_ATTR, "REPLICA")
        entry = (backend.account_id, replica.partition, bucket.name)
        setattr(source, REPLICAS_ATTR, [*getattr(source, REPLICAS_ATTR, []), entry])
        return True

    def replicate(backend: Any, bucket_name: str, key: Any) -> None:
        """Replicate one new source version per the bucket's configuration (nothing when no rule selects it)."""
        if _REPLICATING.get() or key is None or not isinstance(key, FakeKey):
            return
        bucket = backend.get_bucket(bucket_name)
        config = getattr(bucket, "replication", None)
        if not config or not bucket.is_versioned:
            return
        tags = backend.tagger.get_tag_dict_for_resource(key.arn)
        rules = chosen_rules(_as_list(config.get("Rule")), key.name, tags)
        if key.encryption == "aws:kms":
            sse_kms = lambda r: _enabled((r.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects"))  # noqa: E731
            rules = [r for r in rules if sse_kms(r)]
        if not rules:
            return
        token = _REPLICATING.set(True)
        try:
            results = [copy_to(key, tags, rule) for rule in rules]
        finally:
            _REPLICATING.reset(token)
        setattr(key, STATUS_ATTR, "COMPLETED" if all(results) else "FAILED")

    def after_request(orig: Any) -> Any:
        @wraps(orig)
        def handler(self: Any) -> Any:
            """Gap: moto never replicates; the new version is copied to each destination its rules name."""
            answer = orig(self)
            if not _REPLICATING.get():
                replicate(
                    self.backend, self.bucket_name, self.backend.get_object(self.bucket_name, self.parse_key_name())
                )
            return answer

        return handler

    replace(S3Response, "put_object", after_request)
    replace(S3Response, "copy_object", after_request)

    def wrap_complete(orig: Any) -> Any:
        @wraps(orig)
        def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
            """Gap: a completed multipart upload was never replicated (after s3_lock gave it its retention)."""
            key = orig(self, bucket_name, multipart_id, body)
            replicate(self, bucket_name, key)
            return key

        return complete_multipart_upload

    replace(S3Backend, "complete_multipart_upload", wrap_complete)

    def replicas_of(backend: Any, bucket_name: str, key_name: str, version_id: str | None) -> list[Any]:
        source = backend.get_object(bucket_name, key_name, version_id=version_id)
        found = []
        for account, partition, name in getattr(source, REPLICAS_ATTR, []) if source is not None else []:
            target = s3_backends[account][partition].buckets.get(name)
            versions = target.keys.getlist(key_name, []) if target is not None else []
            found += [v for v in versions if isinstance(v, FakeKey) and v.version_id == source.version_id]
        return found

    def wrap_legal_hold(orig: Any) -> Any:
        @wraps(orig)
        def put_object_legal_hold(self: Any, bucket_name: str, key_name: str, version_id: Any, status: Any) -> None:
            """A source version's legal hold reaches its replicas (S3 replicates Object Lock changes)."""
            orig(self, bucket_name, key_name, version_id, status)
            for replica in replicas_of(self, bucket_name, key_name, version_id):
                replica.lock_legal_status = status

        return put_object_legal_hold

    def wrap_retention(orig: Any) -> Any:
        @wraps(orig)
        def put_object_retention(self: Any, bucket_name: str, key_name: str, version_id: Any, retention: Any) -> None:
            """A source version's retention reaches its replicas (s3_lock already refused any weakening)."""
            orig(self, bucket_name, key_name, version_id, retention)
            for replica in replicas_of(self, bucket_name, key_name, version_id):
                replica.lock_mode, replica.lock_until = retention

        return put_object_retention

    replace(S3Backend, "put_object_legal_hold", wrap_legal_hold)
    replace(S3Backend, "put_object_retention", wrap_retention)

    def wrap_delete(orig: Any) -> Any:
        @wraps(orig)
        def delete_object(self: Any, bucket_name: str, key_name: str, version_id: Any = None, bypass: Any = False):
            """A delete marker is replicated where a rule's DeleteMarkerReplication is Enabled (S3 never replicates
            the delete of a version)."""
            deleted, meta = orig(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
            if _REPLICATING.get() or version_id is not None or meta.get("delete-marker") != "true":
                return deleted, meta
            config = getattr(self.get_bucket(bucket_name), "replication", None) or {}
            for rule in chosen_rules(_as_list(config.get("Rule")), key_name, {}):
                found = destination(rule) if _enabled(rule.get("DeleteMarkerReplication")) else None
                if found is not None and found[1].is_versioned and key_name in found[1].keys:
                    found[0]._set_delete_marker(found[1].name, key_name)
            return deleted, meta

        return delete_object

    replace(S3Backend, "delete_object", wrap_delete)

    def wrap_response_dict(orig: Any) -> Any:
        def response_dict(self: Any) -> dict[str, Any]:
            """HeadObject and GetObject show a version's ReplicationStatus (COMPLETED, FAILED or REPLICA)."""
            headers: dict[str, Any] = orig.fget(self)
            status = getattr(self, STATUS_ATTR, None)
            if status:
                headers[STATUS_HEADER] = status
            return headers

        return property(response_dict)

    replace(FakeKey, "response_dict", wrap_response_dict)
