"""Reading and writing the project's files, with errors that name the file and the place."""

from __future__ import annotations

import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infractl.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


# Bounds of every project YAML file (environments, the stack manifest, contracts, the price catalog): docs/errors.md.
MAX_YAML_BYTES = 1024 * 1024  # the biggest shipped file is ~6 KB
MAX_YAML_DEPTH = 64  # nesting levels; the env model needs 6
MAX_ALIAS_NODES = 10_000  # nodes that aliases may add when expanded (a 4 KB alias bomb adds billions)


@functools.cache
def _bounded_loader() -> Any:
    """PyYAML's SafeLoader (the pure-Python one, so its hooks apply) with three bounds: nesting depth, the nodes
    aliases add when expanded (alias bombs; an alias inside its own anchor), and duplicate mapping keys (PyYAML keeps
    the last one silently)."""
    import yaml
    from yaml.nodes import MappingNode, ScalarNode

    class YamlRefused(yaml.MarkedYAMLError):
        """A well-formed file infractl still refuses: a duplicate key, too deep, or aliases that expand too far."""

    class BoundedLoader(yaml.SafeLoader):
        Refused = YamlRefused

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            self._depth = 0
            self._alias_nodes = 0
            self._weight: dict[int, int] = {}  # id(node) -> nodes it expands to (its own and its aliases')

        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                node = super().compose_node(parent, index)
                weight = self._weight.get(id(node))
                if weight is None:
                    raise YamlRefused(
                        None,
                        None,
                        f"alias *{event.anchor} is used inside its own anchor",
                        event.start_mark,
                        "a YAML alias cannot refer to a node that contains it",
                    )
                self._alias_nodes += weight
                if self._alias_nodes > MAX_ALIAS_NODES:
                    raise YamlRefused(
                        None,
                        None,
                        f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb?)",
                        event.start_mark,
                        "write the values out instead of aliasing them",
                    )
                return node
            self._depth += 1
            if self._depth > MAX_YAML_DEPTH:
                raise YamlRefused(
                    None,
                    None,
                    f"nested deeper than {MAX_YAML_DEPTH} levels",
                    self.peek_event().start_mark,
                    "flatten the structure",
                )
            node = super().compose_node(parent, index)
            self._depth -= 1
            if isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = [] if isinstance(node, ScalarNode) else node.value
            self._weight[id(node)] = 1 + sum(self._weight[id(c)] for c in children)
            return node

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, MappingNode):
                seen: dict[Any, Any] = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, ScalarNode):
                        continue
                    key = self.construct_object(key_node)
                    if key in seen:
                        first = seen[key].start_mark.line + 1
                        raise YamlRefused(
                            None,
                            None,
                            f"duplicate key {key!r} (first at line {first})",
                            key_node.start_mark,
                            "keep one of them: YAML would silently use the last",
                        )
                    seen[key] = key_node
            return super().construct_mapping(node, deep=deep)

    return BoundedLoader


def read_yaml(path: Path, *, display: str | None = None) -> Any:
    """Parse one project YAML file, bounded: a regular file of at most MAX_YAML_BYTES, UTF-8, no duplicate keys,
    nesting and alias expansion within limits. Every problem is a ConfigError naming the file (and line)."""
    import stat

    import yaml

    shown = display or str(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{shown}: not a regular file")
        if info.st_size > MAX_YAML_BYTES:
            raise ConfigError(
                f"{shown}: file is {info.st_size:,} bytes, more than the {MAX_YAML_BYTES:,}-byte limit",
                hint="split or shorten the file",
            )
        with path.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(
            f"{shown}: file is more than the {MAX_YAML_BYTES:,}-byte limit", hint="split or shorten the file"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{shown}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
            hint="save the file as UTF-8",
        ) from None
    loader = _bounded_loader()
    try:
        return yaml.load(text, Loader=loader)  # a SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(
            f"{shown}:{line}: not valid YAML: {exc.reason} (character #x{exc.character:04x})",
            hint="remove the character",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        if isinstance(exc, loader.Refused):
            raise ConfigError(f"{shown}{where}: {problem}", hint=exc.note) from None
        raise ConfigError(
            f"{shown}{where}: not valid YAML: {problem}", hint="fix the YAML syntax at that line"
        ) from None


def validate(model: type[M], data: Any, *, display: str, prefix: str = "") -> M:
    """Validate data against model; a failure becomes a ConfigError with one `file: field: problem` line each."""
    if not isinstance(data, dict):
        raise ConfigError(f"{display}: expected a mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = [validation_line(display, err, prefix) for err in exc.errors()]
        raise ConfigError(lines[0], details=lines[1:], hint=f"fix {display} and run the command again") from None


def validation_line(display: str, err: Any, prefix: str = "") -> str:
    loc = ".".join(str(p) for p in err["loc"])
    field = f"{prefix}{loc}" if loc else (prefix.rstrip(".") or "(top level)")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check its spelling)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif (
        "input" in err and err["type"] not in ("model_type", "dict_type") and not isinstance(err["input"], dict | list)
    ):
        msg = f"{msg} (got {err['input']!r})"
    return f"{display}: {field}: {msg}"


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600: generated inputs and plans may hold sensitive values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    write_private(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
