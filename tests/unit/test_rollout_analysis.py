"""The rollout's analysis comes from the SLO definitions only (services/rollout/analysis.py): the canary matcher is
added to every series selector by a real PromQL parser, thresholds are the SLOs' error budgets, and a sample is
judged pass / breach / inconclusive."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.conftest import REPO

from infractl.errors import ConfigError
from infractl.models.environment_delivery import Delivery
from infractl.models.rollout import Criterion, Sample
from infractl.services import environments, slo
from infractl.services.project import find_project
from infractl.services.rollout import analysis
from infractl.services.slo import rules

PROJECT = find_project(REPO)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("up", 'up{track="canary"}'),
        ('sum(rate(x{code=~"5.."}[5m]))', 'sum(rate(x{track="canary",code=~"5.."}[5m]))'),
        ('a{b="}{"} / on() b offset 5m', 'a{track="canary",b="}{"} / on () b{track="canary"} offset 5m'),
        ('{__name__="up"}', '{track="canary",__name__="up"}'),
    ],
)
def test_with_matcher_adds_the_label_to_every_selector(expr: str, expected: str):
    assert analysis.with_matcher(expr, "track", "canary") == expected


def test_with_matcher_refuses_a_selector_on_the_same_label_and_bad_promql():
    with pytest.raises(ConfigError, match="already matches on 'track'"):
        analysis.with_matcher('x{track="stable"}', "track", "canary")
    with pytest.raises(ConfigError, match="not PromQL"):
        analysis.with_matcher("sum(", "track", "canary")


@pytest.mark.parametrize("env_name", ["dev", "staging", "prod"])
def test_criteria_are_the_slo_ratios_of_the_api_with_their_error_budgets(env_name: str):
    env = environments.load(PROJECT, env_name)
    sloset = slo.load(PROJECT.root, env)
    found = analysis.local_criteria(sloset, env, "r1")
    api = [s for s in sloset.slos if s.service == "api"]
    assert [c.slo for c in found] == [s.name for s in api] and found
    for c, s in zip(found, api, strict=True):
        assert c.max_error_ratio == pytest.approx(1 - s.objective / 100)
        assert c.objective == s.objective
        plain = rules.ratio_expr(s, env.delivery.analysis.window)
        # the very expression the SLO rules record, restricted to the canary: every series selector, none other
        assert c.query == analysis.with_matcher(plain, "rollout", "r1")
        assert c.query.count('rollout="r1"') == plain.count("controlplane_")


def test_dev_objectives_override_the_files():
    env = environments.load(PROJECT, "dev")
    found = {c.slo: c for c in analysis.local_criteria(slo.load(PROJECT.root, env), env, "r1")}
    assert found["api-availability"].max_error_ratio == pytest.approx(0.01)  # dev: 99 % (slo/api.yaml: 99.9)
    assert found["api-latency"].max_error_ratio == pytest.approx(0.05)


def test_a_window_shorter_than_two_scrapes_is_refused():
    env = environments.load(PROJECT, "staging")  # scrape_interval 15s
    bad = env.model_copy(
        update={
            "delivery": env.delivery.model_copy(
                update={"analysis": env.delivery.analysis.model_copy(update={"window": "20s"})}
            )
        }
    )
    with pytest.raises(ConfigError, match="fewer than two scrapes"):
        analysis.local_criteria(slo.load(PROJECT.root, env), bad, "r1")


def _criterion(max_ratio: float = 0.01) -> Criterion:
    return Criterion(slo="s", objective=99, max_error_ratio=max_ratio, query="q", requests_query="r")


@pytest.mark.parametrize(
    ("ratio", "requests", "verdict"),
    [
        (0.0, 50.0, "pass"),
        (0.01, 50.0, "pass"),  # at the objective exactly: within budget
        (0.0101, 50.0, "breach"),
        (0.5, 5.0, "inconclusive"),  # too few requests to tell, even a bad ratio
        (None, 50.0, "inconclusive"),
        (0.0, None, "inconclusive"),
    ],
)
def test_judge(ratio, requests, verdict):
    assert analysis.judge(_criterion(), ratio, requests, min_requests=10) == verdict


def test_step_verdict_breach_wins_then_inconclusive():
    def s(v: str) -> Sample:
        return Sample(at=datetime.now(UTC), slo="s", error_ratio=0, requests=1, max_error_ratio=0.1, verdict=v)

    assert analysis.step_verdict([s("pass"), s("pass")]) == "pass"
    assert analysis.step_verdict([s("pass"), s("inconclusive")]) == "inconclusive"
    assert analysis.step_verdict([s("inconclusive"), s("breach")]) == "breach"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([], "at least one step"),
        ([10, 10, 100], "must increase"),
        ([10, 50], "last step must be 100"),
        ([0, 100], "greater than or equal to 1"),
    ],
)
def test_delivery_steps_are_validated(steps, message):
    with pytest.raises(ValueError, match=message):
        Delivery(steps=steps)


def test_chart_values_carry_the_slo_thresholds_for_progressive_envs():
    staging = analysis.chart_values(PROJECT, environments.load(PROJECT, "staging"))
    assert staging["enabled"] is True and staging["steps"] == [10, 25, 50, 100]
    metrics = {m["slo"]: m for m in staging["analysis"]["metrics"]}
    assert metrics["api-availability"]["maxErrorRatio"] == pytest.approx(0.005)  # staging: 99.5
    assert "{{args.canary-hash}}" in metrics["api-availability"]["query"]
    assert 'rollouts_pod_template_hash="{{args.canary-hash}}"' in metrics["api-latency"]["query"]
    assert analysis.chart_values(PROJECT, environments.load(PROJECT, "dev")) == {
        "enabled": False,
        "strategy": "canary",
        "steps": [10, 25, 50, 100],
    }
