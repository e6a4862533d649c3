"""Reading and writing the project's files, with errors that name the file and the place."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from infractl.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: Path, *, display: str | None = None) -> Any:
    import yaml

    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{shown}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
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
