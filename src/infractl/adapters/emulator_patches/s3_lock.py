"""S3 Object Lock enforced as S3 enforces it: the evidence bucket's WORM guarantees hold on the emulator.

moto stores retention and legal holds and refuses a plain delete of a locked version, but it let a COMPLIANCE
retention be shortened, removed or switched to GOVERNANCE; accepted retain-until dates in the past; gave no default
retention to an upload with a legal hold or to a multipart upload; took `x-amz-bypass-governance-retention: false` for
a bypass and never checked `s3:BypassGovernanceRetention`, `s3:PutObjectLegalHold` or `s3:PutObjectRetention` (its IAM
engine names an S3 request from its path only); and refused what S3 allows: changing the default retention of a
non-empty bucket, and CopyObject into a locked bucket without Content-MD5. tests/integration/test_worm_attacks.py
tries each; docs/emulator.md ("Object Lock") lists them and what remains.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps

__all__ = [
    "LOCKED_VERSIONING",
    "apply",
    "bucket_put_refusal",
    "parse_date",
    "permitted",
    "retention_change_refusal",
    "upload_lock_refusal",
]

LOCKED_VERSIONING = "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
PAST_DATE = "The retain until date must be in the future!"
BOTH_HEADERS = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied"
BYPASS_HEADER = "x-amz-bypass-governance-retention"
MODE_HEADER, DATE_HEADER, HOLD_HEADER = (f"x-amz-object-lock-{s}" for s in ("mode", "retain-until-date", "legal-hold"))
_BYPASS: contextvars.ContextVar[bool] = contextvars.ContextVar("infractl_s3_bypass", default=False)


def parse_date(text: str) -> dt.datetime:
    """A retain-until date as S3 takes it (ISO 8601, `Z` or an offset, with or without fractions), in UTC."""
    parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def upload_lock_refusal(mode: str | None, until: str | None, now: dt.datetime) -> str | None:
    """Why S3 refuses an upload's lock headers (InvalidArgument), or None: both or neither, and a future date."""
    if bool(mode) != bool(until):
        return BOTH_HEADERS
    if until and parse_date(until) <= now:
        return PAST_DATE
    return None


def retention_change_refusal(
    current: tuple[str | None, str | None], new: tuple[str | None, str | None], now: dt.datetime, bypass: bool
) -> str | None:
    """The S3 error for PutObjectRetention from `current` to `new` (mode, retain-until), or None when S3 allows it.

    A date in the past is InvalidArgument. While a retention runs, COMPLIANCE can only be kept and lengthened
    (AccessDenied otherwise, bypass or not); GOVERNANCE can be lengthened or made COMPLIANCE, and shortened,
    removed or its mode relaxed only with a permitted bypass.
    """
    mode, until = new
    if until and parse_date(until) <= now:
        return "InvalidArgument"
    current_mode, current_until = current
    if not current_mode or not current_until or parse_date(current_until) <= now:
        return None  # no retention running: anything goes
    stricter = bool(until) and parse_date(str(until)) >= parse_date(current_until)
    if current_mode == "COMPLIANCE":
        return None if mode == "COMPLIANCE" and stricter else "AccessDenied"
    if stricter and mode in ("GOVERNANCE", "COMPLIANCE"):
        return None
    return None if bypass else "AccessDenied"


def _one(query: dict[str, Any], name: str) -> Any:
    value = query.get(name)
    return value[0] if isinstance(value, list) and value else value


def permitted(response: Any, action: str, resource: str) -> bool:
    """moto's IAM check for an S3 action its path-based naming never asks for. True while IAM is not enforced
    (moto's default: every caller acts as the account's root, whom S3 lets do all of this)."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.core.exceptions import ServiceException
    from moto.iam.access_control import S3IAMRequest

    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return True
    request = S3IAMRequest(
        account_id=response.current_account,
        method=response.method,
        path=response.uri,
        data=response.data,
        body=response.raw_body,
        headers=response.headers,
        action=action,
    )
    try:
        request.check_action_permitted(resource)
    except ServiceException:
        return False
    return True


def bucket_put_refusal(response: Any, bucket_name: str, querystring: dict[str, Any]) -> Any:
    """The S3 answer refusing a bucket PUT, or None; s3_config's `_bucket_response_put` asks it first.

    Gap: versioning of an Object Lock bucket could be suspended (S3: 409 InvalidBucketState; the provider's destroy
    of aws_s3_bucket_versioning expects that refusal and keeps versioning on, which removing the lock configuration
    needs). PutObjectLockConfiguration needs s3:PutBucketObjectLockConfiguration.
    """
    from moto.s3.exceptions import AccessDeniedByLock

    suspending = "versioning" in querystring and b"Suspended" in (response.body or b"")
    if suspending and response.backend.get_bucket(bucket_name).object_lock_enabled:
        body = f"<Error><Code>InvalidBucketState</Code><Message>{LOCKED_VERSIONING}</Message></Error>"
        return 409, {"Content-Type": "application/xml"}, body.encode()
    if "object-lock" in querystring and not permitted(
        response, "PutBucketObjectLockConfiguration", f"arn:aws:s3:::{bucket_name}"
    ):
        raise AccessDeniedByLock()
    return None


def apply() -> None:
    import xmltodict
    from moto.s3.exceptions import AccessDeniedByLock, InvalidArgumentError, InvalidBucketState, MalformedXML
    from moto.s3.models import S3Backend
    from moto.s3.responses import S3Response

    def bypass(response: Any, resource: str) -> bool:
        """S3 bypasses GOVERNANCE only for `x-amz-bypass-governance-retention: true` from a principal allowed
        s3:BypassGovernanceRetention (moto took any value, `false` included, and checked no permission)."""
        asked = str(response.headers.get(BYPASS_HEADER, "")).lower() == "true"
        return asked and permitted(response, "BypassGovernanceRetention", resource)

    def require(response: Any, action: str, resource: str) -> None:
        if not permitted(response, action, resource):
            raise AccessDeniedByLock()

    def put_retention_checks(self: Any, query: dict[str, Any], key_name: str, resource: str) -> None:
        """PutObjectRetention: s3:PutObjectRetention, a future date, and no weakening of a running retention."""
        require(self, "PutObjectRetention", resource)
        parsed = (xmltodict.parse(self.body) if self.body else {}).get("Retention") or {}
        key = self.backend.get_object(self.bucket_name, key_name, version_id=_one(query, "versionId"))
        if key is None:
            return  # moto answers NoSuchKey / NoSuchVersion
        new = (parsed.get("Mode"), parsed.get("RetainUntilDate"))
        now = dt.datetime.now(dt.UTC)
        refusal = retention_change_refusal((key.lock_mode, key.lock_until), new, now, bypass(self, resource))
        if refusal == "InvalidArgument":
            raise InvalidArgumentError(PAST_DATE, "RetainUntilDate", str(new[1]))
        if refusal:
            raise AccessDeniedByLock()

    def wrap_key_put(orig: Any) -> Any:
        @wraps(orig)
        def _key_response_put(self: Any, query: dict[str, Any], key_name: str) -> Any:
            """Gaps: retention shortened, removed or relaxed in COMPLIANCE (and in GOVERNANCE without a permitted
            bypass); retain-until dates in the past, or a mode without a date, accepted on upload (S3: 400
            InvalidArgument); legal hold and retention changed without s3:PutObjectLegalHold /
            s3:PutObjectRetention; CopyObject into a bucket with a default retention refused without Content-MD5
            (S3 does not ask for it)."""
            resource = f"arn:aws:s3:::{self.bucket_name}/{key_name}"
            if query.get("uploadId"):
                return orig(self, query, key_name)
            if "retention" in query:
                put_retention_checks(self, query, key_name, resource)
            elif "legal-hold" in query:
                require(self, "PutObjectLegalHold", resource)
            elif not {"acl", "tagging"} & set(query):  # an upload or a copy
                mode, until = self.headers.get(MODE_HEADER), self.headers.get(DATE_HEADER)
                refusal = upload_lock_refusal(mode, until, dt.datetime.now(dt.UTC))
                if refusal:
                    name, value = (DATE_HEADER, until) if refusal == PAST_DATE else (MODE_HEADER, mode)
                    raise InvalidArgumentError(refusal, name, str(value))
                if mode:
                    require(self, "PutObjectRetention", resource)
                if self.headers.get(HOLD_HEADER):
                    require(self, "PutObjectLegalHold", resource)
                if "x-amz-copy-source" in self.headers:
                    self._set_action("KEY", "PUT", query)
                    self._authenticate_and_authorize_s3_action(bucket_name=self.bucket_name, key_name=key_name)
                    return self.copy_object()
            return orig(self, query, key_name)

        return _key_response_put

    replace(S3Response, "_key_response_put", wrap_key_put)

    def wrap_lock_details(orig: Any) -> Any:
        @wraps(orig)
        def _get_lock_details(self: Any, bucket: Any, lock_enabled: bool) -> Any:
            """Gap: an upload (or copy) with only a legal hold got no retention; S3 gives every new version the
            bucket's default retention unless the request names its own, hold or not."""
            hold, mode, until = orig(self, bucket, lock_enabled)
            if not mode and not until and lock_enabled and bucket.has_default_lock:
                mode, until = bucket.default_lock_mode, bucket.default_retention()
            return hold, mode, until

        return _get_lock_details

    replace(S3Response, "_get_lock_details", wrap_lock_details)

    def wrap_complete(orig: Any) -> Any:
        @wraps(orig)
        def complete_multipart_upload(self: Any, bucket_name: str, multipart_id: str, body: Any) -> Any:
            """Gap: a completed multipart upload got no retention; S3 gives it the bucket's default retention."""
            key = orig(self, bucket_name, multipart_id, body)
            bucket = self.get_bucket(bucket_name)
            if key is not None and not key.lock_mode and bucket.has_default_lock:
                key.lock_mode, key.lock_until = bucket.default_lock_mode, bucket.default_retention()
            return key

        return complete_multipart_upload

    replace(S3Backend, "complete_multipart_upload", wrap_complete)

    def wrap_key_delete(orig: Any) -> Any:
        @wraps(orig)
        def _key_response_delete(self: Any, bucket_name: str, query: dict[str, Any], key_name: str) -> Any:
            """See `bypass`: DeleteObject bypasses GOVERNANCE only as S3 lets it."""
            token = _BYPASS.set(bypass(self, f"arn:aws:s3:::{bucket_name}/{key_name}"))
            try:
                return orig(self, bucket_name, query, key_name)
            finally:
                _BYPASS.reset(token)

        return _key_response_delete

    def wrap_delete_keys(orig: Any) -> Any:
        @wraps(orig)
        def _bucket_response_delete_keys(self: Any, bucket_name: str, *args: Any, **kwargs: Any) -> Any:
            """See `bypass`: DeleteObjects too."""
            token = _BYPASS.set(bypass(self, f"arn:aws:s3:::{bucket_name}/*"))
            try:
                return orig(self, bucket_name, *args, **kwargs)
            finally:
                _BYPASS.reset(token)

        return _bucket_response_delete_keys

    def wrap_backend_delete(orig: Any) -> Any:
        @wraps(orig)
        def delete_object(self: Any, bucket_name: str, key_name: str, version_id: Any = None, bypass: Any = False):
            """The bypass decided by the request's wrapper, not the raw header moto passes."""
            return orig(self, bucket_name, key_name, version_id=version_id, bypass=_BYPASS.get())

        return delete_object

    replace(S3Response, "_key_response_delete", wrap_key_delete)
    replace(S3Response, "_bucket_response_delete_keys", wrap_delete_keys)
    replace(S3Backend, "delete_object", wrap_backend_delete)

    def put_object_lock_configuration(
        self: Any,
        bucket_name: str,
        lock_enabled: bool,
        mode: str | None = None,
        days: int | None = None,
        years: int | None = None,
    ) -> None:
        """Gaps: the default retention of a bucket holding objects could not be changed (S3 allows it: existing
        versions keep their own retention); `ObjectLockEnabled` other than `Enabled` was taken (S3: MalformedXML,
        Object Lock is never turned off)."""
        bucket = self.get_bucket(bucket_name)
        if not lock_enabled:
            raise MalformedXML()
        if not bucket.is_versioned:
            raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
        bucket.object_lock_enabled = True
        bucket.default_lock_mode, bucket.default_lock_days, bucket.default_lock_years = mode, days, years

    replace(S3Backend, "put_object_lock_configuration", lambda _orig: put_object_lock_configuration)
