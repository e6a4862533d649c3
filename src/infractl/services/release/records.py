"""The files a release leaves in the project (docs/release.md), read and written in one place:

- `releases/<version>.json`: the release manifest (ReleaseManifest; JSON Schema `docs/schemas/release-manifest.json`);
- `releases/pins/<env>.json`: the release an environment runs (Pin); `environments.load` puts its digests in
  `images:`, so `render`/`deploy` use exactly them;
- `releases/promotions.jsonl`: the promotion log, one PromotionRecord per line, append-only.

Every write is atomic (a temporary file renamed over the target): a promotion that fails leaves the old pin whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from infractl.adapters import files
from infractl.errors import ConfigError, UsageError
from infractl.models.environment import NAME
from infractl.models.project import Project
from infractl.models.release import VERSION, Pin, PromotionRecord, ReleaseManifest, ReleaseSummary

SCHEMA_FILE = "docs/schemas/release-manifest.json"
MIGRATIONS_FILE = "src/controlplane/migrations/versions"


def releases_dir(project: Project) -> Path:
    return project.root / "releases"


def manifest_path(project: Project, version: str) -> Path:
    if not re.fullmatch(VERSION, version):
        raise UsageError(
            f"{version!r} is not a release version",
            hint="use letters, digits, '.', '_' or '-' (at most 128, not starting with '.' or '-'): it is a tag",
        )
    return releases_dir(project) / f"{version}.json"


def pin_path(project: Project, env: str) -> Path:
    if not NAME.fullmatch(env):
        raise UsageError(f"{env!r} is not an environment name")
    return releases_dir(project) / "pins" / f"{env}.json"


def log_path(project: Project) -> Path:
    return releases_dir(project) / "promotions.jsonl"


# --- the release manifest -------------------------------------------------------------------------------------------


def load_manifest(project: Project, version: str) -> ReleaseManifest:
    path = manifest_path(project, version)
    shown = project.rel(path)
    if not path.is_file():
        known = ", ".join(list_versions(project)) or "none"
        raise UsageError(
            f"{shown}: no release {version!r}", hint=f"known releases: {known}; build one with `infractl release build`"
        )
    return files.validate(ReleaseManifest, _read_json(path, shown), display=shown)


def list_versions(project: Project) -> list[str]:
    d = releases_dir(project)
    return sorted(p.stem for p in d.glob("*.json")) if d.is_dir() else []


def summaries(project: Project) -> list[ReleaseSummary]:
    """Every release and the environments whose pin runs it."""
    pins = {}
    envs = project.environments_dir
    for f in sorted(envs.glob("*.yaml")) if envs.is_dir() else []:
        if NAME.fullmatch(f.stem) and (pin := load_pin(project, f.stem)) is not None:
            pins[f.stem] = pin.release
    out = []
    for version in list_versions(project):
        m = load_manifest(project, version)
        out.append(
            ReleaseSummary(
                version=version,
                commit=m.source.commit,
                created=m.source.created,
                images={n: i.digest for n, i in m.images.items()},
                running_in=sorted(e for e, v in pins.items() if v == version),
            )
        )
    return out


def write_manifest(project: Project, manifest: ReleaseManifest) -> Path:
    path = manifest_path(project, manifest.version)
    _atomic_write(path, canonical(manifest.model_dump(mode="json")))
    return path


def manifest_sha256(project: Project, version: str) -> str:
    return hashlib.sha256(manifest_path(project, version).read_bytes()).hexdigest()


def schema() -> dict[str, Any]:
    """The JSON Schema of the release manifest (committed as SCHEMA_FILE; a test keeps it equal to the model)."""
    doc = ReleaseManifest.model_json_schema()
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["$id"] = "https://infractl.local/schemas/release-manifest.json"
    return doc


# --- pins and the promotion log -------------------------------------------------------------------------------------


def load_pin(project: Project, env: str) -> Pin | None:
    path = pin_path(project, env)
    if not path.is_file():
        return None
    shown = project.rel(path)
    pin = files.validate(Pin, _read_json(path, shown), display=shown)
    if pin.env != env:
        raise ConfigError(f"{shown}: env: {pin.env!r} differs from the file name", hint="restore the file from git")
    return pin


def write_pin(project: Project, pin: Pin) -> Path:
    path = pin_path(project, pin.env)
    _atomic_write(path, canonical(pin.model_dump(mode="json")))
    return path


def append_log(project: Project, record: PromotionRecord) -> Path:
    """One line, written with a single O_APPEND write and fsynced: concurrent promoters never interleave lines."""
    path = log_path(project)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_log(project: Project) -> list[PromotionRecord]:
    path = log_path(project)
    if not path.is_file():
        return []
    shown = project.rel(path)
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{shown}:{n}: not JSON ({exc.msg})", hint="restore the file from git") from None
            out.append(files.validate(PromotionRecord, data, display=f"{shown}:{n}"))
    return out


def release_layers(project: Project, version: str) -> list[tuple[str, Path]]:
    """(name, blob) of the layers a release's images add on top of the Debian base (the base is Debian's packages,
    listed in the SBOM), from this machine's build of it; each layer once (api and worker share theirs)."""
    manifest = load_manifest(project, version)
    blobs = project.work_dir / "release" / "build" / version / "oci" / "blobs" / "sha256"
    out: dict[str, tuple[str, Path]] = {}
    for name, img in sorted(manifest.images.items()):
        for i, digest in enumerate(img.layers[1:], 1):
            path = blobs / digest.removeprefix("sha256:")
            if not path.is_file():
                raise UsageError(
                    f"release {version}: layer {digest} of {name} is not on this machine ({path})",
                    hint=f"scan where it was built, or build it here: infractl release build --version {version}",
                )
            out.setdefault(digest, (f"{name}:layer{i}", path))
    return list(out.values())


# --- what a release was tested with ---------------------------------------------------------------------------------


def chart_versions(project: Project) -> dict[str, str]:
    out = {}
    for chart in sorted((project.root / "helm").glob("*/Chart.yaml")):
        data = files.read_yaml(chart, display=project.rel(chart))
        out[chart.parent.name] = str(data.get("version", ""))
    return out


def terraform_hashes(project: Project) -> dict[str, str]:
    """sha256 over (path, content hash) of every file of each module and stack folder: equal hashes, equal code."""
    out = {}
    tf = project.terraform_dir
    for kind in ("modules", "stacks"):
        for cloud in sorted(p for p in (tf / kind).glob("*") if p.is_dir()):
            for folder in sorted(p for p in cloud.iterdir() if p.is_dir()):
                out[str(folder.relative_to(tf))] = tree_hash(folder)
    return out


def tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and ".terraform" not in p.parts):
        h.update(f"{f.relative_to(folder).as_posix()}\0{hashlib.sha256(f.read_bytes()).hexdigest()}\n".encode())
    return "sha256:" + h.hexdigest()


def migration_head(project: Project) -> dict[str, int | str]:
    """The newest migration the runtime ships: the highest revision id of its chain (docs/migrations.md)."""
    from infractl.adapters import migrations

    return {"head": migrations.declared_head(project.root) or "none", "source": MIGRATIONS_FILE}


# --- helpers --------------------------------------------------------------------------------------------------------


def canonical(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _read_json(path: Path, shown: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{shown}: not valid JSON ({exc})", hint="restore the file from git") from None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
