"""A dev stack made of what tenants need (PostgreSQL, OpenBao, moto S3 + KMS) on free loopback ports, recorded as
the dev stack's state so `--emulate` resolves it, with a project whose dev.yaml lists the given tier C tenants, the
runtime's role and database, and the shared schema at head. Used by the tenant tests and the tenant benchmark."""

from __future__ import annotations

import contextlib
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


@dataclass
class LocalTenantStack:
    root: Path  # the project (environments/ only)
    work: Path  # its work folder (INFRACTL_WORK_DIR), holding the dev stack's state
    ports: dict[str, int]
    token: str = field(repr=False)


@contextlib.contextmanager
def local_tenant_stack(
    base: Path, tier_c: tuple[str, ...] | list[str], *, wait: float = 30.0, env_model: dict[str, Any] | None = None
) -> Iterator[LocalTenantStack]:
    """`env_model`: top-level keys set in the project's dev.yaml (e.g. {"evidence": {...}})."""
    import psycopg
    import yaml

    from infractl.adapters import localservices as ls
    from infractl.models.db import SHARED, Target
    from infractl.services.context import build
    from infractl.services.db import connect
    from infractl.services.db.migrate import migrate_target
    from infractl.services.dev.statefile import dev_dir, save_state

    root = base / "project"
    shutil.copytree(REPO / "environments", root / "environments")
    env_file = root / "environments" / "dev.yaml"
    model = yaml.safe_load(env_file.read_text())
    group = {"instance_types": ["t3.large"], "min_size": 0, "max_size": 1, "desired_size": 0}
    model["tenants"] = [{"name": n, "node_group": group} for n in tier_c]
    model.update(env_model or {})
    env_file.write_text(yaml.safe_dump(model, sort_keys=False))
    token = "tenant-root-" + secrets.token_hex(8)
    ports = {name: ls.free_port() for name in ("postgres", "openbao", "s3")}
    services: dict[str, Any] = {}
    try:
        services["postgres"] = ls.start_postgres(base / "svc", ports["postgres"], wait=None)
        services["openbao"] = ls.start_openbao(base / "svc", ports["openbao"], token, wait=None)
        services["s3"] = ls.start_moto_s3(base / "svc", ports["s3"], wait=None)
        for running in services.values():
            ls.wait_healthy(running, wait)
        work = base / "work"
        state = {"services": {"postgres": services["postgres"].to_dict()}, "ports": ports, "root_token": token}
        save_state(dev_dir(work), {"version": 1, "mode": "native", **state})
        with psycopg.connect(host="127.0.0.1", port=ports["postgres"], user="postgres", autocommit=True) as conn:
            # the runtime's role and database, as the dev stack's seed makes them
            conn.execute("CREATE ROLE controlplane LOGIN PASSWORD 'runtime-pw'")  # pragma: allowlist secret
            conn.execute("CREATE DATABASE controlplane OWNER controlplane")
        stack = LocalTenantStack(root=root, work=work, ports=ports, token=token)
        with _environ(work):
            endpoint = connect.resolve(build(root=root, emulate=True), "dev")
            shared = migrate_target(endpoint, Target(name=SHARED, kind="shared", database="controlplane"))
            assert shared.status == "applied", shared.error
            yield stack
    finally:
        for running in reversed(list(services.values())):
            ls.stop(running)
        if "postgres" in services:
            ls.remove_postgres_data(services["postgres"])


@contextlib.contextmanager
def _environ(work: Path) -> Iterator[None]:
    """INFRACTL_WORK_DIR set to `work` and INFRACTL_EMULATE unset while the stack is up; restored after."""
    import os

    saved = {k: os.environ.get(k) for k in ("INFRACTL_WORK_DIR", "INFRACTL_EMULATE")}
    os.environ["INFRACTL_WORK_DIR"] = str(work)
    os.environ.pop("INFRACTL_EMULATE", None)
    try:
        yield None
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
