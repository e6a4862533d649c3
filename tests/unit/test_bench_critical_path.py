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


def test_the_report_reads_the_projects_dag_and_prints_path_total_and_baseline(capsys):
    from benchmarks.bootstrap import report_critical_path

    durations = {"kms": 50.0, "network": 28.0, "cluster": 90.0, "data": 96.0, "evidence": 120.0, "ci": 20.0}
    report_critical_path(180.0, {**durations, "finops": 40.0})
    out = capsys.readouterr().out
    assert "critical path                kms 50 s -> network 28 s -> data 96 s" in out
    assert "=   174.0 s   bootstrap wall   180.0 s" in out
    assert "every stack one after another   444.0 s" in out and "ratio 2.47x" in out
