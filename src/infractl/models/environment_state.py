"""The remote-state settings of the environment model (environments/<env>.yaml `state:`): the state bucket, the
lock, the KMS key. Part of models/environment.py, which re-exports these names (docs/environments.md#state)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    # As environment.py's: no unknown keys, no coercion, no inf or nan.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _bucket_name(v: str | None) -> str | None:
    """S3 general purpose bucket naming rules beyond the character pattern (docs/environments.md#state)."""
    if v is None:
        return v
    if ".." in v:
        raise ValueError("a bucket name cannot contain two adjacent periods")
    try:
        ipaddress.IPv4Address(v)
    except ValueError:
        pass
    else:
        raise ValueError("a bucket name cannot look like an IP address")
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if v.startswith(prefix):
            raise ValueError(f"a bucket name cannot start with {prefix!r} (reserved by S3)")
    for suffix in ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"):
        if v.endswith(suffix):
            raise ValueError(f"a bucket name cannot end with {suffix!r} (reserved by S3)")
    return v


_KMS_KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_ALIAS = r"alias/[a-zA-Z0-9/_-]{1,250}"
# A KMS key ID, multi-Region key ID, alias name, key ARN or alias ARN.
KMS_KEY = re.compile(
    rf"(?:{_KMS_KEY_ID}|{_KMS_ALIAS}|arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{{12}}:(?:key/{_KMS_KEY_ID}|{_KMS_ALIAS}))"
)


def _kms_key(v: str | None) -> str | None:
    if v is not None and not KMS_KEY.fullmatch(v):
        raise ValueError("not a KMS key ID, multi-Region key ID (mrk-...), alias name (alias/NAME) or key or alias ARN")
    return v


class StateConfig(_Strict):
    bucket: Annotated[
        str | None, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"), AfterValidator(_bucket_name)
    ] = None
    lock: Literal["s3", "dynamodb"] = "s3"
    dynamodb_table: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9_.-]{3,255}$")  # DynamoDB table names
    kms_key_id: Annotated[str | None, AfterValidator(_kms_key)] = None  # default: the AWS-managed aws/s3 key
    noncurrent_version_days: int = Field(default=90, ge=1)
