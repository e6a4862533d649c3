"""AWS calls (boto3, imported lazily). Used for what must exist before Terraform can run: the state backend."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from infractl.errors import CloudError, ConfigError

# What a process talking only to the emulator gets instead of this machine's AWS setup: no shared config or
# credentials file (profiles, SSO, credential_process, endpoint_url) and no instance metadata. Every AWS_* variable
# of this machine (AWS_PROFILE, keys, AWS_ENDPOINT_URL*, AWS_CA_BUNDLE, ...) is dropped.
NO_LOCAL_AWS_CONFIG = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


def emulator_env(base: Mapping[str, str]) -> dict[str, str]:
    """`base` without any AWS_* variable, plus NO_LOCAL_AWS_CONFIG: for the emulator and its clients."""
    return {k: v for k, v in base.items() if not k.startswith("AWS_")} | NO_LOCAL_AWS_CONFIG


def _emulator_session() -> Any:
    """A boto3 session that reads nothing of this machine's AWS setup: every setting's environment variable is
    ignored (AWS_PROFILE, AWS_CA_BUNDLE, AWS_DEFAULT_REGION, ...), no profile is selected and the config and
    credentials files are the empty os.devnull. Clients get explicit credentials and endpoint."""
    import boto3
    import botocore.session

    isolated = {
        name: (config_key, None, default, convert)
        for name, (config_key, _env, default, convert) in botocore.session.Session.SESSION_VARIABLES.items()
    }
    isolated |= {
        "profile": (None, None, None, None),
        "config_file": (None, None, os.devnull, None),
        "credentials_file": (None, None, os.devnull, None),
    }
    return boto3.session.Session(botocore_session=botocore.session.Session(session_vars=isolated))


def _profile_not_found(exc: Exception) -> ConfigError:
    profile = getattr(exc, "kwargs", {}).get("profile", "?")
    return ConfigError(
        f"AWS profile {profile!r} not found (AWS_PROFILE) in the AWS config or credentials files",
        hint="set AWS_PROFILE to a profile of `aws configure list-profiles`, unset it, or target the local emulator"
        " with --emulate",
    )


@dataclass(frozen=True)
class AwsTarget:
    """Where AWS calls go: the real endpoints (default credential chain) or the loopback emulator (explicit fake
    credentials, nothing of this machine's AWS configuration read)."""

    region: str
    endpoint_url: str | None = None
    ca_file: str | None = None
    access_key: str | None = None
    secret_key: str | None = None

    def client(self, service: str) -> Any:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ProfileNotFound

        kwargs: dict[str, Any] = {"region_name": self.region, "config": Config(retries={"max_attempts": 3})}
        if self.endpoint_url:
            kwargs |= {
                "endpoint_url": self.endpoint_url,
                "verify": self.ca_file,
                "aws_access_key_id": self.access_key,
                "aws_secret_access_key": self.secret_key,
            }
            return _emulator_session().client(service, **kwargs)
        try:
            return boto3.session.Session().client(service, **kwargs)
        except ProfileNotFound as exc:
            raise _profile_not_found(exc) from None


def call(what: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
    """One AWS call; SDK errors become CloudError naming what was attempted (a missing profile: ConfigError)."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

    try:
        return fn(**kwargs)
    except ProfileNotFound as exc:
        raise _profile_not_found(exc) from None
    except NoCredentialsError:
        raise CloudError(
            f"{what}: no AWS credentials found",
            hint="configure credentials (AWS_PROFILE, SSO or OIDC) or target the local emulator with --emulate",
        ) from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise CloudError(f"{what}: {err.get('Code', 'error')}: {err.get('Message', str(exc))}") from None
    except BotoCoreError as exc:
        raise CloudError(f"{what}: {exc}") from None


def _reraise(exc: Exception) -> None:
    raise exc


def error_code(exc: Exception) -> str:
    """The error code of an SDK ClientError ("" for anything else)."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def caller_account(target: AwsTarget) -> str:
    sts = target.client("sts")
    return call("sts:GetCallerIdentity", sts.get_caller_identity)["Account"]


# ---------------------------------------------------------------- state bucket
def tls_only_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def ensure_state_bucket(
    target: AwsTarget, bucket: str, *, kms_key_id: str | None, noncurrent_days: int, tags: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Create or converge the state bucket. Returns (setting, created|updated|unchanged) pairs."""
    from botocore.exceptions import BotoCoreError, ClientError

    s3 = target.client("s3")
    items: list[tuple[str, str]] = []
    try:
        s3.head_bucket(Bucket=bucket)
        items.append(("bucket", "unchanged"))
    except BotoCoreError as exc:
        call(f"s3:HeadBucket {bucket}", _reraise, exc=exc)
    except ClientError as exc:
        if error_code(exc) in ("403", "AccessDenied"):
            raise CloudError(
                f"s3 bucket {bucket} exists but this account cannot use it",
                hint="bucket names are global: set state.bucket in the environment file to a name you own",
            ) from None
        if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
            raise CloudError(f"s3:HeadBucket {bucket}: {error_code(exc)}") from None
        kwargs: dict[str, Any] = {"Bucket": bucket, "ObjectOwnership": "BucketOwnerEnforced"}
        if target.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": target.region}
        call(f"s3:CreateBucket {bucket}", s3.create_bucket, **kwargs)
        items.append(("bucket", "created"))

    def converge(name: str, current: Callable[[], Any], desired: Any, put: Callable[[], Any]) -> None:
        try:
            now = current()
        except ClientError:
            now = None
        if now == desired:
            items.append((name, "unchanged"))
            return
        put()
        items.append((name, "created" if now is None else "updated"))

    converge(
        "versioning",
        lambda: s3.get_bucket_versioning(Bucket=bucket).get("Status") or None,
        "Enabled",
        lambda: call(
            "s3:PutBucketVersioning",
            s3.put_bucket_versioning,
            Bucket=bucket,
            VersioningConfiguration={"Status": "Enabled"},
        ),
    )
    sse: dict[str, Any] = {"SSEAlgorithm": "aws:kms"}
    if kms_key_id:
        sse["KMSMasterKeyID"] = kms_key_id
    rule = {"ApplyServerSideEncryptionByDefault": sse, "BucketKeyEnabled": True}
    converge(
        "encryption",
        lambda: _strip_rule(s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]),
        rule,
        lambda: call(
            "s3:PutBucketEncryption",
            s3.put_bucket_encryption,
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [rule]},
        ),
    )
    block = {k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")}
    converge(
        "public-access-block",
        lambda: s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"],
        block,
        lambda: call(
            "s3:PutPublicAccessBlock",
            s3.put_public_access_block,
            Bucket=bucket,
            PublicAccessBlockConfiguration=block,
        ),
    )
    policy = tls_only_policy(bucket)
    converge(
        "tls-only-policy",
        lambda: json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]),
        policy,
        lambda: call("s3:PutBucketPolicy", s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(policy)),
    )
    lifecycle = [
        {
            "ID": "expire-noncurrent-state-versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
    ]
    converge(
        "noncurrent-version-lifecycle",
        lambda: _lifecycle_view(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]),
        _lifecycle_view(lifecycle),
        lambda: call(
            "s3:PutBucketLifecycleConfiguration",
            s3.put_bucket_lifecycle_configuration,
            Bucket=bucket,
            LifecycleConfiguration={"Rules": lifecycle},
        ),
    )
    tagset = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    converge(
        "tags",
        lambda: sorted(s3.get_bucket_tagging(Bucket=bucket)["TagSet"], key=lambda t: t["Key"]),
        tagset,
        lambda: call("s3:PutBucketTagging", s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tagset}),
    )
    return items


def _strip_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "ApplyServerSideEncryptionByDefault": rule.get("ApplyServerSideEncryptionByDefault"),
        "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled")),
    }


def _lifecycle_view(rules: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            r.get("ID"),
            r.get("Status"),
            r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
            r.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
        )
        for r in rules
    )


def ensure_lock_table(target: AwsTarget, table: str, *, tags: Mapping[str, str]) -> list[tuple[str, str]]:
    """The optional DynamoDB lock table (LockID hash key, on-demand, encrypted, PITR)."""
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

    ddb = target.client("dynamodb")
    items: list[tuple[str, str]] = []
    try:
        ddb.describe_table(TableName=table)
        items.append(("lock-table", "unchanged"))
    except BotoCoreError as exc:
        call(f"dynamodb:DescribeTable {table}", _reraise, exc=exc)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise CloudError(f"dynamodb:DescribeTable {table}: {error_code(exc)}") from None
        call(
            f"dynamodb:CreateTable {table}",
            ddb.create_table,
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
            Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        )
        try:
            ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        except WaiterError as exc:
            raise CloudError(f"dynamodb table {table} did not become active: {exc}") from None
        items.append(("lock-table", "created"))
    pitr = call(f"dynamodb:DescribeContinuousBackups {table}", ddb.describe_continuous_backups, TableName=table)[
        "ContinuousBackupsDescription"
    ]
    enabled = pitr.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus") == "ENABLED"
    if enabled:
        items.append(("lock-table-pitr", "unchanged"))
    else:
        call(
            "dynamodb:UpdateContinuousBackups",
            ddb.update_continuous_backups,
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        items.append(("lock-table-pitr", "created"))
    return items


def bucket_has_objects(target: AwsTarget, bucket: str) -> bool:
    """Whether a bucket holds any object version or delete marker (a versioned bucket cannot be deleted then)."""
    s3 = target.client("s3")
    page = call(f"s3:ListObjectVersions {bucket}", s3.list_object_versions, Bucket=bucket, MaxKeys=1)
    return bool(page.get("Versions") or page.get("DeleteMarkers"))
