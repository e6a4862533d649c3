"""Remote state: the S3 bucket (and optional DynamoDB lock table) every stack's backend uses."""

from __future__ import annotations

from dataclasses import dataclass

from infractl.adapters import aws
from infractl.errors import CloudError
from infractl.models.environment import Environment
from infractl.models.state import StateBackend, StateItem
from infractl.services import environments
from infractl.services.context import Context


@dataclass(frozen=True)
class Target:
    """One environment resolved once per command: its model, where its API calls go, and the account they reach."""

    env: Environment
    aws: aws.AwsTarget
    account: str


def resolve(ctx: Context, env_name: str, *, start_emulator: bool = False) -> Target:
    """Load the environment and check the credentials against it (one STS call)."""
    env = environments.load(ctx.project, env_name)
    target = ctx.aws_target(env, start_emulator=start_emulator)
    return Target(env=env, aws=target, account=effective_account(ctx, env, target))


def effective_account(ctx: Context, env: Environment, target: aws.AwsTarget) -> str:
    """The account the run targets: the emulator's own, or the env's after checking the credentials match it."""
    account = aws.caller_account(target)
    if not ctx.emulate and account != env.account:
        raise CloudError(
            f"the AWS credentials belong to account {account}, but environment {env.name} is account {env.account}",
            hint="switch credentials (AWS_PROFILE) to the environment's account",
        )
    return account


def describe(env: Environment, account: str, *, emulated: bool) -> StateBackend:
    return StateBackend(
        env=env.name,
        emulated=emulated,
        account=account,
        region=env.region,
        bucket=env.state_bucket(account),
        lock=env.state.lock,
        lock_table=env.state_lock_table(),
        kms_key_id=env.state.kms_key_id,
        key_pattern=f"{env.name}/<stack>.tfstate",
    )


def bootstrap(ctx: Context, env_name: str, *, target: Target | None = None) -> StateBackend:
    """Create or converge the state bucket and lock table. Idempotent: a second run reports every item unchanged.
    A caller that resolved the env already passes its target (the env is loaded and STS asked once a command)."""
    target = target or resolve(ctx, env_name, start_emulator=True)
    env = target.env
    backend = describe(env, target.account, emulated=ctx.emulate)
    items = aws.ensure_state_bucket(
        target.aws,
        backend.bucket,
        kms_key_id=env.state.kms_key_id,
        noncurrent_days=env.state.noncurrent_version_days,
        tags=env.tags,
    )
    if backend.lock_table:
        items += aws.ensure_lock_table(target.aws, backend.lock_table, tags=env.tags)
    return backend.model_copy(update={"items": [StateItem(name=n, status=s) for n, s in items]})


BACKEND_ENDPOINTS = ("s3", "dynamodb", "iam", "sso", "sts")


def backend_config(backend: StateBackend, stack: str, *, emulator_url: str | None) -> str:
    """The -backend-config file for one stack's partial `backend "s3" {}` block."""
    lines = [
        f'bucket       = "{backend.bucket}"',
        f'key          = "{backend.env}/{stack}.tfstate"',
        f'region       = "{backend.region}"',
        "use_lockfile = true" if backend.lock == "s3" else f'dynamodb_table = "{backend.lock_table}"',
    ]
    if backend.kms_key_id:
        lines += ["encrypt      = true", f'kms_key_id   = "{backend.kms_key_id}"']
    # Otherwise no `encrypt`: Terraform would ask for SSE-S3 (AES256) explicitly, overriding the bucket's
    # default SSE-KMS encryption that `infractl state bootstrap` enforces.
    if emulator_url:
        from infractl.adapters.emulator import FAKE_ACCESS_KEY, FAKE_SECRET_KEY

        lines += [
            "# the local emulator: loopback only, fake credentials",
            # every endpoint the S3 backend has (Terraform 1.11: s3, dynamodb, iam, sso, sts)
            "endpoints = { " + ", ".join(f'{svc} = "{emulator_url}"' for svc in BACKEND_ENDPOINTS) + " }",
            "use_path_style              = true",
            "skip_metadata_api_check     = true",
            f'access_key = "{FAKE_ACCESS_KEY}"',
            f'secret_key = "{FAKE_SECRET_KEY}"',
        ]
    return "\n".join(lines) + "\n"
