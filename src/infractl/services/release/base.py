"""The base image of the local builds: a Debian root file system from `mmdebstrap`, made an OCI image with `umoci`.

No registry can be reached where these builds run, so the base is made from Debian's archive:
`mmdebstrap --variant=minbase --include=python3 bookworm` with SOURCE_DATE_EPOCH fixed gives a bit-identical tar
(measured), and `umoci raw add-layer` compresses it the same way every time. The result is cached under
`<cache>/base/<suite>-<inputs>/` by the digest of everything that goes in (suite, packages, epoch, mmdebstrap's
version, the apt sources), so it is made once (≈35 s) and then reused. A prepared root file system tar can be passed
instead of running mmdebstrap (the unit tests do, with a few-KB one): it goes through the same code path.

Besides the OCI layout, the cache keeps what the later layers need from the base (`base.json`): its Python version,
its /etc/passwd and /etc/group, its environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from infractl.adapters import process
from infractl.errors import ExternalToolError

# 2025-05-20T00:00:00Z: the Debian snapshot the machines' apt sources name. Any fixed value works; changing it
# changes the base's digest (and with it every image's).
BASE_EPOCH = 1747699200
BASE_FORMAT = 1  # bump when the way the base is assembled changes: it is part of the inputs digest
BASE_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8")
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
MMDEBSTRAP_SECONDS = 35  # measured on 2 cores: 33-36 s
TOOL_PACKAGES = {"mmdebstrap": "mmdebstrap", "umoci": "umoci"}  # program -> Debian package
# apt downloads as user _apt when it can reach the download folder, as root when it cannot (a cache under a 0700
# folder, e.g. pytest's tmp); the ownership of its two `partial` folders records which, so the tar would depend on
# where the cache lives. Fixed here to what a sandboxed download leaves (measured: the only difference).
APT_PARTIAL_HOOK = 'chroot "$1" chown _apt:root /var/cache/apt/archives/partial /var/lib/apt/lists/partial'

Progress = Callable[[str], None]


@dataclass(frozen=True)
class BaseImage:
    layout: Path  # an OCI image layout holding only the base
    ref_name: str  # its reference in that layout
    digest: str  # the manifest's digest
    layer: Path  # the one layer's blob (gzip) in the layout
    layer_digest: str  # its digest (compressed)
    diff_id: str  # the digest of the uncompressed tar
    inputs_digest: str  # what the cache is keyed by
    cached: bool  # True when it came from the cache


@dataclass(frozen=True)
class BaseFacts:
    """What the layers above need to know about the base, read once from its root file system."""

    python_version: str  # e.g. "3.11.2" (from dpkg's status), or "3.11" (from the python3 symlink)
    passwd: str
    group: str
    env: tuple[str, ...]


def tool(name: str) -> str:
    """The path of a Debian-packaged tool; a missing one is an ExternalToolError naming the package."""
    package = TOOL_PACKAGES.get(name, name)
    return process.find_binary(
        name, hint=f"install the Debian package {package}: apt-get install -y {package} (make install does)"
    )


def umoci(*args: str | Path) -> process.Completed:
    return process.run([tool("umoci"), *(str(a) for a in args)])


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sources(suite: str) -> list[str]:
    """The apt sources the base is made from: the suite, its updates and its security pocket (what mmdebstrap adds by
    itself for a stable release), spelled out so they are part of the inputs digest."""
    return [
        f"deb {MIRROR} {suite} main",
        f"deb {MIRROR} {suite}-updates main",
        f"deb {SECURITY_MIRROR} {suite}-security main",
    ]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def digest_of(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def base_image(
    cache_dir: Path,
    *,
    epoch: int = BASE_EPOCH,
    suite: str = "bookworm",
    packages: Sequence[str] = ("python3",),
    rootfs: Path | None = None,
    progress: Progress | None = None,
) -> BaseImage:
    """The base image for suite + packages, from the cache when it holds one made from the same inputs.

    rootfs: a prepared root file system tar to use instead of running mmdebstrap (its digest replaces mmdebstrap's
    inputs in the key)."""
    say = progress or (lambda _msg: None)
    inputs: dict[str, object] = {"format": BASE_FORMAT, "epoch": epoch, "env": list(BASE_ENV)}
    if rootfs is None:
        version = process.run([tool("mmdebstrap"), "--version"]).stdout.strip()
        inputs |= {"suite": suite, "packages": sorted(packages), "variant": "minbase", "mmdebstrap": version}
        inputs["hooks"] = [APT_PARTIAL_HOOK]
        inputs["sources"] = sources(suite)
    else:
        inputs |= {"suite": suite, "rootfs": sha256_file(rootfs)}
    key = digest_of(inputs)
    root = cache_dir / "base"
    final = root / f"{suite}-{key[:16]}"
    found = _load(final, key, cached=True)
    if found is not None:
        say(f"base: cached {suite} ({found.digest[:19]})")
        return found
    root.mkdir(parents=True, exist_ok=True)
    work = root / f".tmp-{key[:16]}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        tar = rootfs
        if tar is None:
            tar = work / "rootfs.tar"
            (work / "tmp").mkdir()
            say(f"base: mmdebstrap {suite} (≈{MMDEBSTRAP_SECONDS} s)")
            env = process.clean_env() | {"SOURCE_DATE_EPOCH": str(epoch), "TMPDIR": str(work / "tmp")}
            process.run(
                [
                    tool("mmdebstrap"),
                    "--variant=minbase",
                    f"--include={','.join(packages)}",
                    "--quiet",
                    f"--customize-hook={APT_PARTIAL_HOOK}",
                    suite,
                    tar,
                    *sources(suite),
                ],
                env=env,
            )
        facts = read_facts(tar)
        say("base: umoci add-layer")
        layout = work / "oci"
        created = rfc3339(epoch)
        umoci("init", "--layout", layout)
        umoci("new", "--image", f"{layout}:{suite}")
        umoci(
            "raw", "add-layer", "--image", f"{layout}:{suite}", f"--history.created={created}",
            f"--history.created_by=mmdebstrap --variant=minbase --include={','.join(packages)} {suite}", tar,
        )  # fmt: skip
        umoci(
            "config", "--image", f"{layout}:{suite}", f"--created={created}", f"--history.created={created}",
            "--history.created_by=base environment", *(f"--config.env={e}" for e in BASE_ENV),
            "--config.cmd=/usr/bin/python3",
        )  # fmt: skip
        umoci("gc", "--layout", layout)  # the intermediate manifests and configs
        meta = {"inputs": inputs, "inputs_digest": key, "ref_name": suite, "facts": asdict(facts)}
        (work / "base.json").write_text(json.dumps(meta, indent=2) + "\n")
        if tar != rootfs:
            tar.unlink()
        shutil.rmtree(work / "tmp", ignore_errors=True)
        # an incomplete earlier attempt is replaced; a complete one (a parallel build) is kept
        if final.exists() and _load(final, key, cached=True) is None:
            shutil.rmtree(final)
        with contextlib.suppress(OSError):
            work.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    made = _load(final, key, cached=False)
    if made is None:
        raise ExternalToolError(f"the base image in {final} is incomplete", hint=f"remove {final} and build again")
    return made


def _load(folder: Path, key: str, *, cached: bool) -> BaseImage | None:
    """The base image in folder when it is complete and made from inputs `key`; else None."""
    try:
        meta = json.loads((folder / "base.json").read_text())
        layout = folder / "oci"
        ref = meta["ref_name"]
        manifest_digest = manifest_of(layout, ref)
        manifest = read_blob(layout, manifest_digest)
        config = read_blob(layout, manifest["config"]["digest"])
        layer_digest = manifest["layers"][0]["digest"]
        layer = blob_path(layout, layer_digest)
        if meta["inputs_digest"] != key or not layer.is_file():
            return None
    except (OSError, KeyError, IndexError, ValueError):
        return None
    return BaseImage(
        layout=layout,
        ref_name=ref,
        digest=manifest_digest,
        layer=layer,
        layer_digest=layer_digest,
        diff_id=config["rootfs"]["diff_ids"][0],
        inputs_digest=key,
        cached=cached,
    )


def base_facts(base: BaseImage) -> BaseFacts:
    facts = json.loads((base.layout.parent / "base.json").read_text())["facts"]
    return BaseFacts(facts["python_version"], facts["passwd"], facts["group"], tuple(facts["env"]))


# --- reading an OCI layout ----------------------------------------------------------------------------------------


def blob_path(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def read_blob(layout: Path, digest: str) -> dict:
    return json.loads(blob_path(layout, digest).read_bytes())


def manifest_of(layout: Path, ref: str) -> str:
    """The manifest digest tagged `ref` in the layout's index."""
    for entry in json.loads((layout / "index.json").read_text())["manifests"]:
        if entry.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return entry["digest"]
    raise KeyError(ref)


# --- facts from the root file system ------------------------------------------------------------------------------

_DPKG_PYTHON = re.compile(r"^python3\.(\d+)$")


def read_facts(tar: Path) -> BaseFacts:
    """Python version, /etc/passwd and /etc/group of a root file system tar (one pass over its headers)."""
    files: dict[str, str] = {}
    python_link = ""
    with tarfile.open(tar) as archive:
        for member in archive:
            name = member.name.removeprefix("./")
            if name in ("etc/passwd", "etc/group", "var/lib/dpkg/status") and member.isfile():
                extracted = archive.extractfile(member)
                files[name] = extracted.read().decode() if extracted else ""
            elif name == "usr/bin/python3" and member.issym():
                python_link = member.linkname
    missing = [f for f in ("etc/passwd", "etc/group") if f not in files]
    if missing:
        raise ExternalToolError(f"the base root file system {tar} has no {', '.join(missing)}")
    version = _dpkg_python(files.get("var/lib/dpkg/status", ""))
    if not version:
        match = re.search(r"python(3\.\d+)$", python_link)
        version = match.group(1) if match else ""
    if not version:
        raise ExternalToolError(
            f"the base root file system {tar} has no Python 3",
            hint="include the python3 package in the base (packages=('python3',))",
        )
    return BaseFacts(version, files["etc/passwd"], files["etc/group"], BASE_ENV)


def _dpkg_python(status: str) -> str:
    """The upstream version of the installed python3.X package in dpkg's status file ("3.11.2"), or ""."""
    for stanza in status.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line[0].isspace())
        if _DPKG_PYTHON.match(fields.get("Package", "")) and fields.get("Status", "").endswith(" installed"):
            return re.sub(r"^\d+:", "", fields.get("Version", "")).split("-")[0]
    return ""
