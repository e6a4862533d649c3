"""`dashboards`: Grafana dashboards of one environment's SLOs, built with Grafana's typed SDK
(grafana-foundation-sdk, the `slo` extra): an overview of every SLO, and one dashboard per service area with its
SLOs and its RED metrics (rate, errors, duration). Every panel query is plain PromQL over the recorded SLO series
and the runtime's metrics, with fixed windows: no Grafana variable inside a query (the data source is the one
variable), so each query runs as is against Prometheus."""

from __future__ import annotations

import json
from typing import Any

from infractl.errors import ConfigError
from infractl.models.slo import SloSet

QUANTILES = (0.5, 0.9, 0.99)


def _sdk() -> Any:
    try:
        from grafana_foundation_sdk.builders import dashboard  # noqa: F401
    except ImportError:
        raise ConfigError(
            "rendering SLO dashboards needs grafana-foundation-sdk, which is not installed",
            hint="pip install 'infractl[slo]'",
        ) from None
    import grafana_foundation_sdk

    return grafana_foundation_sdk


class _Board:
    """One dashboard being built: panels get ids and refIds in order; every target's query is kept (`queries`)."""

    def __init__(self, uid: str, title: str, tags: list[str], env: str) -> None:
        from grafana_foundation_sdk.builders import dashboard

        self.env = env
        self.next_id = 1
        self.builder = (
            dashboard.Dashboard(title)
            .uid(uid)
            .tags(tags)
            .refresh("30s")
            .time("now-6h", "now")
            .timezone("browser")
            .editable()
            .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
        )

    def row(self, title: str) -> None:
        from grafana_foundation_sdk.builders import dashboard

        self.builder = self.builder.with_row(dashboard.Row(title).id(self._id()))

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def panel(self, kind: str, title: str, description: str, queries: list[tuple[str, str]], **opts: Any) -> None:
        from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, stat, timeseries
        from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement
        from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode

        panel = {"timeseries": timeseries.Panel, "stat": stat.Panel, "bargauge": bargauge.Panel}[kind]()
        panel = (
            panel.id(self._id())
            .title(title)
            .description(description)
            .datasource(DataSourceRef(type_val="prometheus", uid="${datasource}"))
            .span(opts.get("span", 12))
            .height(opts.get("height", 8))
        )
        if kind == "timeseries":
            legend = common.VizLegendOptions().display_mode(LegendDisplayMode.LIST).placement(LegendPlacement.BOTTOM)
            panel = panel.legend(legend.show_legend(True).calcs([]))
        else:  # the last value of each series
            panel = panel.reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        if "unit" in opts:
            panel = panel.unit(opts["unit"])
        if "min" in opts:
            panel = panel.min(opts["min"])
        if "steps" in opts:
            steps = [Threshold(value=v, color=c) for v, c in opts["steps"]]
            panel = panel.thresholds(dashboard.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps(steps))
        for i, (expr, legend) in enumerate(queries):
            target = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + i))
            if opts.get("exemplar"):
                target = target.exemplar(True)
            if kind != "timeseries":
                target = target.instant()
            panel = panel.with_target(target)
        self.builder = self.builder.with_panel(panel)

    def json(self) -> dict[str, Any]:
        from grafana_foundation_sdk.cog.encoder import JSONEncoder

        return json.loads(JSONEncoder(sort_keys=True).encode(self.builder.build()))


def _slo_panels(board: _Board, sloset: SloSet, match: str) -> None:
    """SLO status, error budget remaining and burn rates of the SLOs `match` selects (a label matcher list)."""
    period, base = sloset.period, sloset.base_window
    page = next(w for w in sloset.windows if w.severity == "page")
    ticket = next(w for w in sloset.windows if w.severity == "ticket")
    board.panel(
        "stat",
        f"SLI over {period}",
        f"Share of good events over the SLO period ({period}), per SLO; its objective beside it.",
        [
            (f"1 - slo:sli_error:ratio_rate{period}{{{match}}}", "{{slo}}"),
            (f"slo:objective:ratio{{{match}}}", "{{slo}} objective"),
        ],
        unit="percentunit",
        span=8,
    )
    board.panel(
        "bargauge",
        f"Error budget remaining ({period})",
        "1 = untouched, 0 = spent, below 0 = overspent.",
        [(f"slo:error_budget_remaining:ratio{{{match}}}", "{{slo}}")],
        unit="percentunit",
        steps=[(None, "red"), (0, "orange"), (0.25, "green")],
        span=8,
    )
    board.panel(
        "stat",
        "Alerts firing",
        "The SLO alerts firing now (ALERTS).",
        [(f'count(ALERTS{{alertstate="firing", slo!="", {match}}}) or vector(0)', "firing")],
        steps=[(None, "green"), (1, "red")],
        span=8,
    )
    board.panel(
        "timeseries",
        "Burn rate (page windows)",
        f"Error ratio / error budget over {page.long} and {page.short}; the page alert needs both above"
        f" {page.factor:g} (1 = spending exactly the budget over {period}).",
        [
            (f"slo:burn_rate:rate{page.long}{{{match}}}", f"{{{{slo}}}} {page.long}"),
            (f"slo:burn_rate:rate{page.short}{{{match}}}", f"{{{{slo}}}} {page.short}"),
        ],
        min=0,
    )
    board.panel(
        "timeseries",
        "Burn rate (ticket windows)",
        f"Error ratio / error budget over {ticket.long} and {ticket.short}; the ticket alert needs both above"
        f" {ticket.factor:g}.",
        [
            (f"slo:burn_rate:rate{ticket.long}{{{match}}}", f"{{{{slo}}}} {ticket.long}"),
            (f"slo:burn_rate:rate{ticket.short}{{{match}}}", f"{{{{slo}}}} {ticket.short}"),
        ],
        min=0,
    )
    board.panel(
        "timeseries",
        f"Error ratio ({base})",
        f"Bad events / all events over {base}, per SLO, against each SLO's error budget.",
        [
            (f"slo:sli_error:ratio_rate{base}{{{match}}}", "{{slo}}"),
            (f"slo:error_budget:ratio{{{match}}}", "{{slo}} budget"),
        ],
        unit="percentunit",
        min=0,
    )


def _quantiles(histogram: str, w: str, by: str = "") -> list[tuple[str, str]]:
    group = f"le, {by}" if by else "le"
    suffix = f" {{{{{by}}}}}" if by else ""
    return [
        (f"histogram_quantile({q:g}, sum by ({group}) (rate({histogram}_bucket[{w}])))", f"p{q * 100:g}{suffix}")
        for q in QUANTILES
    ]


def _api(board: _Board, w: str) -> None:
    total, requests = "controlplane_http_requests_total", "sum by (route) (rate(controlplane_http_requests_total"
    board.row("API: rate, errors, duration")
    board.panel(
        "timeseries",
        "Requests per second",
        "Per route and method (probes are not counted).",
        [(f"sum by (route, method) (rate({total}[{w}]))", "{{method}} {{route}}")],
        unit="reqps",
    )
    board.panel(
        "timeseries",
        "Server error ratio",
        "5xx answers / all answers, per route.",
        [(f'{requests}{{code=~"5.."}}[{w}])) / {requests}[{w}]))', "{{route}}")],
        unit="percentunit",
        min=0,
    )
    board.panel(
        "timeseries",
        "Latency quantiles",
        "From the request duration histogram; exemplars link to the request's trace.",
        _quantiles("controlplane_http_request_duration_seconds", w),
        unit="s",
        exemplar=True,
    )
    board.panel(
        "timeseries",
        "Runs started per second",
        "Per kind.",
        [(f"sum by (kind) (rate(controlplane_runs_started_total[{w}]))", "{{kind}}")],
        unit="ops",
    )


def _worker(board: _Board, w: str) -> None:
    done, acts = "controlplane_workflow_completions_total", "controlplane_activity_executions_total"
    board.row("Workflows")
    board.panel(
        "timeseries",
        "Workflows finished per second",
        "Per workflow and outcome (completed, failed).",
        [(f"sum by (workflow, outcome) (rate({done}[{w}]))", "{{workflow}} {{outcome}}")],
        unit="ops",
    )
    board.panel(
        "timeseries",
        "Workflow failure ratio",
        "Failed / finished, per workflow.",
        [
            (
                f'sum by (workflow) (rate({done}{{outcome="failed"}}[{w}])) / sum by (workflow) (rate({done}[{w}]))',
                "{{workflow}}",
            )
        ],
        unit="percentunit",
        min=0,
    )
    board.panel(
        "timeseries",
        "Workflow duration quantiles",
        "Run accepted -> final state; exemplars link to the run's trace.",
        _quantiles("controlplane_workflow_duration_seconds", w),
        unit="s",
        exemplar=True,
    )
    board.panel(
        "timeseries",
        "Outbox messages published per second",
        "The worker's outbox relay.",
        [(f"sum(rate(controlplane_outbox_published_total[{w}]))", "published")],
        unit="ops",
    )
    board.row("Activities")
    board.panel(
        "timeseries",
        "Activity attempts per second",
        "Per activity and outcome (success, failure); each retry is an attempt.",
        [(f"sum by (activity, outcome) (rate({acts}[{w}]))", "{{activity}} {{outcome}}")],
        unit="ops",
    )
    board.panel(
        "timeseries",
        "Activity failure ratio",
        "Failed attempts / attempts, per activity.",
        [
            (
                f'sum by (activity) (rate({acts}{{outcome="failure"}}[{w}])) / sum by (activity) (rate({acts}[{w}]))',
                "{{activity}}",
            )
        ],
        unit="percentunit",
        min=0,
    )
    board.panel(
        "timeseries",
        "Activity duration quantiles",
        "Per activity.",
        _quantiles("controlplane_activity_duration_seconds", w, by="activity"),
        unit="s",
        exemplar=True,
        span=24,
    )


def _evidence(board: _Board, w: str, sloset: SloSet) -> None:
    fresh = next((s for s in sloset.slos if s.freshness_metric), None)
    board.row("Ledger verification")
    board.panel(
        "timeseries",
        "Verifications per second",
        "The worker's periodic chain checks, per outcome (ok, broken).",
        [(f"sum by (outcome) (rate(controlplane_evidence_verifications_total[{w}]))", "{{outcome}}")],
        unit="ops",
    )
    if fresh is not None:
        from infractl.models.slo import parse_duration

        board.panel(
            "timeseries",
            "Time since the last successful verification",
            f"Alerts above {fresh.max_age}.",
            [(f"time() - max({fresh.freshness_metric})", "age")],
            unit="s",
            min=0,
            steps=[(None, "green"), (parse_duration(fresh.max_age or "1s"), "red")],
        )


AREAS = {"api": _api, "worker": _worker}


def dashboards(sloset: SloSet) -> dict[str, dict[str, Any]]:
    """File stem -> Grafana dashboard JSON: `<env>-slo-overview` and `<env>-<service>` per service area."""
    _sdk()
    env, w = sloset.env, sloset.base_window
    out: dict[str, dict[str, Any]] = {}
    overview = _Board(f"{env}-slo-overview", f"SLOs ({env})", ["slo", env], env)
    overview.row(f"Every SLO ({sloset.period} period)")
    _slo_panels(overview, sloset, f'env="{env}"')
    out[f"{env}-slo-overview"] = overview.json()
    for service in dict.fromkeys(s.service for s in sloset.slos):
        board = _Board(f"{env}-{service}", f"{service} ({env})", ["slo", env, service], env)
        board.row(f"SLOs of {service} ({sloset.period} period)")
        _slo_panels(board, sloset, f'env="{env}", service="{service}"')
        if service == "evidence":
            _evidence(board, w, sloset)
        elif service in AREAS:
            AREAS[service](board, w)
        out[f"{env}-{service}"] = board.json()
    return out


def queries(dashboard: dict[str, Any]) -> list[str]:
    """Every panel query of a dashboard (for checking them against a Prometheus)."""
    return [t["expr"] for p in dashboard.get("panels", []) for t in p.get("targets", []) if t.get("expr")]
