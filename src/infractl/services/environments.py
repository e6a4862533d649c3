"""The environment model: list, load, show, diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infractl.adapters import files
from infractl.errors import ConfigError, UsageError
from infractl.models.environment import (
    NAME,
    Difference,
    Environment,
    EnvironmentDiff,
    EnvironmentSummary,
    Image,
)
from infractl.models.project import Project

NAME_RULE = "1-16 lowercase letters, digits or hyphens, starting with a letter"


def _known(project: Project) -> list[str]:
    return sorted(p.stem for p in project.environments_dir.glob("*.yaml") if NAME.fullmatch(p.stem))


def names(project: Project) -> list[str]:
    """Every environment: the environments/<name>.yaml files. A YAML file there whose name is not an environment
    name is a ConfigError (not skipped without a word)."""
    odd = sorted(p.name for p in project.environments_dir.glob("*.yaml") if not NAME.fullmatch(p.stem))
    if odd:
        lines = [f"{project.rel(project.environments_dir / n)}: file name is not an environment name" for n in odd]
        raise ConfigError(lines[0], details=lines[1:], hint=f"rename it to <name>.yaml: {NAME_RULE}")
    return _known(project)


def env_path(project: Project, name: str) -> Path:
    """The file of environment `name`, refused before any path is built or file touched unless `name` is an
    environment name (no `/`, `..`, `[` or anything else that could leave environments/)."""
    if not NAME.fullmatch(name):
        raise UsageError(
            f"{name!r} is not an environment name: use {NAME_RULE}",
            hint=f"known environments: {', '.join(_known(project)) or 'none'}",
        )
    return project.env_file(name)


def load(project: Project, name: str) -> Environment:
    path = env_path(project, name)
    shown = project.rel(path)
    if not path.is_file():
        known = ", ".join(_known(project)) or "none"
        raise ConfigError(f"{shown}: no environment named {name!r}", hint=f"known environments: {known}")
    data = files.read_yaml(path, display=shown)
    env = files.validate(Environment, data, display=shown)
    if env.name != name:
        raise ConfigError(
            f"{shown}: name: {env.name!r} differs from the file name",
            hint=f"set name: {name} or rename the file",
        )
    return _with_release(project, env, shown)


def _with_release(project: Project, env: Environment, shown: str) -> Environment:
    """The env model with the digests of the release it runs (releases/pins/<env>.json, written by `infractl
    promote` and `infractl release build`) in `images:`: one record of what runs where, read by render and deploy."""
    from infractl.services.release import records  # the pin file's one reader

    pin = records.load_pin(project, env.name)
    if pin is None:
        return env
    images = dict(env.images or {})
    pin_shown = project.rel(records.pin_path(project, env.name))
    twice = sorted(set(images) & set(pin.images))
    if twice:
        raise ConfigError(
            f"{shown}: images.{twice[0]}: pinned here and by release {pin.release} in {pin_shown}",
            hint=f"remove images.{twice[0]} from {shown}: promotions own the digests of our images",
        )
    for image, digest in pin.images.items():
        repository = env.own_image_repository(image)
        if repository is None:
            raise ConfigError(
                f"{pin_shown}: images.{image}: {env.cloud} has no default registry repository for it",
                hint=f"pin it in {shown} as images.{image}: {{repository, digest}} instead",
            )
        images[image] = Image(repository=repository, digest=digest)
    return env.model_copy(update={"images": images})


def list_all(project: Project) -> list[EnvironmentSummary]:
    out = []
    for name in names(project):
        env = load(project, name)
        out.append(
            EnvironmentSummary(
                name=env.name,
                cloud=env.cloud,
                account=env.account,
                region=env.region,
                azs=env.network.az_count,
                nat_gateways=env.network.nat_gateways,
                monthly_budget_usd=env.budget.monthly_usd,
                approval_required=env.approval.required,
                file=project.rel(project.env_file(name)),
            )
        )
    return out


def diff(project: Project, a: str, b: str) -> EnvironmentDiff:
    left = flatten(load(project, a).model_dump(mode="json"))
    right = flatten(load(project, b).model_dump(mode="json"))
    ignored = {"name", "tags.environment", "stack_tags.environment"}  # differ by construction
    paths = sorted((left.keys() | right.keys()) - ignored)
    return EnvironmentDiff(
        a=a,
        b=b,
        differences=[Difference(path=p, a=left.get(p), b=right.get(p)) for p in paths if left.get(p) != right.get(p)],
    )


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{"a": {"b": 1}} -> {"a.b": 1}; lists stay whole values (compared as one)."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}
