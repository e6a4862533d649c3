"""`rule_groups`: the Prometheus rule file of one environment's SLOs, one group per SLO (its recording rules
first, then its alerts, so an alert reads the series recorded in the same evaluation).

Recorded series, each labelled slo, service and env (docs/slo.md#recorded-series):
- `slo:sli_errors:rate<base>`, `slo:sli_total:rate<base>`: bad and all events per second over the shortest window;
- `slo:sli_error:ratio_rate<w>`: the error ratio over each alert window w, and over the period (from the two
  above, so the period's ratio weighs every window by its traffic without reading 30 days of raw samples);
- `slo:objective:ratio`, `slo:error_budget:ratio` (1 - objective), `slo:error_budget_remaining:ratio` (over the
  period: 1 untouched, 0 spent, below 0 overspent);
- `slo:burn_rate:rate<w>`: the error ratio over w divided by the error budget (1 = spending exactly the budget)."""

from __future__ import annotations

from typing import Any

from infractl.models.slo import WINDOW, Slo, SloSet, parse_duration


def num(value: float) -> str:
    """A PromQL number literal: 6.0 -> 6, 0.001 -> 0.001 (repr: no digits lost)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def selector(slo: Slo, env: str) -> str:
    return f'{{slo="{slo.name}", env="{env}"}}'


def labels(slo: Slo, env: str) -> dict[str, str]:
    return {"slo": slo.name, "service": slo.service, "env": env}


def ratio_expr(slo: Slo, window: str) -> str:
    """The error ratio over `window` from the raw SLI (an errors expression that matches no series reads 0)."""
    errors, total = (e.replace(WINDOW, window) for e in (slo.errors, slo.total))
    return f"(({errors}) or vector(0)) / ({total})"


def _slo_group(sloset: SloSet, slo: Slo) -> dict[str, Any]:
    env, base, period = sloset.env, sloset.base_window, sloset.period
    sel, budget, objective = selector(slo, env), num(slo.error_budget), num(round(slo.objective / 100, 12))
    lab = labels(slo, env)
    errors, total = (e.replace(WINDOW, base) for e in (slo.errors, slo.total))
    rules: list[dict[str, Any]] = [
        {"record": f"slo:sli_errors:rate{base}", "expr": f"({errors}) or vector(0)", "labels": dict(lab)},
        {"record": f"slo:sli_total:rate{base}", "expr": total, "labels": dict(lab)},
    ]
    for window in sloset.rate_windows():
        expr = (
            f"slo:sli_errors:rate{base}{sel} / slo:sli_total:rate{base}{sel}"
            if window == base
            else ratio_expr(slo, window)
        )
        rules.append({"record": f"slo:sli_error:ratio_rate{window}", "expr": expr, "labels": dict(lab)})
    rules += [
        {
            "record": f"slo:sli_error:ratio_rate{period}",
            "expr": f"sum_over_time(slo:sli_errors:rate{base}{sel}[{period}])"
            f" / sum_over_time(slo:sli_total:rate{base}{sel}[{period}])",
            "labels": dict(lab),
        },
        {"record": "slo:objective:ratio", "expr": f"vector({objective})", "labels": dict(lab)},
        {"record": "slo:error_budget:ratio", "expr": f"vector({budget})", "labels": dict(lab)},
        {
            "record": "slo:error_budget_remaining:ratio",
            "expr": f"1 - slo:sli_error:ratio_rate{period}{sel} / {budget}",
            "labels": dict(lab),
        },
    ]
    for window in [*sloset.rate_windows(), period]:
        rules.append(
            {
                "record": f"slo:burn_rate:rate{window}",
                "expr": f"slo:sli_error:ratio_rate{window}{sel} / {budget}",
                "labels": dict(lab),
            }
        )
    for alert in slo.alerts:
        if alert.kind == "burn":
            pairs = [w for w in sloset.windows if w.severity == alert.severity]
            expr = " or ".join(
                f"(slo:burn_rate:rate{w.long}{sel} > {num(w.factor)} and slo:burn_rate:rate{w.short}{sel} >"
                f" {num(w.factor)})"
                for w in pairs
            )
        else:
            expr = f"time() - max({slo.freshness_metric}) > {num(parse_duration(slo.max_age or '0s'))}"
        rules.append(
            {
                "alert": alert.name,
                "expr": expr,
                "for": alert.for_duration,
                "labels": {"severity": alert.severity, **lab},
                "annotations": {
                    "summary": alert.summary,
                    "description": alert.description,
                    "runbook_url": alert.runbook_url,
                },
            }
        )
    return {"name": f"slo-{slo.name}", "rules": rules}


def rule_groups(sloset: SloSet) -> list[dict[str, Any]]:
    """The `groups` of a Prometheus rule file: one group per SLO."""
    return [_slo_group(sloset, slo) for slo in sloset.slos]
