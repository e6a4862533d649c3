"""make bench's critical path: the DAG's longest chain weighted by each stack's own duration."""

from benchmarks.bootstrap import critical_path

DEPENDS_ON = {
    "kms": [],
    "network": ["kms"],
    "cluster": ["network", "kms"],
    "data": ["network", "kms"],
    "evidence": [],
    "ci": ["kms", "evidence"],
    "finops": [],
}


def test_the_critical_path_follows_depends_on_and_the_longest_durations():
    durations = {"kms": 50, "network": 28, "cluster": 90, "data": 176, "evidence": 120, "ci": 20, "finops": 40}
    assert critical_path(durations, DEPENDS_ON) == ["kms", "network", "data"]
    durations["data"] = 60  # cluster now takes longer than data, and evidence -> ci (140) less than kms -> ... (168)
    assert critical_path(durations, DEPENDS_ON) == ["kms", "network", "cluster"]
    durations.update(evidence=200)
    assert critical_path(durations, DEPENDS_ON) == ["evidence", "ci"]


def test_stacks_not_in_the_run_are_left_out():
    assert critical_path({"data": 5.0}, DEPENDS_ON) == ["data"]
    assert critical_path({}, DEPENDS_ON) == []
