"""The container registry a command talks to: the local registry of the work folder (`infractl registry
start|stop|status|ls`; every release command in emulate mode) or, for real, the environment account's ECR.

Entry points: `start`, `stop`, `status`, `listing` for the CLI; `ensure`, `client` and `for_env` for the release
commands. One repository per environment: `<env>/<image>` (`repository`), in the local registry and in ECR alike.
The local registry is Debian's docker-registry on the `localservices` supervisor; its record (a
`localservices.Running`) is <work_dir>/registry/state.json, so a later command finds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infractl.adapters import aws, files, process
from infractl.adapters import localservices as ls
from infractl.adapters.registry import RegistryClient
from infractl.errors import RegistryError, UsageError
from infractl.models.environment import Environment, aws_regions
from infractl.models.registry import RegistryListing, RegistryState, Repository
from infractl.services.context import Context

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def repository(env: str, image: str) -> str:
    """The repository of `image` in environment `env`: one repository per environment, `<env>/<image>`."""
    return f"{env}/{image}"


def status(ctx: Context) -> RegistryState:
    """Whether the local registry runs (its process is the one recorded and it answers /v2/)."""
    directory = ctx.project.registry_dir
    base = {"storage_dir": str(directory / "storage"), "log": str(directory / "registry.log")}
    r = _recorded(directory)
    if r is None:
        return RegistryState(running=False, **base)
    if ls.is_healthy(r):
        return RegistryState(running=True, url=r.url, host=r.address, port=r.port, pid=r.pid, **base)
    state_file = directory / "state.json"
    if process.is_running(r.handle):
        note = f"pid {r.pid} (recorded in {state_file}) runs but does not answer {r.url}/v2/"
    else:
        note = f"the registry recorded in {state_file} (pid {r.pid}, port {r.port}) is no longer running"
    return RegistryState(running=False, pid=r.pid, port=r.port, note=note, **base)


def start(ctx: Context, *, port: int | None = None) -> tuple[RegistryState, bool]:
    """Start the local registry unless it runs already: (state, started now). Its storage is kept across restarts."""
    directory = ctx.project.registry_dir
    with _locked(directory):
        current = status(ctx)
        if current.running:
            return current, False
        recorded = _recorded(directory)
        if recorded is not None and process.is_running(recorded.handle):
            # alive but slow to answer (a busy machine): wait for it rather than start a second one on the storage
            ls.wait_healthy(recorded, START_TIMEOUT_S)
            return status(ctx), False
        if port and not ls.port_is_free(port):
            raise UsageError(f"port {port} on 127.0.0.1 is in use", hint="pick another --port, or omit it")
        running = ls.start_registry(directory, port or ls.free_port(), wait=START_TIMEOUT_S)
        files.write_json(directory / "state.json", running.to_dict())
        return status(ctx), True


def stop(ctx: Context) -> tuple[RegistryState, bool]:
    """Stop the local registry: (state afterwards, whether it was running). Its storage stays."""
    directory = ctx.project.registry_dir
    with _locked(directory):
        r = _recorded(directory)
        if r is None:
            return status(ctx), False
        was_running = process.is_running(r.handle)
        left = ls.stop(r, timeout=STOP_TIMEOUT_S)
        if left:
            raise RegistryError(
                f"the local registry (pid {r.pid}) did not stop: pid(s) {', '.join(map(str, left))} still run",
                hint="stop them by hand (kill PID), then run `infractl registry stop` again",
            )
        (directory / "state.json").unlink(missing_ok=True)
        return status(ctx), was_running


def ensure(ctx: Context) -> RegistryState:
    """The running local registry, started when it is not."""
    return start(ctx)[0]


def client(ctx: Context) -> RegistryClient:
    """A client of the local registry, started when it is not."""
    url = ensure(ctx).url
    if not url:  # cannot happen: a running registry has a URL
        raise RegistryError("the local registry runs but its state has no URL", hint="infractl registry stop; start")
    return RegistryClient(url)


def listing(ctx: Context) -> RegistryListing:
    """The repositories of the running local registry and their tags."""
    state = status(ctx)
    if not state.running or not state.url:
        raise RegistryError(
            "the local registry is not running" + (f": {state.note}" if state.note else ""),
            hint="start it with `infractl registry start` (its storage is kept)",
        )
    c = RegistryClient(state.url)
    try:
        repos = [Repository(name=name, tags=c.tags(name)) for name in c.catalog()]
    finally:
        c.close()
    return RegistryListing(url=state.url, repositories=repos)


def for_env(ctx: Context, env: Environment) -> tuple[RegistryClient, str]:
    """(client, repository prefix) of env's registry: the local registry in emulate mode, else the ECR registry of
    env's account and region, logged in with an ecr:GetAuthorizationToken token. The prefix is "<env>/"."""
    prefix = f"{env.name}/"
    if ctx.emulate:
        return client(ctx), prefix
    ecr = ctx.aws_target(env).client("ecr")
    return RegistryClient(ecr_url(env.account, env.region), auth=ecr_credentials(ecr)), prefix


def ecr_url(account: str, region: str) -> str:
    """The registry of an account in a region (the .com.cn domain in the China partition)."""
    suffix = ".cn" if aws_regions().get(region) == "aws-cn" else ""
    return f"https://{account}.dkr.ecr.{region}.amazonaws.com{suffix}"


def ecr_credentials(ecr: Any) -> tuple[str, str]:
    """(user, password) for ECR from ecr:GetAuthorizationToken: base64 "AWS:<token>", valid 12 hours."""
    import base64
    import binascii

    answer = aws.call("ecr:GetAuthorizationToken", ecr.get_authorization_token)
    try:
        token = answer["authorizationData"][0]["authorizationToken"]
        user, _, password = base64.b64decode(token).decode().partition(":")
    except (KeyError, IndexError, TypeError, binascii.Error, UnicodeDecodeError):
        user = password = ""
    if not user or not password:
        raise RegistryError("ecr:GetAuthorizationToken returned no usable token", hint="check the ECR API endpoint")
    return user, password


def _recorded(directory: Path) -> ls.Running | None:
    try:
        return ls.Running.from_dict(json.loads((directory / "state.json").read_text()))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        return None


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One start/stop at a time per work folder (release commands run in parallel may all `ensure` it)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / "lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
