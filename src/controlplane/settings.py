"""The environment contract (docs/runtime.md#environment): one pydantic-settings model, read once per process.

Secret values never come from here except VAULT_TOKEN (local token auth only): the DB password and the S3 keys are
read from Vault/OpenBao KV v2 at run time (adapters/vault.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from controlplane.errors import SettingsError

PREFIX = "CONTROLPLANE_"
SECRET_VARIABLES = frozenset({"VAULT_TOKEN"})  # never echoed in an error message
RELEASE_MAX = 128
RELEASE_PATTERN = re.compile(rf"[A-Za-z0-9._+-]{{0,{RELEASE_MAX}}}")  # a safe header value (an HTTP token)


class VaultAuth(StrEnum):
    TOKEN = "token"  # local development: VAULT_TOKEN
    KUBERNETES = "kubernetes"  # in a cluster: the pod's service-account token, CONTROLPLANE_VAULT_ROLE


class S3Credentials(StrEnum):
    VAULT = "vault"  # keys from KV v2 secret/controlplane/object-store (MinIO, moto)
    AMBIENT = "ambient"  # the default AWS credential chain (IRSA / workload identity in a cluster)


class LockMode(StrEnum):
    COMPLIANCE = "COMPLIANCE"  # nobody, root included, shortens or removes the retention
    GOVERNANCE = "GOVERNANCE"  # a principal with s3:BypassGovernanceRetention can


def _env(name: str) -> Any:
    """A field read from a variable without the CONTROLPLANE_ prefix (VAULT_*, OTEL_*)."""
    return AliasChoices(name)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", case_sensitive=False)

    # PostgreSQL. The password is the KV v2 secret <vault_kv_mount>/<db_secret_path>, key `password`.
    db_host: str = "127.0.0.1"
    db_port: int = Field(5432, ge=1, le=65535)
    db_name: str = "controlplane"
    db_user: str = "controlplane"
    db_secret_path: str = "controlplane/database"
    db_pool_min: int = Field(1, ge=0)
    db_pool_max: int = Field(10, ge=1)
    db_connect_timeout: float = Field(5.0, gt=0)

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "controlplane-runs"

    # Object store (S3 API)
    s3_endpoint_url: str | None = None  # empty = AWS
    s3_region: str = "eu-west-1"
    evidence_bucket: str = "controlplane-evidence"
    s3_credentials: S3Credentials = S3Credentials.VAULT
    s3_secret_path: str = "controlplane/object-store"

    # Evidence ledger (docs/runtime.md#evidence): each run's document is PUT locked (this mode, until now + these
    # days) in the evidence bucket, then one entry is appended to the ledger (controlplane.ledger) signed with this
    # Vault/OpenBao transit key; a checkpoint is signed every `evidence_checkpoint_every` entries
    evidence_lock_mode: LockMode = LockMode.COMPLIANCE
    evidence_retention_days: int = Field(1, ge=1, le=36_500)
    evidence_transit_key: str = Field("infractl-evidence-dev", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    evidence_transit_mount: str = Field("transit", min_length=1, pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")
    evidence_checkpoint_every: int = Field(1000, ge=1)

    # Secrets backend (Vault / OpenBao)
    vault_addr: str = Field("http://127.0.0.1:8200", validation_alias=_env("VAULT_ADDR"))
    vault_token: SecretStr | None = Field(None, validation_alias=_env("VAULT_TOKEN"))
    vault_auth: VaultAuth = VaultAuth.TOKEN
    vault_role: str | None = None
    vault_kv_mount: str = "secret"
    vault_kubernetes_mount: str = "kubernetes"
    vault_jwt_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    vault_timeout: float = Field(5.0, gt=0)
    secret_cache_seconds: float = Field(300.0, ge=0)  # a short Vault outage does not break DB reconnects

    # OpenTelemetry traces and logs (the SDK's own variables; empty endpoint = no export)
    otel_exporter_otlp_endpoint: str | None = Field(None, validation_alias=_env("OTEL_EXPORTER_OTLP_ENDPOINT"))
    otel_service_name: str | None = Field(None, validation_alias=_env("OTEL_SERVICE_NAME"))
    # "none" turns one signal's export off while the endpoint stays set (e.g. logs collected from stdout by the node)
    otel_traces_exporter: Literal["otlp", "none"] = Field("otlp", validation_alias=_env("OTEL_TRACES_EXPORTER"))
    otel_logs_exporter: Literal["otlp", "none"] = Field("otlp", validation_alias=_env("OTEL_LOGS_EXPORTER"))

    # Prometheus metrics (controlplane.metrics): GET /metrics on this address; port 0 = no metrics at all
    metrics_host: str = "0.0.0.0"
    metrics_port: int = Field(0, ge=0, le=65535)

    # The worker's periodic check of the evidence ledger's hash chain (controlplane.chaincheck); 0 = off
    evidence_verify_interval_s: float = Field(60.0, ge=0)

    # Dev/test only: the API's fault switch (controlplane.faults); unset = off. Production never sets it.
    faults_file: Path | None = None

    # API
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=0, le=65535)
    ready_timeout: float = Field(2.0, gt=0)  # per dependency, /readyz
    # request bodies, refused (413) before parsing; at most 512 KiB: the evidence travels in the workflow input, which
    # Temporal caps at 2 MiB, and its JSON encoding (ASCII escapes) can be 3 times the UTF-8 body
    max_body_bytes: int = Field(256 * 1024, ge=1024, le=512 * 1024)
    idempotency_key_ttl: float = Field(86_400.0, ge=60)  # seconds an Idempotency-Key stays bound to its run
    # the release label of this api (stable or canary of a rollout): every response carries it in
    # X-Controlplane-Release (controlplane.releaseheader); empty = no header
    release: str = ""

    # Worker
    relay_interval: float = Field(0.5, gt=0)  # seconds between outbox polls when idle
    relay_batch: int = Field(100, ge=1)
    activity_initial_retry: float = Field(0.5, gt=0)  # seconds, first activity retry interval

    # api and worker: seconds between process_heartbeats upserts (controlplane.heartbeat); a row lives 3x this
    heartbeat_seconds: float = Field(10.0, gt=0, le=3600)

    log_level: str = "INFO"

    @field_validator("s3_endpoint_url", "otel_exporter_otlp_endpoint", "vault_role", "faults_file", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("vault_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("evidence_lock_mode", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("temporal_address")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"expected host:port, got {value!r}")
        return value

    @field_validator("vault_addr", "s3_endpoint_url", "otel_exporter_otlp_endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http:// or https:// URL, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("release")
    @classmethod
    def _release(cls, value: str) -> str:
        if not RELEASE_PATTERN.fullmatch(value):
            raise ValueError(f"expected at most {RELEASE_MAX} letters, digits, '.', '_', '-' or '+'")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {value!r}")
        return level

    @model_validator(mode="after")
    def _auth_inputs(self) -> Settings:
        if self.vault_auth is VaultAuth.TOKEN and self.vault_token is None:
            raise ValueError("VAULT_TOKEN is required when CONTROLPLANE_VAULT_AUTH=token")
        if self.vault_auth is VaultAuth.KUBERNETES and not self.vault_role:
            raise ValueError("CONTROLPLANE_VAULT_ROLE is required when CONTROLPLANE_VAULT_AUTH=kubernetes")
        if self.db_pool_min > self.db_pool_max:
            raise ValueError("CONTROLPLANE_DB_POOL_MIN must not exceed CONTROLPLANE_DB_POOL_MAX")
        if self.db_pool_max < 2:
            # the outbox relay holds one connection for its claim transaction while the sink uses another
            raise ValueError("CONTROLPLANE_DB_POOL_MAX must be at least 2")
        return self

    def service_name(self, default: str) -> str:
        return self.otel_service_name or default


def env_name(field: str) -> str:
    """The environment variable a Settings field is read from."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return PREFIX + field.upper()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from the process environment (or `env`); a wrong value raises SettingsError naming the variable."""
    try:
        if env is None:
            return Settings()
        # An explicit mapping replaces the process environment entirely: read it as init values under the env names.
        upper = {key.upper(): value for key, value in env.items()}
        values = {}
        for field, info in Settings.model_fields.items():
            name = env_name(field)
            if name in upper:
                values[name if info.validation_alias else field] = upper[name]
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError("invalid runtime settings (environment variables)", details=_lines(exc)) from None


def _lines(exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"]]
        message = error["msg"].removeprefix("Value error, ")
        if loc:
            name = env_name(loc[0])
            shown = error.get("input")
            if name not in SECRET_VARIABLES and isinstance(shown, str) and "got " not in message:
                message += f" (got {shown!r})"
            lines.append(f"{name}: {message}")
        else:
            lines.append(message)
    return lines
