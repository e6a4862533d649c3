"""SLOs as code (docs/slo.md): the SLO definition files `slo/*.yaml` (SloFile, whose JSON schema is
docs/schemas/slo.schema.json) and what `services/slo` makes of them for one environment (SloSet: objectives, burn-rate
windows, alerts and runbooks).

The SLIs read the runtime's metric families (docs/runtime.md#metrics); the histograms' bucket boundaries are part of
that contract (HISTOGRAM_BUCKETS): a latency SLI counts the events slower than one of them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# A Prometheus duration as infractl writes and reads it: weeks to seconds, each unit at most once, in that order.
DURATION = re.compile(r"(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?")
UNITS = (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))
WINDOW = "{{window}}"  # the placeholder of a ratio SLI's range: `rate(x[{{window}}])`
SLO_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
ALERT_NAME = r"^[A-Z][A-Za-z0-9]*$"
SEVERITIES = ("page", "ticket")

# The runtime's histograms and their bucket boundaries in seconds (the metrics contract of issue 18).
HISTOGRAM_BUCKETS: dict[str, tuple[float, ...]] = {
    "controlplane_http_request_duration_seconds": (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    "controlplane_workflow_duration_seconds": (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    "controlplane_activity_duration_seconds": (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
}


def parse_duration(text: str) -> int:
    """`1h30m` -> 5400 (seconds). ValueError for anything that is not a positive duration in w, d, h, m, s."""
    match = DURATION.fullmatch(text) if isinstance(text, str) else None
    if not text or match is None:
        raise ValueError(f"{text!r} is not a duration such as 30d, 6h, 90s or 1h30m (units w d h m s, in that order)")
    seconds = sum(int(n) * size for n, (_, size) in zip(match.groups(), UNITS, strict=True) if n)
    if seconds <= 0:
        raise ValueError(f"{text!r} is not longer than 0s")
    return seconds


def bounded_duration(low: int, high: int) -> AfterValidator:
    """A pydantic validator of a duration string (parse_duration's) from `low` to `high` seconds."""

    def check(value: str) -> str:
        seconds = parse_duration(value)
        if not low <= seconds <= high:
            raise ValueError(f"{value}: use a duration from {low}s to {high}s")
        return value

    return AfterValidator(check)


def format_duration(seconds: int) -> str:
    """5400 -> `1h30m`; 604800 -> `7d` (days, not weeks: the SRE workbook's windows read as 1d, 3d, 30d)."""
    if seconds <= 0:
        raise ValueError(f"{seconds} is not a positive number of seconds")
    parts, rest = [], int(seconds)
    for unit, size in UNITS[1:]:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts)


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _slo_name(value: str) -> str:
    if not SLO_NAME.fullmatch(value) or len(value) > 48:
        raise ValueError("use lowercase words joined by hyphens, at most 48 characters (e.g. api-availability)")
    return value


# The patterns in json_schema_extra go into the JSON schema (for editors); the validators give the clearer messages.
Duration = Annotated[
    str, AfterValidator(_duration), Field(json_schema_extra={"pattern": rf"^{DURATION.pattern}$", "minLength": 2})
]
SloName = Annotated[
    str, AfterValidator(_slo_name), Field(json_schema_extra={"pattern": rf"^{SLO_NAME.pattern}$", "maxLength": 48})
]
Percent = Annotated[float, Field(gt=0, lt=100)]
Severity = Literal["page", "ticket"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _check_promql(text: str) -> str:
    """What can be checked without a PromQL parser: the window placeholder is there, in a range, and the brackets
    pair up (promtool checks the rendered rules: tests/integration/test_slo_rules.py)."""
    if f"[{WINDOW}]" not in text:
        raise ValueError(f"no range [{WINDOW}]: write e.g. sum(rate(my_metric_total[{WINDOW}]))")
    if "{{" in text.replace(WINDOW, ""):
        raise ValueError(f"{WINDOW} is the only placeholder")
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    quote = None
    for ch in text.replace(WINDOW, "5m"):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'`":
            quote = ch
        elif ch in "([{":
            stack.append(ch)
        elif ch in pairs and (not stack or stack.pop() != pairs[ch]):
            raise ValueError(f"unbalanced {ch!r}")
    if stack or quote:
        raise ValueError(f"unclosed {(quote or stack[-1])!r}")
    return text


PromQL = Annotated[str, Field(min_length=1), AfterValidator(_check_promql)]


class RatioSli(_Strict):
    """Bad events over all events: two PromQL expressions of per-second rates over `[{{window}}]`, each one series
    without labels (aggregate with sum). An errors expression matching no series yet reads 0."""

    kind: Literal["ratio"]
    errors: PromQL
    total: PromQL

    def expressions(self) -> tuple[str, str]:
        return self.errors, self.total


class LatencySli(_Strict):
    """The share of events slower than `threshold_seconds`, which must be one of the histogram's bucket boundaries
    (a threshold between two boundaries cannot be counted exactly)."""

    kind: Literal["latency"]
    histogram: str = Field(json_schema_extra={"enum": list(HISTOGRAM_BUCKETS)})
    threshold_seconds: float = Field(gt=0)
    matchers: str = Field(default="", pattern=r"^[^{}]*$")  # extra label matchers, e.g. route!="/v1/debug"

    @field_validator("histogram")
    @classmethod
    def _histogram(cls, v: str) -> str:
        if v not in HISTOGRAM_BUCKETS:
            raise ValueError(f"{v!r} is not a histogram of the runtime; use one of {', '.join(HISTOGRAM_BUCKETS)}")
        return v

    @field_validator("threshold_seconds")
    @classmethod
    def _bucket(cls, v: float, info: ValidationInfo) -> float:
        histogram = info.data.get("histogram")
        buckets = HISTOGRAM_BUCKETS.get(histogram or "")
        if buckets is not None and v not in buckets:
            listed = " ".join(f"{b:g}" for b in buckets)
            raise ValueError(f"{v:g} is not a bucket boundary of {histogram}; use one of {listed}")
        return v

    def le(self) -> str:
        """The bucket's `le` label as the Prometheus client writes it (Go float formatting: 1 -> "1.0")."""
        return repr(float(self.threshold_seconds))

    def expressions(self) -> tuple[str, str]:
        extra = f", {self.matchers}" if self.matchers.strip() else ""
        count = f"{self.histogram}_count{{{self.matchers}}}" if extra else f"{self.histogram}_count"
        bucket = f'{self.histogram}_bucket{{le="{self.le()}"{extra}}}'
        total = f"sum(rate({count}[{WINDOW}]))"
        return f"{total} - sum(rate({bucket}[{WINDOW}]))", total


Sli = Annotated[RatioSli | LatencySli, Field(discriminator="kind")]


class Freshness(_Strict):
    """An alert when a unix-time gauge (the last success of a periodic check) is older than `max_age` (default here,
    per env in `slo.max_age`)."""

    metric: Annotated[str, Field(pattern=METRIC_NAME)]
    max_age: Duration
    alert: Annotated[str, Field(pattern=ALERT_NAME)]
    severity: Severity = "ticket"


class SloSpec(_Strict):
    name: SloName
    description: str = Field(min_length=10)
    sli: Sli
    objective: Percent  # the default; an env overrides it in `slo.objectives`
    freshness: Freshness | None = None


class SloFile(_Strict):
    """One service area's SLOs: slo/<area>.yaml."""

    service: SloName
    slos: list[SloSpec] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    """docs/schemas/slo.schema.json (a unit test keeps the file equal to this)."""
    schema = SloFile.model_json_schema()
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://infractl.dev/schemas/slo.schema.json",
        "title": "infractl SLO definitions (slo/*.yaml, docs/slo.md)",
        **schema,
    }


# -- what services/slo makes of the files for one environment


class BurnWindow(_Strict):
    """One pair of the multi-window, multi-burn-rate alerts: fire when the error ratio is above `factor` times the
    error budget over both windows (seconds in the `_s` fields)."""

    severity: Severity
    long: str
    short: str
    long_s: int
    short_s: int
    factor: float
    budget_consumed: float  # the share of the period's budget burnt when the long window first fires


class SloAlert(_Strict):
    name: str
    severity: Severity
    kind: Literal["burn", "freshness"]
    for_duration: str  # the rule's `for`
    runbook: str  # docs/runbooks/<file>.md, relative to the project root
    runbook_url: str
    summary: str
    description: str


class Slo(_Strict):
    name: str
    service: str
    description: str
    file: str  # slo/<area>.yaml
    kind: Literal["ratio", "latency"]
    errors: str  # PromQL with the {{window}} placeholder
    total: str
    objective: float  # percent, this env's
    error_budget: float  # 1 - objective, as a ratio
    freshness_metric: str | None = None
    max_age: str | None = None
    alerts: list[SloAlert]


class SloSet(_Strict):
    """The SLOs of one environment, ready to become rules and dashboards."""

    env: str
    period: str
    period_s: int
    scrape_interval: str
    min_window: str  # 4 scrape intervals: no window is shorter (a rate needs samples)
    base_window: str  # the shortest window: the rate of the period's ratio and of the dashboards
    runbook_base_url: str
    windows: list[BurnWindow]
    alert_for: dict[str, str]  # severity -> the `for` of its burn-rate alert
    slos: list[Slo]

    def rate_windows(self) -> list[str]:
        """Every distinct window of the burn-rate alerts, shortest first."""
        seen: dict[str, int] = {}
        for w in self.windows:
            seen[w.long], seen[w.short] = w.long_s, w.short_s
        return sorted(seen, key=seen.__getitem__)

    def alerts(self) -> list[SloAlert]:
        return [a for s in self.slos for a in s.alerts]


class SloRender(_Strict):
    """What `infractl slo render` wrote."""

    env: str
    out_dir: str
    rule_file: str
    dashboards: list[str]
    groups: int
    recording_rules: int
    alerts: list[str]
    notes: list[str] = Field(default_factory=list)
