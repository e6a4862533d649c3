"""Facts read from Terraform sources without running Terraform: which local modules a stack uses, where each
resource is declared, and the inline checkov skip comments (with or without a reason)."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from infractl.adapters import hcl

RESOURCE_HEADER = re.compile(r'^\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"')
SKIP_COMMENT = re.compile(r"(?:#|//)\s*checkov:skip=([A-Za-z0-9_]+)(?::(.*))?")
# module.<name>[<key>]. ... then [data.]<type>.<name>[<key>]
_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)(?:\[(?:"[^"]*"|[^\]]*)\])?\.')
_RESOURCE_TAIL = re.compile(r'^(data\.)?([A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[("(?:[^"\\]|\\.)*"|[0-9]+)\])?$')


@dataclass(frozen=True)
class Location:
    file: Path
    line: int


@dataclass(frozen=True)
class Skip:
    """`#checkov:skip=CHECK:reason` inside a resource block (resource is (type, name)); reason "" when missing."""

    check_id: str
    reason: str
    file: Path
    line: int
    resource: tuple[str, str] | None


@dataclass(frozen=True)
class Address:
    modules: tuple[str, ...]  # module call names from the root, e.g. ("evidence",)
    mode: str  # managed | data
    type: str
    name: str
    key: str | None  # the for_each key or count index, unquoted


def parse_address(address: str) -> Address | None:
    modules: list[str] = []
    pos = 0
    while address.startswith("module.", pos):
        m = _MODULE_STEP.match(address, pos)
        if not m:
            return None
        modules.append(m.group(1))
        pos = m.end()
    tail = _RESOURCE_TAIL.match(address[pos:])
    if not tail:
        return None
    key = tail.group(4)
    if key is not None and key.startswith('"'):
        key = key[1:-1].replace('\\"', '"')
    return Address(tuple(modules), "data" if tail.group(1) else "managed", tail.group(2), tail.group(3), key)


def module_calls(directory: Path) -> dict[str, Path]:
    """Local module calls of one module folder: call name -> module folder (registry/git sources are not ours)."""
    directory = Path(os.path.normpath(directory))
    calls: dict[str, Path] = {}
    for tf in sorted(directory.glob("*.tf")):
        try:
            blocks = hcl.read_blocks(tf.read_text(encoding="utf-8"), "module")
        except ValueError:  # does not parse: fmt and validate report where
            continue
        for block in blocks:
            source = hcl.string_value(block.attributes.get("source"))
            if source.startswith(("./", "../")):
                calls[block.name] = Path(os.path.normpath(directory / source))
    return calls


def module_dirs(stack_dir: Path) -> list[Path]:
    """The stack folder and every local module it uses, transitively, in a stable order."""
    seen: dict[Path, None] = {}
    pending = [Path(os.path.normpath(stack_dir))]
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen[current] = None
        pending += sorted(module_calls(current).values())
    return list(seen)


def source_files(directory: Path) -> list[Path]:
    """A module's own .tf files, as the repository holds them (symlinks resolved)."""
    return sorted({p.resolve() for p in directory.glob("*.tf")})


def module_dir_of(stack_dir: Path, modules: tuple[str, ...]) -> Path | None:
    current = Path(os.path.normpath(stack_dir))
    for name in modules:
        nxt = module_calls(current).get(name)
        if nxt is None:
            return None
        current = nxt
    return current


def _scan(directory: Path) -> tuple[dict[tuple[str, str, str], Location], list[Skip]]:
    """Declarations and skip comments of a module folder; read once per version of its files (a run locates many
    findings in the same modules)."""
    files = tuple((tf, tf.stat().st_mtime_ns) for tf in source_files(directory))
    return _scan_files(files)


@functools.lru_cache(maxsize=128)
def _scan_files(files: tuple[tuple[Path, int], ...]) -> tuple[dict[tuple[str, str, str], Location], list[Skip]]:
    declared: dict[tuple[str, str, str], Location] = {}
    skips: list[Skip] = []
    for tf, _ in files:
        current: tuple[str, str] | None = None
        for number, line in enumerate(tf.read_text(encoding="utf-8").splitlines(), start=1):
            header = RESOURCE_HEADER.match(line)
            if header:
                mode = "data" if header.group(1) == "data" else "managed"
                declared[(mode, header.group(2), header.group(3))] = Location(tf, number)
                current = (header.group(2), header.group(3)) if mode == "managed" else None
            elif line and not line[0].isspace() and not line.startswith(("}", "#", "//")):
                current = None  # another top-level block
            skip = SKIP_COMMENT.search(line)
            if skip:
                skips.append(Skip(skip.group(1), (skip.group(2) or "").strip(), tf, number, current))
    return declared, skips


def locate(stack_dir: Path, address: str) -> tuple[Location | None, Path | None]:
    """Where a plan address is declared: (file and line of its block, the module folder holding it)."""
    parsed = parse_address(address)
    if parsed is None:
        return None, None
    directory = module_dir_of(stack_dir, parsed.modules)
    if directory is None:
        return None, None
    declared, _ = _scan(directory)
    return declared.get((parsed.mode, parsed.type, parsed.name)), directory


def skips_in(directory: Path) -> list[Skip]:
    return list(_scan(directory)[1])


def inline_skip(stack_dir: Path, address: str, check_id: str) -> Skip | None:
    """The skip comment for check_id inside the block that declares address, if any."""
    parsed = parse_address(address)
    directory = module_dir_of(stack_dir, parsed.modules) if parsed else None
    if parsed is None or directory is None:
        return None
    for skip in skips_in(directory):
        if skip.check_id == check_id and skip.resource == (parsed.type, parsed.name):
            return skip
    return None
