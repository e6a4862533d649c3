"""The SLO settings of an environment (environments/<env>.yaml `slo:`, docs/slo.md). Part of models/environment.py,
which re-exports these names. The SLOs themselves are defined once, in slo/*.yaml (models/slo.py); an environment
chooses the period, the scrape interval the windows are sized for, the runbook links and its own objectives."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from infractl.models.slo import Duration, Percent, SloName, parse_duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _period(value: str) -> str:
    seconds = parse_duration(value)
    if not 3_600 <= seconds <= 90 * 86_400:
        raise ValueError(f"{value}: an SLO period is 1h to 90d (30d is usual; dev uses 1d so alerts come fast)")
    return value


def _scrape(value: str) -> str:
    if not 1 <= parse_duration(value) <= 300:
        raise ValueError(f"{value}: a scrape interval is 1s to 5m")
    return value


def _base_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s?#/]+(/[^\s?#]*)?[^/\s?#]", value):
        raise ValueError(
            "use the URL the repository's files hang under, http(s), no trailing slash, no query:"
            " e.g. https://github.com/ORG/REPO/blob/main (runbook links are <it>/docs/runbooks/<alert>.md)"
        )
    return value


class SloConfig(_Strict):
    # the SLO period: objectives and error budgets are over it; the alert windows scale with it (30d: the SRE
    # workbook's 1h/5m, 6h/30m, 1d/2h, 3d/6h)
    period: Annotated[str, AfterValidator(_period)] = "30d"
    # Prometheus's scrape interval in this env: no window is shorter than 4 of them
    scrape_interval: Annotated[str, AfterValidator(_scrape)] = "30s"
    # where docs/runbooks/ is browsable: runbook_url = <base>/docs/runbooks/<alert>.md (required to render)
    runbook_base_url: Annotated[str | None, AfterValidator(_base_url)] = None
    objectives: dict[SloName, Percent] = Field(default_factory=dict)  # percent, overriding slo/*.yaml
    max_age: dict[SloName, Duration] = Field(default_factory=dict)  # freshness alerts' max age, overriding slo/*.yaml
