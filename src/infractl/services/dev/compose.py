"""Docker mode of the dev stack: `docker compose` with the project's compose.yaml, which fixes the services, their
published ports and the environment contract (docs/dev.md). The rule files of compose's Prometheus are written into
deploy/compose/prometheus/rules/ (generated, not committed) before `up`, and Prometheus reloads them after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from infractl.adapters import localservices as ls
from infractl.adapters import process
from infractl.errors import CommandError, ConfigError, ExternalToolError
from infractl.models.dev import DevStatus, DownResult, Health, Progress, ServiceStatus
from infractl.services.dev import monitoring
from infractl.services.dev.contract import DEFAULT_PORTS, HOST
from infractl.services.dev.statefile import empty_state, now, save_state


def compose_file(root: Path) -> Path:
    path = root / "compose.yaml"
    if not path.is_file():
        raise ConfigError(f"{path} not found", hint="Docker mode needs the project's compose.yaml; or use --no-docker")
    return path


def compose_base_argv(command: list[str], root: Path) -> list[str]:
    """The compose invocation every Docker-mode call shares (pure: unit-tested)."""
    return [*command, "-f", str(root / "compose.yaml"), "--project-directory", str(root)]


def _compose(root: Path) -> list[str]:
    compose_file(root)
    return compose_base_argv(ls.compose_command(), root)


def docker_logs_argv(root: Path, service: str | None, lines: int, follow_: bool) -> list[str]:
    """`docker compose logs`: `infractl dev logs` runs it when the stack runs in Docker."""
    argv = [*_compose(root), "logs", "--no-color", "--tail", str(lines)]
    if follow_:
        argv.append("--follow")
    if service:
        argv.append(service)
    return argv


def stream_logs(root: Path, service: str | None, lines: int, follow_: bool, on_line: Callable[[str], None]) -> None:
    """Run `docker compose logs`, each line to on_line; with follow_, until the user stops it (Ctrl-C)."""
    try:
        process.run(docker_logs_argv(root, service, lines, follow_), cwd=root, on_line=on_line)
    except KeyboardInterrupt:
        return


def rules_dir(root: Path) -> Path:
    """The folder compose's Prometheus loads its rule files from (bind-mounted read-only)."""
    return root / "deploy" / "compose" / "prometheus" / "rules"


def up(
    directory: Path,
    root: Path,
    state: dict[str, Any],
    progress: Progress,
    rules: monitoring.RulesSource | None = None,
) -> DevStatus:
    """`docker compose up -d --wait`; the caller holds the lock and chose Docker mode."""
    argv = [*_compose(root), "up", "-d", "--wait"]
    changed = monitoring.sync_rules(rules_dir(root), rules, scratch=directory / "slo")
    progress("docker compose up -d --wait (builds the images on first use)")
    state.update({"mode": "docker", "started_at": state.get("started_at") or now(), "compose_file": str(root)})
    save_state(directory, state)
    try:
        process.run(argv, cwd=root, on_line=progress)
    except CommandError as exc:
        raise ExternalToolError(
            f"docker compose up failed (exit {exc.returncode})",
            details=exc.details[-process.LOG_TAIL_LINES :],
            hint="see `infractl dev logs SERVICE`; stop with `infractl dev down`",
        ) from None
    if changed:  # a Prometheus that was already running has not seen them yet
        ls.reload_url("prometheus", f"http://{HOST}:{DEFAULT_PORTS['prometheus']}/-/reload")
        progress("prometheus: its rule files changed, reloaded")
    return status(directory, root, state)


def status(directory: Path, root: Path, state: Mapping[str, Any]) -> DevStatus:
    """Each compose service's state, from `docker compose ps`."""
    try:
        done = process.run([*_compose(root), "ps", "--all", "--format", "json"], cwd=root)
    except CommandError as exc:
        raise ExternalToolError("docker compose ps failed", details=exc.details) from None
    return DevStatus(
        mode="docker",
        work_dir=str(directory),
        services=parse_compose_ps(done.stdout),
        started_at=state.get("started_at"),
    )


def parse_compose_ps(text: str) -> list[ServiceStatus]:
    """`compose ps --format json`: a JSON array (older v2) or one object per line (v2.21+)."""
    text = text.strip()
    if not text:
        return []
    rows = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    items = []
    for row in rows:
        state = str(row.get("State", "")).lower()
        health_text = str(row.get("Health", "")).lower()
        if state == "exited" and row.get("ExitCode") == 0:
            health: Health = "completed"
        elif state != "running":
            health = "stopped"
        elif health_text in ("", "healthy"):
            health = "healthy"
        else:
            health = "unhealthy"
        ports = [p for p in row.get("Publishers") or [] if p.get("PublishedPort")]
        address = f"{HOST}:{ports[0]['PublishedPort']}" if ports else None
        items.append(
            ServiceStatus(
                name=str(row.get("Service") or row.get("Name")),
                health=health,
                address=address,
                details={"container": str(row.get("Name", "")), "state": state, "status": str(row.get("Status", ""))},
            )
        )
    return items


def down(directory: Path, root: Path, state: Mapping[str, Any], purge: bool, progress: Progress) -> DownResult:
    """`docker compose down` (--volumes with purge); the caller holds the lock."""
    argv = [*_compose(root), "down", "--remove-orphans"]
    if purge:
        argv.append("--volumes")
    progress("docker compose down")
    before = [s.name for s in status(directory, root, state).services if s.health != "stopped"]
    try:
        process.run(argv, cwd=root, on_line=progress)
    except CommandError as exc:
        raise ExternalToolError(f"docker compose down failed (exit {exc.returncode})", details=exc.details) from None
    save_state(directory, empty_state())
    return DownResult(mode="docker", stopped=before, purged=["volumes"] if purge else [])
