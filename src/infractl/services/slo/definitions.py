"""`load`: slo/*.yaml validated, with one environment's period, objectives, windows and runbook links (a SloSet)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from infractl.adapters import files
from infractl.errors import ConfigError
from infractl.models.environment import Environment
from infractl.models.slo import (
    Slo,
    SloAlert,
    SloFile,
    SloSet,
    SloSpec,
    format_duration,
    parse_duration,
)
from infractl.services.slo.windows import MIN_SCRAPES, WindowError, alert_for, burn_windows

SLO_DIR = "slo"
RUNBOOK_DIR = "docs/runbooks"
SLI_KINDS = ("ratio", "latency")
BASE_URL_HINT = "set it to where the repository's files are browsable, e.g. https://github.com/ORG/REPO/blob/main"


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def defined(project_root: Path) -> bool:
    """Whether the project defines SLOs at all (an slo/ folder). Without one, render makes no PrometheusRule and the
    dev stack's Prometheus loads no rule file; `infractl slo` says what is missing."""
    return (project_root / SLO_DIR).is_dir()


def read_files(project_root: Path) -> list[tuple[str, SloFile]]:
    """Every slo/*.yaml, validated: (file as shown, model). No file, or an SLO or alert defined twice, is a
    ConfigError naming the file(s) and the field."""
    folder = project_root / SLO_DIR
    paths = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    if not paths:
        raise ConfigError(
            f"{SLO_DIR}/: no SLO definitions (slo/*.yaml)",
            hint="define the SLOs in slo/<service-area>.yaml (docs/slo.md; schema docs/schemas/slo.schema.json)",
        )
    out: list[tuple[str, SloFile]] = []
    seen: dict[str, str] = {}  # SLO or alert name -> where it is defined
    for path in paths:
        shown = _rel(project_root, path)
        model = _validate(files.read_yaml(path, display=shown), shown)
        for i, spec in enumerate(model.slos):
            names = [(f"slos.{i}.name", spec.name)]
            names += [(f"slos.{i}.name (alert)", alert_name(spec.name, sev)) for sev in ("page", "ticket")]
            if spec.freshness:
                names.append((f"slos.{i}.freshness.alert", spec.freshness.alert))
            for field, name in names:
                if name in seen:
                    raise ConfigError(
                        f"{shown}: {field}: {name!r} is already defined ({seen[name]})",
                        hint="give every SLO and every alert a name of its own",
                    )
                seen[name] = f"{shown}: {field}"
        out.append((shown, model))
    return out


def _validate(data: object, shown: str) -> SloFile:
    """files.validate, with the SLI's kind left out of an error's place (`slos.0.sli.threshold_seconds`, not
    `slos.0.sli.latency.threshold_seconds`): the kind is a value of the file, not a level of it."""
    if not isinstance(data, dict):
        return files.validate(SloFile, data, display=shown)
    try:
        return SloFile.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = list(err["loc"])
            if len(loc) >= 4 and loc[2] == "sli" and loc[3] in SLI_KINDS:
                del loc[3]
            errors.append({**err, "loc": tuple(loc)})
        lines = [files.validation_line(shown, err) for err in errors]
        raise ConfigError(lines[0], details=lines[1:], hint=f"fix {shown} and run the command again") from None


def alert_name(slo: str, severity: str) -> str:
    """api-availability, page -> ApiAvailabilityBudgetBurnPage."""
    return "".join(w.capitalize() for w in slo.split("-")) + "BudgetBurn" + severity.capitalize()


def runbook_file(alert: str) -> str:
    """ApiAvailabilityBudgetBurnPage -> docs/runbooks/api-availability-budget-burn-page.md."""
    return f"{RUNBOOK_DIR}/{re.sub(r'(?<!^)(?=[A-Z])', '-', alert).lower()}.md"


def load(project_root: Path, env: Environment) -> SloSet:
    """The SLOs of slo/*.yaml for `env`: its objectives (slo.objectives over the files' defaults), its period's
    burn-rate windows, its freshness max ages and runbook links. Every problem is a ConfigError naming the file,
    the field and the fix."""
    env_file = _rel(project_root, project_root / "environments" / f"{env.name}.yaml")
    cfg = env.slo
    defined = read_files(project_root)
    specs = {spec.name: (shown, area.service, spec) for shown, area in defined for spec in area.slos}
    known = ", ".join(specs)
    for section in ("objectives", "max_age"):
        for name in getattr(cfg, section):
            if name not in specs:
                raise ConfigError(
                    f"{env_file}: slo.{section}.{name}: no SLO named {name!r} in {SLO_DIR}/*.yaml",
                    hint=f"use one of: {known}",
                )
            if section == "max_age" and specs[name][2].freshness is None:
                raise ConfigError(
                    f"{env_file}: slo.max_age.{name}: {name} has no freshness alert",
                    hint=f"remove it, or add `freshness:` to {name} in {specs[name][0]}",
                )
    if cfg.runbook_base_url is None:
        raise ConfigError(
            f"{env_file}: slo.runbook_base_url: required to render the SLO alerts (their runbook links)",
            hint=BASE_URL_HINT,
        )
    period_s, scrape_s = parse_duration(cfg.period), parse_duration(cfg.scrape_interval)
    try:
        windows = burn_windows(period_s, scrape_s)
    except WindowError as exc:
        raise ConfigError(
            f"{env_file}: slo.period: {exc}", hint="use a longer slo.period or a shorter slo.scrape_interval"
        ) from None
    holds = alert_for(period_s, scrape_s)
    base = cfg.runbook_base_url
    slos = [
        _slo(env.name, shown, service, spec, cfg.objectives.get(spec.name, spec.objective), cfg, windows, holds, base)
        for shown, service, spec in specs.values()
    ]
    return SloSet(
        env=env.name,
        period=cfg.period,
        period_s=period_s,
        scrape_interval=cfg.scrape_interval,
        min_window=format_duration(MIN_SCRAPES * scrape_s),
        base_window=min((w.short_s, w.short) for w in windows)[1],
        runbook_base_url=base,
        windows=windows,
        alert_for=holds,
        slos=slos,
    )


def _percent(value: float) -> str:
    return f"{value:g}%"


def _slo(env, shown, service, spec: SloSpec, objective, cfg, windows, holds, base) -> Slo:
    budget = round(1 - objective / 100, 12)
    errors, total = spec.sli.expressions()
    alerts = []
    for severity in ("page", "ticket"):
        pairs = [w for w in windows if w.severity == severity]
        name = alert_name(spec.name, severity)
        shares = " or ".join(f"{_percent(round(w.budget_consumed * 100, 2))} in {w.long}" for w in pairs)
        rules = "; or ".join(
            f"{w.factor:g}x the budget ({_percent(round(w.factor * budget * 100, 6))} errors) over both {w.long}"
            f" and {w.short}"
            for w in pairs
        )
        speed = "fast" if severity == "page" else "steadily"
        alerts.append(
            _alert(
                name,
                severity,
                "burn",
                holds[severity],
                base,
                f"{spec.name} in {env} burns its error budget {speed}: {shares} of the {cfg.period} budget",
                f"{spec.description} Objective {_percent(objective)} over {cfg.period} (error budget"
                f" {_percent(round(budget * 100, 6))}). Fires when the error ratio is above {rules}.",
            )
        )
    fresh = spec.freshness
    max_age = None
    if fresh is not None:
        max_age = cfg.max_age.get(spec.name, fresh.max_age)
        alerts.append(
            _alert(
                fresh.alert,
                fresh.severity,
                "freshness",
                holds[fresh.severity],
                base,
                f"{spec.name} in {env}: no successful check for more than {max_age}",
                f"{fresh.metric} (the unix time of the last successful check) is more than {max_age} old:"
                " the check fails or has stopped running.",
            )
        )
    return Slo(
        name=spec.name,
        service=service,
        description=spec.description,
        file=shown,
        kind=spec.sli.kind,
        errors=errors,
        total=total,
        objective=objective,
        error_budget=budget,
        freshness_metric=fresh.metric if fresh else None,
        max_age=max_age,
        alerts=alerts,
    )


def _alert(name, severity, kind, hold, base, summary, description) -> SloAlert:
    runbook = runbook_file(name)
    return SloAlert(
        name=name,
        severity=severity,
        kind=kind,
        for_duration=hold,
        runbook=runbook,
        runbook_url=f"{base}/{runbook}",
        summary=summary,
        description=description,
    )
