"""How a rollout step is judged (docs/delivery.md#analysis), from the SLO definitions only: for each SLO of the analysed
service, the canary's error ratio over the analysis window (rules.ratio_expr, the same expression the SLO rules
record, with the canary's label matcher added to every series selector) against the SLO's error budget
(1 - objective). One source of thresholds: the local analysis and the chart's AnalysisTemplate both come from
`criteria()`.

The matcher is added with a real PromQL parser (promql-parser): each vector selector of the expression gets
`label="value"`, so an SLI written with any functions, aggregations or offsets keeps its meaning."""

from __future__ import annotations

from collections.abc import Sequence

from infractl.errors import ConfigError
from infractl.models.environment import Environment
from infractl.models.project import Project
from infractl.models.rollout import Criterion, Sample
from infractl.models.slo import WINDOW, SloSet, parse_duration
from infractl.services.slo import rules

# The dev stack's Prometheus labels the api's targets track="stable" / track="canary", and a canary's target also
# rollout="<the rollout's id>": the analysis selects on that one, so the series of an earlier canary still inside
# the window are never judged with this one.
LOCAL_LABEL = "rollout"
CANARY_HASH_ARG = "canary-hash"  # the AnalysisTemplate's argument: the canary pods' template hash


def with_matcher(expr: str, label: str, value: str) -> str:
    """expr with `label="value"` on every vector selector. ConfigError when expr is not PromQL, or already selects
    on `label` (the canary's series could not be told apart)."""
    import promql_parser

    try:
        tree = promql_parser.parse(expr)
    except ValueError as exc:
        raise ConfigError(f"not PromQL: {exc}: {expr}") from None
    clash: list[str] = []

    def add(node: object, *_: object) -> object | None:
        if not isinstance(node, promql_parser.VectorSelector):
            return None
        if any(m.name == label for m in node.matchers.matchers):
            clash.append(str(node))
            return None
        text = str(node)
        brace = text.index("{")  # str() always prints the matchers' braces, `{}` when there are none
        sep = "" if text[brace + 1] == "}" else ","
        return promql_parser.parse(f"{text[: brace + 1]}{label}={_quoted(value)}{sep}{text[brace + 1 :]}")

    out = str(promql_parser.transform(tree, add, None))
    if clash:
        raise ConfigError(
            f"the selector {clash[0]} already matches on {label!r}: the canary's series cannot be selected",
            hint=f"remove the {label} matcher from the SLI, or set delivery.analysis.canary_label to another label",
        )
    return " ".join(out.split())


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def criteria(sloset: SloSet, env: Environment, *, label: str, value: str) -> list[Criterion]:
    """One criterion per SLO of `delivery.analysis.service`, its queries restricted to label=value."""
    analysis = env.delivery.analysis
    window, window_s = analysis.window, parse_duration(analysis.window)
    chosen = [s for s in sloset.slos if s.service == analysis.service]
    if not chosen:
        services = sorted({s.service for s in sloset.slos})
        raise ConfigError(
            f"environments/{env.name}.yaml: delivery.analysis.service: no SLO of service {analysis.service!r}",
            hint=f"use one of: {', '.join(services)} (slo/*.yaml `service:`)",
        )
    scrape_s = parse_duration(sloset.scrape_interval)
    if window_s < 2 * scrape_s:
        raise ConfigError(
            f"environments/{env.name}.yaml: delivery.analysis.window: {window} holds fewer than two scrapes"
            f" (slo.scrape_interval {sloset.scrape_interval}): a rate needs two samples",
            hint=f"use a window of at least {2 * scrape_s}s",
        )
    out = []
    for slo in chosen:
        where = f"{slo.file}: {slo.name}"
        try:
            ratio = with_matcher(rules.ratio_expr(slo, window), label, value)
            total = with_matcher(slo.total.replace(WINDOW, window), label, value)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None
        out.append(
            Criterion(
                slo=slo.name,
                objective=slo.objective,
                max_error_ratio=slo.error_budget,
                query=ratio,
                requests_query=f"({total}) * {window_s}",
            )
        )
    return out


def local_criteria(sloset: SloSet, env: Environment, rollout_id: str) -> list[Criterion]:
    """The dev stack's: this rollout's canary target carries rollout=<rollout_id>."""
    return criteria(sloset, env, label=LOCAL_LABEL, value=rollout_id)


def judge(criterion: Criterion, error_ratio: float | None, requests: float | None, min_requests: int) -> str:
    """pass | breach | inconclusive (too few canary requests in the window to tell; no series at all)."""
    if requests is None or requests < min_requests or error_ratio is None:
        return "inconclusive"
    return "breach" if error_ratio > criterion.max_error_ratio else "pass"


def step_verdict(samples: Sequence[Sample]) -> str:
    """A sample round's verdict: breach if any SLO breaches, else inconclusive if any is, else pass."""
    verdicts = {s.verdict for s in samples}
    for v in ("breach", "inconclusive"):
        if v in verdicts:
            return v
    return "pass"


def chart_values(project: Project, env: Environment) -> dict:
    """The controlplane chart's `delivery` values: the strategy, the steps and the AnalysisTemplate's metrics
    (Prometheus queries on the canary pods, thresholds = the SLOs' error budgets)."""
    from infractl.services import slo

    delivery = env.delivery
    values: dict = {"enabled": delivery.progressive, "strategy": delivery.strategy, "steps": list(delivery.steps)}
    if not delivery.progressive:
        return values
    if not slo.defined(project.root):
        raise ConfigError(
            f"environments/{env.name}.yaml: delivery.progressive: true needs the SLO definitions (slo/*.yaml)",
            hint="add slo/*.yaml (docs/slo.md) or set delivery.progressive: false",
        )
    sloset = slo.load(project.root, env)
    found = criteria(sloset, env, label=delivery.analysis.canary_label, value=f"{{{{args.{CANARY_HASH_ARG}}}}}")
    analysis = delivery.analysis
    values["bake"] = delivery.bake
    values["analysis"] = {
        "interval": analysis.interval,
        "count": analysis.samples,
        "failureLimit": 0,
        "inconclusiveLimit": analysis.max_inconclusive,
        "args": [{"name": CANARY_HASH_ARG, "podTemplateHashValue": "Latest"}],
        "metrics": [
            {
                "name": c.slo,
                "slo": c.slo,
                "objective": c.objective,
                "maxErrorRatio": c.max_error_ratio,
                "minRequests": analysis.min_requests,
                "query": c.query,
                "requestsQuery": c.requests_query,
            }
            for c in found
        ],
    }
    return values
