"""`release build`'s images without a daemon: controlplane-api and controlplane-worker as one OCI image layout.

Three layers, shared by both images (the same blobs), then one config each (docs/images.md, "Local builds without
a daemon"):
  1. base — Debian from mmdebstrap, cached by the digest of its inputs (base.py);
  2. deps — /opt/venv with the project's dependencies and its `runtime` extra (what the Dockerfiles' `install` stage
     puts there, minus the project), pip on the host, cached by the requirements + Python version (layer.py);
  3. app  — the project itself (pip --no-deps) and /etc/passwd, /etc/group with the user the runtime stage's
     groupadd/useradd creates.
The config of each image (Env, User, WorkingDir, ExposedPorts, Cmd, Labels) is read from the `runtime` stage of its
Dockerfile, so the Dockerfiles stay the one description of the images; what that stage does that the local build
cannot reproduce (any other RUN, COPY or instruction) is refused.

Same commit (epoch = its time) + same cache inputs = same digests: every tar is deterministic, umoci compresses
deterministically, and every timestamp is the epoch (the base and deps layers use their own fixed epochs, so they
stay the same blobs across commits).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from infractl.errors import ConfigError, ExternalToolError, UsageError
from infractl.services.release import layer
from infractl.services.release.base import (
    BASE_EPOCH,
    BaseFacts,
    BaseImage,
    base_facts,
    base_image,
    blob_path,
    digest_of,
    manifest_of,
    read_blob,
    rfc3339,
    umoci,
)

IMAGE_NAMES = ("controlplane-api", "controlplane-worker")
DOCKERFILES = {"controlplane-api": "Dockerfile.api", "controlplane-worker": "Dockerfile.worker"}
DEPS_FORMAT = 1  # bump when the deps layer is assembled differently: part of its cache key
DEPS_EPOCH = BASE_EPOCH  # the deps layer's timestamps: fixed, so it stays the same blob from commit to commit
VERSION_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class BuiltImage:
    name: str
    layout: Path
    ref_name: str  # "<image>:<version>" in the layout's index
    digest: str  # the manifest's digest: what a registry will report after a push
    config_digest: str
    layers: tuple[Path, ...]  # blob paths, bottom to top
    size: int  # manifest + config + layers, bytes


@dataclass(frozen=True)
class Account:
    """The user and group the runtime stage's groupadd/useradd create."""

    name: str
    group: str
    uid: int
    gid: int
    home: str = "/nonexistent"
    shell: str = "/usr/sbin/nologin"


@dataclass(frozen=True)
class RuntimeStage:
    """The image config a Dockerfile's `runtime` stage declares (with the build arguments applied)."""

    env: tuple[str, ...]
    user: str
    workdir: str
    exposed_ports: tuple[str, ...]
    cmd: tuple[str, ...]
    labels: dict[str, str] = field(default_factory=dict)
    account: Account | None = None


# --- the Dockerfile's runtime stage --------------------------------------------------------------------------------

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def _instructions(text: str) -> list[tuple[int, str, str]]:
    """(line, KEYWORD, arguments) per instruction: continuations joined, comment lines dropped."""
    found: list[tuple[int, str, str]] = []
    buffer, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not buffer:
            start = number
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        keyword, _, rest = (buffer + line).partition(" ")
        found.append((start, keyword.upper(), rest.strip()))
        buffer = ""
    return found


def _expand(value: str, variables: Mapping[str, str]) -> str:
    return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)


def runtime_stage(dockerfile: Path, build_args: Mapping[str, str], base_env: Sequence[str]) -> RuntimeStage:
    """The config of dockerfile's `runtime` stage, over an image whose Env is base_env (for `$PATH`)."""
    where = dockerfile.name
    try:
        instructions = _instructions(dockerfile.read_text())
    except OSError as exc:
        raise ConfigError(f"{dockerfile}: cannot read it ({exc.strerror})") from exc
    starts = [i for i, (_, kw, rest) in enumerate(instructions) if kw == "FROM" and _is_runtime(rest)]
    if not starts:
        raise ConfigError(
            f"{where}: no `FROM … AS runtime` stage", hint="the last stage of the image must be `runtime`"
        )
    env = dict(e.split("=", 1) for e in base_env)
    args: dict[str, str] = {}
    user = workdir = ""
    ports: list[str] = []
    cmd: list[str] = []
    labels: dict[str, str] = {}
    account: Account | None = None
    for line, keyword, rest in instructions[starts[-1] + 1 :]:
        if keyword == "FROM":
            break
        variables = args | env
        if keyword == "ARG":
            name, has_default, default = rest.partition("=")
            args[name] = build_args.get(name, _expand(default, variables) if has_default else "")
        elif keyword == "ENV":
            tokens = shlex.split(rest)
            pairs = [t.split("=", 1) for t in tokens] if "=" in tokens[0] else [[tokens[0], " ".join(tokens[1:])]]
            env |= {k: _expand(v, variables) for k, v in pairs}
        elif keyword == "LABEL":
            labels |= {
                _expand(k, variables): _expand(v, variables) for k, v in (t.split("=", 1) for t in shlex.split(rest))
            }
        elif keyword == "USER":
            user = _expand(rest, variables)
        elif keyword == "WORKDIR":
            workdir = _expand(rest, variables)
        elif keyword == "EXPOSE":
            ports += [p if "/" in p else f"{p}/tcp" for p in _expand(rest, variables).split()]
        elif keyword == "CMD":
            cmd = json.loads(rest) if rest.startswith("[") else ["/bin/sh", "-c", rest]
        elif keyword == "RUN":
            account = _account(rest, f"{where}:{line}")
        elif keyword == "COPY" and rest.split() == ["--from=install", layer.VENV, layer.VENV]:
            continue  # the deps and app layers are that venv
        elif keyword != "HEALTHCHECK":  # OCI image configs have no health check: the orchestrator's probes are it
            raise ConfigError(
                f"{where}:{line}: {keyword} {rest[:60]} in the runtime stage is not reproduced by the local build",
                hint="the local build (docs/images.md) reproduces ENV, USER, WORKDIR, EXPOSE, CMD, LABEL, ARG, "
                "the groupadd/useradd RUN and the venv COPY; teach services/release/image.py the new step",
            )
    return RuntimeStage(
        env=tuple(f"{k}={v}" for k, v in env.items()),
        user=user,
        workdir=workdir or "/",
        exposed_ports=tuple(ports),
        cmd=tuple(cmd),
        labels=labels,
        account=account,
    )


def _is_runtime(from_args: str) -> bool:
    tokens = from_args.split()
    return len(tokens) >= 3 and tokens[-2].upper() == "AS" and tokens[-1] == "runtime"


_ACCOUNT_OPTIONS = {"-g": "gid", "--gid": "gid", "-u": "uid", "--uid": "uid", "-d": "home", "--home-dir": "home"}
_ACCOUNT_OPTIONS |= {"-s": "shell", "--shell": "shell"}


def _account(command: str, where: str) -> Account:
    """The user and group of a `groupadd … && useradd …` RUN; anything else is refused."""
    found: dict[str, dict[str, str]] = {}
    for part in command.split("&&"):
        tokens = shlex.split(part)
        if not tokens or tokens[0] not in ("groupadd", "useradd"):
            raise ConfigError(
                f"{where}: RUN {command[:60]} in the runtime stage is not reproduced by the local build",
                hint="the runtime stage may only groupadd/useradd (its user goes into /etc/passwd of the app layer)",
            )
        options: dict[str, str] = {}
        rest = iter(tokens[1:])
        for token in rest:
            if token in _ACCOUNT_OPTIONS:
                options[_ACCOUNT_OPTIONS[token]] = next(rest, "")
            elif not token.startswith("-"):
                options["name"] = token
        found[tokens[0]] = options
    group, user = found.get("groupadd", {}), found.get("useradd", {})
    try:
        return Account(
            name=user["name"],
            group=group.get("name", user["name"]),
            uid=int(user["uid"]),
            gid=int(user.get("gid") or group["gid"]),
            home=user.get("home", "/nonexistent"),
            shell=user.get("shell", "/usr/sbin/nologin"),
        )
    except (KeyError, ValueError) as exc:
        raise ConfigError(
            f"{where}: the runtime stage's groupadd/useradd must give a name, --uid and --gid",
            hint="e.g. groupadd --system --gid 10001 NAME && useradd --system --uid 10001 --gid 10001 NAME",
        ) from exc


# --- the layers -----------------------------------------------------------------------------------------------------


def _project(project_root: Path) -> dict:
    path = project_root / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text())["project"]
        project["optional-dependencies"]["runtime"]
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: project.optional-dependencies.runtime: missing or unreadable ({exc})") from exc
    return project


def requirements(project_root: Path) -> list[str]:
    """The project's dependencies and its `runtime` extra: what the Dockerfiles install besides the project."""
    project = _project(project_root)
    return list(dict.fromkeys([*project.get("dependencies", []), *project["optional-dependencies"]["runtime"]]))


def check_python(base_python: str, host: Sequence[int] = tuple(sys.version_info[:2])) -> None:
    """The deps layer is installed by this interpreter: its wheels (cp3X ABI) must fit the base's Python."""
    if layer.minor(base_python) != f"{host[0]}.{host[1]}":
        raise ExternalToolError(
            f"the base image has Python {base_python} but infractl runs on Python {host[0]}.{host[1]}: "
            "the dependencies pip installs here would not fit the image",
            hint=f"run infractl with a Python {layer.minor(base_python)} (Debian 12's python3 is 3.11)",
        )


def deps_layer(
    project_root: Path, cache_dir: Path, facts: BaseFacts, say: Callable[[str], None]
) -> tuple[layer.LayerTar, bool]:
    """The deps layer's tar from the cache, or built (pip on the host) and cached. Returns (tar, cached)."""
    reqs = requirements(project_root)
    key = digest_of(
        {
            "format": DEPS_FORMAT,
            "requirements": reqs,
            "python": facts.python_version,
            "host_python": f"{sys.version_info[0]}.{sys.version_info[1]}",
            "machine": platform.machine(),
            "epoch": DEPS_EPOCH,
        }
    )
    folder = cache_dir / "deps" / key[:16]
    meta_path = folder / "layer.json"
    if meta_path.is_file() and (folder / "layer.tar").is_file():
        meta = json.loads(meta_path.read_text())
        if meta.get("key") == key:
            say(f"deps: cached ({len(meta['installed'])} distributions)")
            return layer.LayerTar(folder / "layer.tar", meta["diff_id"], meta["size"]), True
    work = cache_dir / "deps" / f".tmp-{key[:16]}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        stage = work / "stage"
        site = layer.venv_skeleton(stage, facts.python_version)
        if reqs:
            say(f"deps: pip install {len(reqs)} requirements into {layer.VENV} (≈15 s)")
            layer.pip_install(reqs, site, python=sys.executable, epoch=DEPS_EPOCH, what="runtime dependencies")
            layer.move_scripts(site, stage / layer.VENV.lstrip("/") / "bin")
            say("deps: byte code (checked-hash)")
            layer.compile_bytecode(site, dest=_site_in_image(facts), python=sys.executable)
        tar = layer.write_tar(stage, work / "layer.tar", epoch=DEPS_EPOCH)
        installed = sorted(p.name.removesuffix(".dist-info") for p in site.glob("*.dist-info"))
        meta = {"key": key, "diff_id": tar.diff_id, "size": tar.size, "requirements": reqs, "installed": installed}
        shutil.rmtree(stage)
        (work / "layer.json").write_text(json.dumps(meta, indent=2) + "\n")
        shutil.rmtree(folder, ignore_errors=True)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return layer.LayerTar(folder / "layer.tar", tar.diff_id, tar.size), False


def _site_in_image(facts: BaseFacts) -> str:
    return f"{layer.VENV}/lib/python{layer.minor(facts.python_version)}/site-packages"


def app_layer(project_root: Path, work: Path, facts: BaseFacts, account: Account, *, epoch: int) -> layer.LayerTar:
    """The project (pip --no-deps) in /opt/venv, and /etc/passwd, /etc/group with the runtime stage's user."""
    stage = work / "app"
    site = layer.site_packages(stage, facts.python_version)
    site.mkdir(parents=True)
    (stage / layer.VENV.lstrip("/") / "bin").mkdir()
    layer.pip_install(["--no-deps", str(project_root)], site, python=sys.executable, epoch=epoch, what="project")
    layer.drop_direct_url(site)
    layer.move_scripts(site, stage / layer.VENV.lstrip("/") / "bin")
    layer.compile_bytecode(site, dest=_site_in_image(facts), python=sys.executable)
    etc = stage / "etc"
    etc.mkdir()
    user = f"{account.name}:x:{account.uid}:{account.gid}::{account.home}:{account.shell}"
    (etc / "passwd").write_text(_append(facts.passwd, user, "/etc/passwd"))
    (etc / "group").write_text(_append(facts.group, f"{account.group}:x:{account.gid}:", "/etc/group"))
    tar = layer.write_tar(stage, work / "app.tar", epoch=epoch)
    shutil.rmtree(stage)
    return tar


def _append(table: str, entry: str, where: str) -> str:
    """table with entry (name:x:id:...) appended; a name or id the base already has is refused (useradd would be)."""
    name, _, number = entry.split(":")[:3]
    for line in table.splitlines():
        fields = line.split(":")
        if len(fields) > 2 and (fields[0] == name or fields[2] == number):
            raise ExternalToolError(
                f"the base image's {where} already has {fields[0]} (id {fields[2]}): cannot add {name}"
            )
    return table.rstrip("\n") + "\n" + entry + "\n"


# --- the images ----------------------------------------------------------------------------------------------------


def build_images(
    project_root: Path,
    cache_dir: Path,
    out_dir: Path,
    *,
    version: str,
    revision: str,
    epoch: int,
    source_url: str = "",
    progress: Callable[[str], None] | None = None,
    base: BaseImage | None = None,
) -> list[BuiltImage]:
    """Build IMAGE_NAMES into one OCI layout, out_dir/oci (replaced as a whole when it exists), tagged
    "<image>:<version>". epoch: SOURCE_DATE_EPOCH, the commit's time. base: a prepared base (default: base_image)."""
    say = progress or (lambda _msg: None)
    if not VERSION_TAG.match(version):
        raise UsageError(f"version {version!r} is not a valid image tag", hint="letters, digits, '.', '_', '-'")
    base = base or base_image(cache_dir, progress=say)
    facts = base_facts(base)
    check_python(facts.python_version)
    build_args = {
        "BASE_IMAGE": f"localhost/infractl-base:{base.ref_name}@{base.digest}",
        "VERSION": version,
        "REVISION": revision,
        "CREATED": rfc3339(epoch),
        "SOURCE_URL": source_url,
    }
    stages = {n: runtime_stage(project_root / DOCKERFILES[n], build_args, facts.env) for n in IMAGE_NAMES}
    accounts = {s.account for s in stages.values()}
    if len(accounts) != 1 or None in accounts:
        raise ConfigError(
            f"{', '.join(DOCKERFILES.values())}: the runtime stages must create the same user (they share a layer)"
        )
    account = accounts.pop()
    assert account is not None
    deps, _ = deps_layer(project_root, cache_dir, facts, say)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / f".build-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    try:
        say("app: pip install --no-deps (the project)")
        app = app_layer(project_root, work, facts, account, epoch=epoch)
        layout = work / "oci"
        shutil.copytree(base.layout, layout, copy_function=_link_or_copy)
        say("layers: umoci add-layer (deps, app)")
        umoci(
            "raw", "add-layer", "--image", f"{layout}:{base.ref_name}", "--tag", "stage-deps",
            f"--history.created={rfc3339(DEPS_EPOCH)}",
            f"--history.created_by=pip install --target {_site_in_image(facts)} (dependencies + runtime extra)",
            deps.path,
        )  # fmt: skip
        umoci(
            "raw", "add-layer", "--image", f"{layout}:stage-deps", "--tag", "stage-app",
            f"--history.created={rfc3339(epoch)}",
            f"--history.created_by=pip install --no-deps {_project(project_root)['name']}; "
            f"useradd {account.name} ({account.uid})",
            app.path,
        )  # fmt: skip
        for name in IMAGE_NAMES:
            umoci("config", "--image", f"{layout}:stage-app", "--tag", f"{name}:{version}", *_config_args(
                stages[name], epoch, f"{DOCKERFILES[name]}: the runtime stage's config"))  # fmt: skip
        for ref in ("stage-app", "stage-deps", base.ref_name):
            umoci("rm", "--image", f"{layout}:{ref}")
        umoci("gc", "--layout", layout)
        final = out_dir / "oci"
        previous = work / "previous"
        if final.exists():
            final.rename(previous)
        try:
            layout.rename(final)
        except BaseException:
            if previous.exists() and not final.exists():
                previous.rename(final)  # the earlier layout stays whole
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    images = [_built(final, name, f"{name}:{version}") for name in IMAGE_NAMES]
    for image in images:
        say(f"{image.ref_name}: {image.digest}")
    return images


def _config_args(stage: RuntimeStage, epoch: int, created_by: str) -> list[str]:
    created = rfc3339(epoch)
    return [
        *(f"--config.env={e}" for e in stage.env),
        f"--config.user={stage.user}",
        f"--config.workingdir={stage.workdir}",
        *(f"--config.exposedports={p}" for p in stage.exposed_ports),
        *(f"--config.cmd={c}" for c in stage.cmd),
        *(f"--config.label={k}={v}" for k, v in stage.labels.items()),
        f"--created={created}",
        f"--history.created={created}",
        f"--history.created_by={created_by}",
    ]


def _built(layout: Path, name: str, ref: str) -> BuiltImage:
    digest = manifest_of(layout, ref)
    manifest = read_blob(layout, digest)
    size = blob_path(layout, digest).stat().st_size + manifest["config"]["size"]
    size += sum(entry["size"] for entry in manifest["layers"])
    return BuiltImage(
        name=name,
        layout=layout,
        ref_name=ref,
        digest=digest,
        config_digest=manifest["config"]["digest"],
        layers=tuple(blob_path(layout, entry["digest"]) for entry in manifest["layers"]),
        size=size,
    )


def _link_or_copy(src: str, dst: str) -> None:
    """Blobs are content-addressed and never written in place: a hard link is a safe copy of one. The index is
    rewritten by umoci, so it is copied."""
    try:
        if Path(src).parent.parent.name != "blobs":
            raise OSError("not a blob")
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
