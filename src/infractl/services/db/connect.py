"""Where an environment's databases are, and the services around them (Vault, S3 and KMS for backups).

Locally (`--emulate`) that is the dev stack (`infractl dev up`): its real PostgreSQL as the admin role, its OpenBao,
its S3 (moto) playing the env's bucket and KMS key. Against an environment it is the data stack's applied outputs
(the RDS endpoint, the master user's secret in Secrets Manager, the dedicated tier C instances) read from state as
`render --from-state` does, with VAULT_ADDR/VAULT_TOKEN from the environment. That path needs network access to the
VPC and cannot run on this machine (docs/tenants.md says so)."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from infractl.adapters.pg import PgServer
from infractl.errors import ConfigError, UsageError
from infractl.services.context import Context

SHARED_DATABASE = "controlplane"  # the runtime's database (settings.db_name) and
OWNER_ROLE = "controlplane"  # its role, owner of the shared tables (the runtime's migrations run as it)
KV_MOUNT = "secret"


@dataclass(frozen=True)
class VaultAccess:
    addr: str
    token: str = field(repr=False)
    kv_mount: str = KV_MOUNT


@dataclass(frozen=True)
class S3Access:
    region: str
    endpoint_url: str | None = None  # None: AWS
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class DbEndpoint:
    env: str
    server: PgServer  # the admin role on the shared instance
    database: str = SHARED_DATABASE
    owner_role: str = OWNER_ROLE
    vault: VaultAccess | None = None
    s3: S3Access | None = None
    local: bool = False
    instances: Mapping[str, PgServer] = field(default_factory=dict)  # tier C dedicated instances, by tenant

    def server_for(self, instance: str | None) -> PgServer:
        """The server of a dedicated instance (by tenant), else the shared one."""
        if instance is None:
            return self.server
        try:
            return self.instances[instance]
        except KeyError:
            raise ConfigError(
                f"tenant {instance} has a dedicated instance, but the data stack of {self.env} has none for it",
                hint=f"apply the data stack: infractl apply {self.env} --stack data",
            ) from None

    @property
    def secret_prefix(self) -> str:
        """Where tenant credentials live in Vault's KV (under kv_mount)."""
        return f"controlplane/{self.env}/tenants"


@functools.lru_cache(maxsize=8)
def s3_clients(access: S3Access) -> tuple[Any, Any]:
    """The S3 and KMS clients of an endpoint, made once per process (a client costs ~0.5 s to build)."""
    from infractl.adapters import aws

    target = aws.AwsTarget(
        region=access.region,
        endpoint_url=access.endpoint_url,
        access_key=access.access_key,
        secret_key=access.secret_key,
    )
    return target.client("s3"), target.client("kms")


def vault_client(access: VaultAccess) -> Any:
    import hvac

    return hvac.Client(url=access.addr, token=access.token, timeout=10)


def resolve(ctx: Context, env_name: str, model: Any = None) -> DbEndpoint:
    """The env's database endpoint: the dev stack with --emulate, else the data stack's outputs. `model`: the env
    model when the caller has loaded it already."""
    from infractl.services import environments

    env = model if model is not None else environments.load(ctx.project, env_name)
    if ctx.emulate:
        return _dev_stack(ctx, env)
    return _from_state(ctx, env)


def _dev_stack(ctx: Context, env) -> DbEndpoint:  # env: models.environment.Environment
    from infractl.adapters import emulator
    from infractl.services.dev.statefile import dev_dir, load_state

    state = load_state(dev_dir(ctx.project.work_dir))
    hint = "start it with `infractl dev up` (the local PostgreSQL, OpenBao and S3 that --emulate uses)"
    if state.get("mode") == "docker":
        raise UsageError("the dev stack runs in Docker: tenants and migrations use the native one", hint=hint)
    services = state.get("services") or {}
    pg = services.get("postgres") or {}
    admin_url = (pg.get("extra") or {}).get("admin_url")
    if not admin_url or not state.get("root_token"):
        raise UsageError("the dev stack is not running", hint=hint)
    url = urlsplit(admin_url)
    ports = state.get("ports") or {}
    server = PgServer(
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        label="the dev stack's PostgreSQL",
    )
    # the dev stack plays every instance: a tier C tenant's dedicated instance is the same server locally
    dedicated = {t.name: server for t in env.tenants if t.dedicated_instance}
    return DbEndpoint(
        env=env.name,
        server=server,
        instances=dedicated,
        vault=VaultAccess(addr=f"http://127.0.0.1:{ports['openbao']}", token=state["root_token"]),
        s3=S3Access(
            region=env.region,
            endpoint_url=f"http://127.0.0.1:{ports['s3']}",
            access_key=emulator.FAKE_ACCESS_KEY,
            secret_key=emulator.FAKE_SECRET_KEY,
        ),
        local=True,
    )


def _from_state(ctx: Context, env) -> DbEndpoint:  # env: models.environment.Environment
    from infractl.models.runs import NullProgress
    from infractl.services.stacks import runs

    outputs = runs.applied_outputs(ctx, env.name, ["data"], NullProgress())["data"]
    value = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in outputs.items()}
    target = ctx.aws_target(env)
    secrets = target.client("secretsmanager")

    def master(secret_arn: str, host: str, port: int, label: str) -> PgServer:
        doc: dict[str, Any] = json.loads(secrets.get_secret_value(SecretId=secret_arn)["SecretString"])
        return PgServer(
            host=host, port=int(port), user=doc["username"], password=doc["password"], sslmode="require", label=label
        )

    if not value.get("address") or not value.get("master_user_secret_arn"):
        raise ConfigError(
            f"the data stack of {env.name} has no endpoint in its state",
            hint=f"apply it first: infractl apply {env.name} --stack data",
        )
    server = master(value["master_user_secret_arn"], value["address"], value["port"], f"{env.name}'s RDS instance")
    instances = {
        name: master(i["master_user_secret_arn"], i["address"], i["port"], f"tenant {name}'s RDS instance")
        for name, i in (value.get("tenant_instances") or {}).items()
    }
    addr, token = ctx.environ.get("VAULT_ADDR"), ctx.environ.get("VAULT_TOKEN")
    vault = VaultAccess(addr=addr, token=token) if addr and token else None
    return DbEndpoint(
        env=env.name, server=server, vault=vault, s3=S3Access(region=env.region), local=False, instances=instances
    )
