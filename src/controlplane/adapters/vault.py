"""SecretStore adapter: Vault / OpenBao KV v2 through hvac (docs/runtime.md#secrets).

Auth: `token` (VAULT_TOKEN, local development) or `kubernetes` (the pod's service-account JWT exchanged for a
Vault token with CONTROLPLANE_VAULT_ROLE; re-login once on 403 when that token expires). The same client signs the
evidence ledger's entries with the transit engine (adapters/ledger.py, through `client_sync`).

Nothing read here is logged or put on a span: values are registered with the redaction registry before they are
returned, errors carry only Vault's error list (never a response body), and hvac's HTTP traffic is not traced.
Values are cached for CONTROLPLANE_SECRET_CACHE_SECONDS so a short Vault outage does not break DB reconnects;
`ping()` always asks Vault.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from controlplane.errors import SecretsError
from controlplane.redaction import SECRETS, SecretRegistry
from controlplane.settings import Settings, VaultAuth


class VaultSecretStore:
    def __init__(
        self,
        addr: str,
        *,
        auth: VaultAuth = VaultAuth.TOKEN,
        token: str | None = None,
        role: str | None = None,
        kv_mount: str = "secret",
        kubernetes_mount: str = "kubernetes",
        jwt_path: str = "/var/run/secrets/kubernetes.io/serviceaccount/token",
        timeout: float = 5.0,
        cache_seconds: float = 300.0,
        registry: SecretRegistry = SECRETS,
    ) -> None:
        self.addr = addr
        self.auth = auth
        self.role = role
        self.kv_mount = kv_mount
        self.kubernetes_mount = kubernetes_mount
        self.jwt_path = Path(jwt_path)
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.registry = registry
        self._token = token
        registry.add(token)
        self._client: Any = None
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}

    @classmethod
    def from_settings(cls, settings: Settings, registry: SecretRegistry = SECRETS) -> VaultSecretStore:
        return cls(
            settings.vault_addr,
            auth=settings.vault_auth,
            token=settings.vault_token.get_secret_value() if settings.vault_token else None,
            role=settings.vault_role,
            kv_mount=settings.vault_kv_mount,
            kubernetes_mount=settings.vault_kubernetes_mount,
            jwt_path=settings.vault_jwt_path,
            timeout=settings.vault_timeout,
            cache_seconds=settings.secret_cache_seconds,
            registry=registry,
        )

    # ------------------------------------------------------------ port

    async def read(self, path: str) -> dict[str, str]:
        cached = self._cache.get(path)
        if cached and time.monotonic() - cached[0] < self.cache_seconds:
            return dict(cached[1])
        try:
            data = await asyncio.to_thread(self.read_sync, path)
        except SecretsError:
            if cached:  # Vault is away: serve the last value rather than break every reconnect
                return dict(cached[1])
            raise
        return data

    async def ping(self) -> None:
        await asyncio.to_thread(self.ping_sync)

    # ------------------------------------------------------------ sync API (migrate, seed, threads)

    def read_sync(self, path: str) -> dict[str, str]:
        def _read(client: Any) -> dict[str, str]:
            response = client.secrets.kv.v2.read_secret_version(
                path=path, mount_point=self.kv_mount, raise_on_deleted_version=True
            )
            return {str(k): str(v) for k, v in (response.get("data", {}).get("data") or {}).items()}

        data = self._call(f"read {self.kv_mount}/{path}", _read)
        self.registry.add_mapping(data)
        self._cache[path] = (time.monotonic(), data)
        return dict(data)

    def read_key_sync(self, path: str, key: str) -> str:
        data = self.read_sync(path)
        if key not in data:
            raise SecretsError(f"secret {self.kv_mount}/{path} has no key {key!r}")
        return data[key]

    async def read_key(self, path: str, key: str) -> str:
        data = await self.read(path)
        if key not in data:
            raise SecretsError(f"secret {self.kv_mount}/{path} has no key {key!r}")
        return data[key]

    def write_sync(self, path: str, data: dict[str, str]) -> None:
        """Write a KV v2 secret (the dev seeder; the runtime itself only reads)."""
        self.registry.add_mapping(data)
        self._call(
            f"write {self.kv_mount}/{path}",
            lambda c: c.secrets.kv.v2.create_or_update_secret(path=path, secret=data, mount_point=self.kv_mount),
        )
        self._cache.pop(path, None)

    def ping_sync(self) -> None:
        def _ping(client: Any) -> None:
            health = client.sys.read_health_status(method="GET")
            status = getattr(health, "status_code", 200)
            if isinstance(health, dict):
                if health.get("sealed"):
                    raise SecretsError("secrets backend is sealed")
            elif status not in (200, 429, 472, 473):
                raise SecretsError(f"secrets backend health answered {status}")
            client.auth.token.lookup_self()  # the token is valid (the answer is discarded, never logged)

        self._call("health", _ping)

    def client_sync(self) -> Any:
        """The logged-in hvac client, for the engines this store does not wrap (the ledger's transit signer):
        one client and one login per process. After a 403 with kubernetes auth, `relogin()` and ask again."""
        return self._call("login", lambda client: client)

    def relogin(self) -> None:
        """Drop the client: the next call logs in again (kubernetes auth; its Vault token expired)."""
        with self._lock:
            self._client = None

    # ------------------------------------------------------------ internals

    def _new_client(self) -> Any:
        import hvac

        client = hvac.Client(url=self.addr, timeout=self.timeout)
        if self.auth is VaultAuth.TOKEN:
            if not self._token:
                raise SecretsError("VAULT_TOKEN is not set (CONTROLPLANE_VAULT_AUTH=token)")
            client.token = self._token
        else:
            try:
                jwt = self.jwt_path.read_text().strip()
            except OSError as exc:
                raise SecretsError(f"cannot read the service-account token {self.jwt_path}: {exc.strerror}") from None
            self.registry.add(jwt)
            response = client.auth.kubernetes.login(
                role=self.role, jwt=jwt, use_token=True, mount_point=self.kubernetes_mount
            )
            self.registry.add(response.get("auth", {}).get("client_token"))
        return client

    def _call(self, what: str, fn: Any) -> Any:
        import hvac.exceptions
        import requests

        for attempt in (1, 2):
            try:
                with self._lock:
                    if self._client is None:
                        self._client = self._new_client()
                    client = self._client
                return fn(client)
            except hvac.exceptions.Forbidden as exc:
                if self.auth is VaultAuth.KUBERNETES and attempt == 1:
                    with self._lock:
                        self._client = None  # the login token expired: log in again once
                    continue
                raise SecretsError(f"secrets backend refused {what}: {_errors(exc)}") from None
            except hvac.exceptions.InvalidPath:
                raise SecretsError(f"secrets backend: {what}: no such secret") from None
            except hvac.exceptions.VaultError as exc:
                raise SecretsError(f"secrets backend failed {what}: {type(exc).__name__}: {_errors(exc)}") from None
            except requests.RequestException as exc:
                raise SecretsError(
                    f"secrets backend unreachable at {self.addr} ({what}): {type(exc).__name__}"
                ) from None
        raise SecretsError(f"secrets backend refused {what}")  # pragma: no cover - loop always returns or raises


def _errors(exc: Any) -> str:
    """Vault's error list only: the exception's text/json (a response body) is never shown."""
    errors = getattr(exc, "errors", None)
    if isinstance(errors, list | tuple) and errors:
        return "; ".join(str(e) for e in errors)[:300]
    return type(exc).__name__
