"""The generated SLO rules, run by Prometheus's own rule engine: `promtool check rules` on every env's rule file, and
`promtool test rules` with input series for api-availability and workflow-completion on prod's windows (healthy,
fast burn, recovery, slow burn) and api-availability on dev's 1-day period.

The expected times are computed by hand below, from the SRE workbook's table and the objectives in
environments/*.yaml — not from infractl's window code. How: the series are counters sampled every minute (every 5s in
dev) starting at 0 at t=0, and promtool evaluates at the same instants, so a window [t-w, t] holds a sample at both
ends and rate() does not extrapolate; a window reaching back before t=0 covers the data since t=0 (the counters start
at 0, so nothing is extrapolated there either). The error ratio over a window is then bad/all events inside it.
Traffic is 100 events a minute; "burn B" means a share B x budget of them are bad."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from infractl.models.project import Project
from infractl.services import environments, slo
from infractl.services.slo.dashboards import queries
from tests.conftest import REPO

pytestmark = pytest.mark.integration
RUNBOOKS = "https://github.com/example-org/control-plane/blob/main/docs/runbooks"
PER_MINUTE = 100
NEUTRAL = 5
SLOS = {
    # objective 99.9% in prod -> budget 0.001; 4xx answers are not errors
    "api-availability": {
        "budget": 0.001,
        "service": "api",
        "good": 'controlplane_http_requests_total{route="/v1/runs",method="POST",code="201"}',
        "bad": 'controlplane_http_requests_total{route="/v1/runs",method="POST",code="503"}',
        "neutral": 'controlplane_http_requests_total{route="/v1/runs",method="GET",code="404"}',
        "page": "ApiAvailabilityBudgetBurnPage",
        "ticket": "ApiAvailabilityBudgetBurnTicket",
    },
    # objective 99% in prod -> budget 0.01
    "workflow-completion": {
        "budget": 0.01,
        "service": "worker",
        "good": 'controlplane_workflow_completions_total{workflow="RunWorkflow",outcome="completed"}',
        "bad": 'controlplane_workflow_completions_total{workflow="RunWorkflow",outcome="failed"}',
        "neutral": None,
        "page": "WorkflowCompletionBudgetBurnPage",
        "ticket": "WorkflowCompletionBudgetBurnTicket",
    },
}


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        pytest.fail("promtool is not on PATH: apt-get install prometheus (make tools installs it)")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """env -> its rule file, written by the service API as `infractl slo render` writes it."""
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    out = tmp_path_factory.mktemp("slo")
    files = {}
    for env in ("dev", "staging", "prod"):
        sloset = slo.load(REPO, environments.load(project, env))
        files[env] = slo.write(sloset, out)[0]
    return files


def _one_group(rule_file: Path, name: str, dest: Path) -> tuple[Path, dict]:
    """The rule file with only SLO `name`'s group (as rendered; the other groups read no series here and would
    only slow promtool down), and that group."""
    data = yaml.safe_load(rule_file.read_text())
    groups = [g for g in data["groups"] if g["name"] == f"slo-{name}"]
    assert len(groups) == 1
    dest.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False, width=10_000))
    return dest, groups[0]


def counter(phases: list[tuple[int, float]]) -> str:
    """promtool's notation for a counter at 0 at t=0 that then grows by `per_step` for each of `steps` steps."""
    parts, value = [], 0.0
    for i, (steps, per_step) in enumerate(phases):
        start = value if i == 0 else value + per_step
        parts.append(f"{start:.10g}+{per_step:.10g}x{steps if i == 0 else steps - 1}")
        value += per_step * steps
    return " ".join(parts)


def traffic(spec: dict, burns: list[tuple[int, float]], *, with_bad: bool = True) -> list[dict]:
    """Input series: 100 events a step, a share burn x budget of them bad, per phase (steps, burn). For availability
    5 of the 100 are 404s: neither good nor bad, they count as events (answered without a server error)."""
    neutral = NEUTRAL if spec["neutral"] else 0
    bad = [(steps, PER_MINUTE * burn * spec["budget"]) for steps, burn in burns]
    good = [(steps, PER_MINUTE - neutral - b) for steps, b in bad]
    series = [{"series": spec["good"], "values": counter(good)}]
    if with_bad:
        series.append({"series": spec["bad"], "values": counter(bad)})
    if neutral:
        series.append({"series": spec["neutral"], "values": counter([(sum(s for s, _ in burns), neutral)])})
    return series


def firing(group: dict, alert: str, env: str) -> dict:
    rule = next(r for r in group["rules"] if r.get("alert") == alert)
    severity = rule["labels"]["severity"]
    kebab = "".join(f"-{c.lower()}" if c.isupper() else c for c in alert).lstrip("-")
    return {
        "exp_labels": {
            "severity": severity,
            "slo": rule["labels"]["slo"],
            "service": rule["labels"]["service"],
            "env": env,
        },
        "exp_annotations": {
            "summary": rule["annotations"]["summary"],
            "description": rule["annotations"]["description"],
            "runbook_url": f"{RUNBOOKS}/{kebab}.md",
        },
    }


def run_test(promtool: str, tmp_path: Path, rules: Path, interval: str, test: dict) -> None:
    path = tmp_path / "test.yml"
    path.write_text(
        yaml.safe_dump(
            {"rule_files": [str(rules)], "evaluation_interval": interval, "tests": [{"interval": interval, **test}]},
            sort_keys=False,
            width=10_000,
        )
    )
    done = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"promtool test rules failed:\n{done.stdout}\n{done.stderr}"


def alerts_at(group, spec, env, expectations: list[tuple[str, str, bool]]) -> list[dict]:
    """[(eval_time, severity, firing?)] -> promtool alert_rule_test entries."""
    return [
        {
            "eval_time": at,
            "alertname": spec[severity],
            "exp_alerts": [firing(group, spec[severity], env)] if on else [],
        }
        for at, severity, on in expectations
    ]


def test_every_rendered_rule_file_passes_promtool_check(promtool, rendered):
    done = subprocess.run(
        [promtool, "check", "rules", *map(str, rendered.values())], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == 3


def test_every_dashboard_query_parses_as_promql(promtool, tmp_path):
    """Each panel query as the expression of a recording rule: promtool parses it as Prometheus would (the dev
    stack's tests also run them against a live Prometheus)."""
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    exprs = sorted(
        {
            expr
            for env in ("dev", "prod")
            for board in slo.dashboards(slo.load(REPO, environments.load(project, env))).values()
            for expr in queries(board)
        }
    )
    rules = [{"record": f"dashboard:query_{i}:expr", "expr": expr} for i, expr in enumerate(exprs)]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, width=10_000))
    done = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(rules)} rules found" in done.stdout


@pytest.mark.parametrize("name", sorted(SLOS))
def test_healthy_traffic_alerts_nothing_and_spends_no_budget(promtool, rendered, tmp_path, name):
    """Two hours without a single bad event (not even a series for them): the error ratio is 0, not missing."""
    spec = SLOS[name]
    rules, group = _one_group(rendered["prod"], name, tmp_path / "rules.yml")
    labels = f'{{env="prod",service="{spec["service"]}",slo="{name}"}}'
    test = {
        "input_series": traffic(spec, [(120, 0)], with_bad=False),
        "alert_rule_test": alerts_at(group, spec, "prod", [("120m", "page", False), ("120m", "ticket", False)]),
        "promql_expr_test": [
            {
                "expr": f"slo:{metric}",
                "eval_time": "120m",
                "exp_samples": [{"labels": f"slo:{metric}{labels}", "value": value}],
            }
            for metric, value in [
                ("sli_error:ratio_rate5m", 0),
                ("sli_error:ratio_rate3d", 0),
                ("burn_rate:rate1h", 0),
                ("error_budget_remaining:ratio", 1),
                ("objective:ratio", 1 - spec["budget"]),
            ]
        ],
    }
    run_test(promtool, tmp_path, rules, "1m", test)


@pytest.mark.parametrize("name", sorted(SLOS))
def test_fast_burn_pages_on_time_and_resolves_after_recovery(promtool, rendered, tmp_path, name):
    """4h healthy (H = 240m), then burn 100 for 12 minutes (T0 = 240m, T1 = 252m), then healthy again.

    Page, pair 1h/5m above 14.4: at T0+k the 1h window holds k bad minutes of 60: 100 x k/60 > 14.4 from k = 9
    (8.64); the 5m window is then all bad. Active at 249m, `for: 2m` -> firing at 251m, pending (not firing) at 250m.
    Pair 6h/30m above 6 never holds: the 6h window reaches back to t=0, at most 12 bad minutes of 252: burn 4.76.
    Recovery: at T1+j the 5m window holds 5-j bad minutes: burn 100 x (5-j)/5 = 20 at j = 4, 0 at j = 5 ->
    still firing at 256m, resolved at 257m.
    Ticket, pair 3d/6h above 1: both windows reach back to t=0: 100 x k/(240+k) > 1 from k = 3 (2.42). Active at
    243m, `for: 15m` -> firing at 258m, not at 257m (the bad minutes stay in both windows)."""
    spec = SLOS[name]
    rules, group = _one_group(rendered["prod"], name, tmp_path / "rules.yml")
    test = {
        "input_series": traffic(spec, [(240, 0), (12, 100), (10, 0)]),
        "alert_rule_test": alerts_at(
            group,
            spec,
            "prod",
            [
                ("248m", "page", False),
                ("250m", "page", False),
                ("251m", "page", True),
                ("256m", "page", True),
                ("257m", "page", False),
                ("257m", "ticket", False),
                ("258m", "ticket", True),
            ],
        ),
    }
    run_test(promtool, tmp_path, rules, "1m", test)


@pytest.mark.parametrize("name", sorted(SLOS))
def test_slow_burn_opens_a_ticket_and_never_pages(promtool, rendered, tmp_path, name):
    """1h healthy, then burn 4.5 (T0 = 60m). Page: no window can burn faster than 4.5, below both 14.4 and 6.
    Ticket, pair 3d/6h above 1: both windows reach back to t=0: 4.5 x k/(60+k) > 1 from k = 18 (17.14); active at
    78m, `for: 15m` -> firing at 93m, not at 92m. Pair 1d/2h above 3 needs k > 120: not yet."""
    spec = SLOS[name]
    rules, group = _one_group(rendered["prod"], name, tmp_path / "rules.yml")
    test = {
        "input_series": traffic(spec, [(60, 0), (40, 4.5)]),
        "alert_rule_test": alerts_at(
            group,
            spec,
            "prod",
            [
                ("92m", "ticket", False),
                ("93m", "ticket", True),
                ("93m", "page", False),
                ("100m", "page", False),
            ],
        ),
    }
    run_test(promtool, tmp_path, rules, "1m", test)


def test_dev_period_pages_within_seconds(promtool, rendered, tmp_path):
    """dev: period 1d, objective 99% (budget 0.01), scrape 5s. The workbook's windows x 1/30: page 2m/10s -> 20s (the
    floor: 4 scrape intervals) above 14.4, `for` 2m/30 = 4s -> 5s (one scrape interval); ticket 2h24m/12m above 1,
    `for` 15m/30 = 30s. Steps of 5s, 100 events a step; 12m healthy, then from T0 = 12m 95 of every 100 events bad
    (burn 95; the other 5 are 404s).
    Page: after k bad steps the 2m window (24 steps) holds k: 95 x k/24 > 14.4 from k = 4 (3.64), the 20s window
    is all bad -> active at 12m20s, firing at 12m25s, not at 12m20s.
    Ticket: the 2h24m window reaches back to t=0: 95 x k/(144+k) > 1 from k = 2 (1.53); the 12m window (144 steps)
    95 x k/144 > 1 from k = 2 (1.52) -> active at 12m10s, firing at 12m40s, not at 12m35s."""
    spec = {**SLOS["api-availability"], "budget": 0.01}
    rules, group = _one_group(rendered["dev"], "api-availability", tmp_path / "rules.yml")
    test = {
        "input_series": traffic(spec, [(144, 0), (12, 95)]),
        "alert_rule_test": alerts_at(
            group,
            spec,
            "dev",
            [
                ("12m20s", "page", False),
                ("12m25s", "page", True),
                ("12m35s", "ticket", False),
                ("12m40s", "ticket", True),
            ],
        ),
    }
    run_test(promtool, tmp_path, rules, "5s", test)
