"""The right-sizing rule (services/cost/recommend.py) and its ladders and prices (ladder.py), without any engine:
percentile, the family's ladder, the headroom target and its floor, confidence and what it holds back, the saving."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infractl.models.environment_rightsize import Rightsize
from infractl.models.pricing import Catalog, RegionPrices
from infractl.models.rightsize import Recommendation
from infractl.services.cost import ladder, recommend
from infractl.services.cost.ladder import GIB, MIB
from infractl.services.cost.recommend import Samples

CATALOG = Catalog(
    version="t",
    regions={
        "eu-west-1": RegionPrices(
            rds_hourly={"db.r6g.large": 0.247, "db.r6g.xlarge": 0.494, "db.r6g.2xlarge": 0.988, "db.t4g.medium": 0.072},
            ec2_hourly={"t3.medium": 0.0456, "t3.large": 0.0912, "t3.xlarge": 0.1824},
        )
    },
)


def _samples(dim: str, value: float, n: int = 168, expected: int = 168) -> Samples:
    return Samples(dim, [value] * n, expected, "test")


def _db(klass: str = "db.r6g.xlarge"):
    return ladder.ladder(CATALOG, "eu-west-1", "database", klass)


def _decide(current, steps, samples, headroom=30.0, **kw):
    kw = {"percentile_p": 95, "min_samples": 12, "slo_burning": False} | kw
    return recommend.decide(current, steps, samples, headroom_percent=headroom, **kw)


def test_percentile_is_nearest_rank_and_100_is_the_maximum():
    values = [float(v) for v in range(1, 101)]
    assert recommend.percentile(values, 95) == 95.0
    assert recommend.percentile(values, 100) == 100.0
    assert recommend.percentile([1, 2, 3, 4], 50) == 2
    assert recommend.percentile([7.0], 95) == 7.0


def test_the_ladder_is_the_family_the_catalog_prices_smallest_first():
    current, steps = _db()
    assert current.name == "db.r6g.xlarge" and current.cpu == 4 and current.memory == 32 * GIB
    assert [s.name for s in steps] == ["db.r6g.large", "db.r6g.xlarge", "db.r6g.2xlarge"]  # not t4g, not 4xlarge
    assert ladder.ladder(CATALOG, "eu-west-1", "database", "db.x9.huge") == (None, [])


def test_a_quiet_instance_goes_down_to_the_smallest_size_that_keeps_the_headroom():
    current, steps = _db()
    d = _decide(current, steps, [_samples("cpu", 10), _samples("memory", 12.5)])
    assert (d.recommended.name, d.action, d.confidence) == ("db.r6g.large", "downsize", "high")
    assert d.measurements[0].peak_percent == 10 and d.measurements[0].coverage_percent == 100


def test_the_headroom_is_a_floor_the_recommendation_never_crosses():
    current, steps = _db()
    # 27 % of 4 vCPU = 1.08 vCPU; at 70 % a 2 vCPU size carries at most 1.4: it fits
    assert _decide(current, steps, [_samples("cpu", 27), _samples("memory", 10)]).recommended.name == "db.r6g.large"
    # 36 % of 4 = 1.44 vCPU: above 70 % of 2 vCPU, so the size stays
    d = _decide(current, steps, [_samples("cpu", 36), _samples("memory", 10)])
    assert (d.recommended.name, d.action) == ("db.r6g.xlarge", "keep")
    # the same peak with 20 % headroom (80 % target) fits the smaller size
    assert _decide(current, steps, [_samples("cpu", 36), _samples("memory", 10)], 20).recommended.name == "db.r6g.large"


def test_the_env_model_refuses_a_headroom_below_the_floor():
    with pytest.raises(ValidationError, match="greater than or equal to 10"):
        Rightsize.model_validate({"headroom_percent": {"database": 5}})
    with pytest.raises(ValidationError, match="at most 10000"):
        Rightsize.model_validate({"lookback": "90d", "period": "1m"})
    assert Rightsize().seconds() == (14 * 86400, 300)


def test_an_unmeasured_dimension_is_never_reduced():
    current, steps = _db()
    d = _decide(current, steps, [_samples("cpu", 10)])  # no FreeableMemory: 32 GiB must stay
    assert (d.recommended.name, d.action) == ("db.r6g.xlarge", "keep")
    assert any("memory not measured" in r for r in d.reasons)


def test_a_busy_instance_is_sized_up_even_with_low_confidence():
    current, steps = _db("db.r6g.large")
    d = _decide(current, steps, [_samples("cpu", 85, n=30)])
    assert (d.recommended.name, d.action, d.confidence) == ("db.r6g.xlarge", "upsize", "low")
    d = _decide(current, steps, [_samples("cpu", 100)], headroom=10)  # 2 vCPU at 100 % -> 2.22 -> 4 vCPU
    assert d.recommended.name == "db.r6g.xlarge"
    d = _decide(*_db("db.r6g.2xlarge"), [_samples("cpu", 99)])  # above the largest priced size
    assert d.recommended.name == "db.r6g.2xlarge" and any("largest" in r for r in d.reasons)


@pytest.mark.parametrize(("n", "trust"), [(168, "high"), (135, "high"), (100, "medium"), (84, "medium"), (83, "low")])
def test_confidence_comes_from_the_coverage_of_the_window(n, trust):
    current, steps = _db()
    assert _decide(current, steps, [_samples("cpu", 10, n=n), _samples("memory", 10, n=n)]).confidence == trust


def test_low_confidence_or_a_burning_slo_holds_every_down_size():
    current, steps = _db()
    quiet = [_samples("cpu", 10, n=20), _samples("memory", 10, n=20)]
    d = _decide(current, steps, quiet)
    assert (d.recommended.name, d.action, d.confidence) == ("db.r6g.xlarge", "keep", "low")
    assert any("low confidence" in r for r in d.reasons)
    d = _decide(current, steps, [_samples("cpu", 10), _samples("memory", 10)], slo_burning=True)
    assert (d.action, d.confidence) == ("keep", "high") and any("burning" in r for r in d.reasons)


def test_too_few_samples_give_no_recommendation():
    current, steps = _db()
    d = _decide(current, steps, [_samples("cpu", 10, n=11)])
    assert (d.recommended, d.action, d.confidence) == (None, "insufficient-data", "low")
    assert _decide(current, steps, []).action == "insufficient-data"


def test_pod_requests_move_in_steps_per_dimension():
    current = ladder.pod_size(0.1, 256 * MIB)
    d = _decide(current, None, [_samples("cpu", 30), _samples("memory", 150 / 256 * 100)], headroom=20)
    # 30 m / 0.8 = 37.5 m -> 50m; 150 Mi / 0.8 = 187.5 Mi -> 192Mi
    assert (d.recommended.name, d.action) == ("cpu 50m / memory 192Mi", "downsize")
    d = _decide(current, None, [_samples("cpu", 150), _samples("memory", 200 / 256 * 100)], headroom=20)
    assert (d.recommended.name, d.action) == ("cpu 200m / memory 256Mi", "upsize")
    assert ladder.pod_step("cpu", 0.001) == 0.05 and ladder.quantity("250m") == 0.25 and ladder.quantity("1Gi") == GIB


def test_the_saving_is_current_minus_recommended_and_unpriced_is_never_zero():
    r = Recommendation(kind="database", name="x", current="a", recommended="b", action="downsize")
    r = r.model_copy(update={"current_monthly_usd": 360.62, "recommended_monthly_usd": 180.31})
    assert r.monthly_saving_usd == 180.31 and r.priced
    unpriced = r.model_copy(update={"recommended_monthly_usd": None})
    assert unpriced.monthly_saving_usd is None and not unpriced.priced
    current, steps = ladder.ladder(CATALOG, "eu-central-1", "database", "db.r6g.xlarge")  # no prices there
    assert current.hourly is None and steps == [current]
