"""The layers above the base: a staged tree written as a deterministic tar, and the Python venv the Dockerfiles'
`install` stage makes, filled by pip on the host.

Deterministic tars: members in sorted order, every one owned by 0:0 with mtime = the given epoch, modes normalised
(directories 0755, files 0644 or 0755 when executable, symlinks 0777), GNU format (long names as GNU long-name
records, no pax headers, so no timestamps beyond mtime), no hard links. The same tree and epoch give the same bytes.

The venv is laid out as `python3 -m venv /opt/venv` makes it in the image (pyvenv.cfg with home = /usr/bin, bin/python3
a symlink to /usr/bin/python3, lib/python3.X/site-packages, lib64 -> lib); pip runs on the host with `--target`
(its configured index and its cache), console scripts move to /opt/venv/bin with their shebang pointed at
/opt/venv/bin/python, and the byte code is compiled with checked-hash invalidation (what pip does under
SOURCE_DATE_EPOCH) and the in-image file names, in one fresh interpreter, file by file in sorted order.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import stat
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infractl.adapters import process
from infractl.errors import CommandError, ExternalToolError

VENV = "/opt/venv"
VENV_PYTHON = f"{VENV}/bin/python"


@dataclass(frozen=True)
class LayerTar:
    path: Path  # the uncompressed tar
    diff_id: str  # sha256 of its bytes (the OCI diff_id)
    size: int


class _Hashing:
    """A write-only file object that hashes and counts what passes through it."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def tell(self) -> int:
        return self.size


def write_tar(stage: Path, out: Path, *, epoch: int) -> LayerTar:
    """Write the tree under stage (the layer's root) to out as a deterministic tar."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with open(partial, "wb") as fh:
        hashing = _Hashing(fh)
        with tarfile.open(fileobj=hashing, mode="w", format=tarfile.GNU_FORMAT) as archive:  # type: ignore[call-overload]
            for path, name in _walk(stage):
                info = _tarinfo(path, name, epoch)
                if info.isreg():
                    with open(path, "rb") as data:
                        archive.addfile(info, data)
                else:
                    archive.addfile(info)
    partial.replace(out)
    return LayerTar(out, "sha256:" + hashing.sha.hexdigest(), hashing.size)


def _walk(stage: Path, prefix: str = ""):
    for entry in sorted(os.scandir(stage / prefix if prefix else stage), key=lambda e: e.name):
        name = f"{prefix}{entry.name}"
        yield Path(entry.path), name
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(stage, name + "/")


def _tarinfo(path: Path, name: str, epoch: int) -> tarfile.TarInfo:
    st = os.lstat(path)
    info = tarfile.TarInfo(name)
    info.mtime = epoch
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISDIR(st.st_mode):
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    elif stat.S_ISLNK(st.st_mode):
        info.type, info.mode, info.linkname = tarfile.SYMTYPE, 0o777, os.readlink(path)
    elif stat.S_ISREG(st.st_mode):
        info.type, info.size = tarfile.REGTYPE, st.st_size
        info.mode = 0o755 if st.st_mode & 0o111 else 0o644
    else:
        raise ExternalToolError(f"{path}: not a file, directory or symlink: it cannot go into an image layer")
    return info


# --- the venv ------------------------------------------------------------------------------------------------------


def minor(python_version: str) -> str:
    """ "3.11.2" -> "3.11"."""
    return ".".join(python_version.split(".")[:2])


def site_packages(stage: Path, python_version: str) -> Path:
    return stage / VENV.lstrip("/") / "lib" / f"python{minor(python_version)}" / "site-packages"


def venv_skeleton(stage: Path, python_version: str) -> Path:
    """/opt/venv under stage as `python3 -m venv` makes it in the image (without pip and the activate scripts);
    returns its site-packages folder."""
    venv = stage / VENV.lstrip("/")
    site = site_packages(stage, python_version)
    site.mkdir(parents=True)
    (venv / "bin").mkdir()
    (venv / "lib64").symlink_to("lib")
    (venv / "bin" / "python3").symlink_to("/usr/bin/python3")
    (venv / "bin" / "python").symlink_to("python3")
    (venv / "bin" / f"python{minor(python_version)}").symlink_to("python3")
    (venv / "pyvenv.cfg").write_text(
        "home = /usr/bin\n"
        "include-system-site-packages = false\n"
        f"version = {python_version}\n"
        f"executable = /usr/bin/python{minor(python_version)}\n"
        f"command = /usr/bin/python3 -m venv {VENV}\n"
    )
    return site


def pip_install(args: Sequence[str], target: Path, *, python: str, epoch: int, what: str) -> None:
    """`pip install --target` with the host's pip configuration (index, cache); no byte code (compiled later)."""
    env = process.clean_env(drop_prefixes=("PYTHONPATH", "PIP_TARGET", "PIP_PREFIX", "PIP_USER"))
    env |= {"SOURCE_DATE_EPOCH": str(epoch), "PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    argv = [python, "-m", "pip", "install", "--no-compile", "--no-warn-script-location", "--target", str(target)]
    try:
        process.run([*argv, *args], env=env)
    except CommandError as exc:
        raise ExternalToolError(
            f"pip could not install the {what}",
            details=[line for line in exc.details if not line.startswith("WARNING: Location")][-15:],
            hint="pip uses this machine's configuration (pip config list): its index must serve these packages",
        ) from exc


def move_scripts(target: Path, venv_bin: Path) -> None:
    """Move pip's console scripts from target/bin to the venv's bin, pointing their shebang at the venv's python,
    and correct their RECORD lines (path and hash) as if pip had installed into the venv."""
    scripts = target / "bin"
    if not scripts.is_dir():
        return
    moved: dict[str, bytes] = {}
    for script in sorted(scripts.iterdir()):
        data = script.read_bytes()
        first, sep, rest = data.partition(b"\n")
        if first.startswith(b"#!") and b"python" in first:
            data = f"#!{VENV_PYTHON}".encode() + sep + rest
        destination = venv_bin / script.name
        destination.write_bytes(data)
        destination.chmod(0o755)
        moved[script.name] = data
    shutil.rmtree(scripts)
    for record in sorted(target.glob("*.dist-info/RECORD")):
        lines = record.read_text().splitlines()
        for i, line in enumerate(lines):
            path = line.split(",", 1)[0]
            name = path.removeprefix("../../bin/")
            if path.startswith("../../bin/") and name in moved:
                digest = base64.urlsafe_b64encode(hashlib.sha256(moved[name]).digest()).rstrip(b"=").decode()
                lines[i] = f"../../../bin/{name},sha256={digest},{len(moved[name])}"
        record.write_text("\n".join(lines) + "\n")


def drop_direct_url(target: Path) -> None:
    """Remove pip's direct_url.json (it records the host path the project was installed from) and its RECORD line."""
    for direct in sorted(target.glob("*.dist-info/direct_url.json")):
        direct.unlink()
        record = direct.parent / "RECORD"
        name = f"{direct.parent.name}/direct_url.json"
        if record.is_file():
            kept = [line for line in record.read_text().splitlines() if line.split(",", 1)[0] != name]
            record.write_text("\n".join(kept) + "\n")


def compile_bytecode(site: Path, *, dest: str, python: str) -> None:
    """Compile the .py files under site to .pyc (checked-hash, file names as under dest in the image), in one fresh
    interpreter so the output depends on nothing but the sources. Files that do not compile (a module for another
    Python version) are left without byte code, as pip leaves them."""
    process.run(
        [python, "-I", "-m", "compileall", "-qq", "-j", "1", "--invalidation-mode", "checked-hash", "-d", dest, site],
        env=process.clean_env(drop_prefixes=("PYTHON",)),
        ok_codes=(0, 1),
    )
