"""The stack-graph executor: dependencies first, independent stacks in parallel (bounded), stop after a failure."""

import threading
import time

from infractl.errors import CloudError
from infractl.models.runs import NullProgress, StackResult
from infractl.models.stacks import Stack, StackSpec
from infractl.services.stacks.executor import Run, each


def stacks(edges: dict[str, list[str]]) -> list[Stack]:
    return [Stack(name=n, spec=StackSpec(cloud="aws", path=n, depends_on=d)) for n, d in edges.items()]


class Recorder:
    def __init__(self, fail: set[str] = frozenset(), pause: float = 0.15):
        self.lock = threading.Lock()
        self.active = 0
        self.peak = 0
        self.events: list[tuple[str, str]] = []
        self.fail = fail
        self.pause = pause

    def __call__(self, stack: Stack) -> StackResult:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
            self.events.append(("start", stack.name))
        time.sleep(self.pause)
        with self.lock:
            self.active -= 1
            self.events.append(("end", stack.name))
        if stack.name in self.fail:
            raise CloudError(f"{stack.name} broke", hint="fix it")
        return StackResult(stack=stack.name, status="applied")


def run(parallelism: int) -> Run:
    return Run(ctx=None, env=None, manifest=None, backend=None, progress=NullProgress(), parallelism=parallelism)


GRAPH = {
    "kms": [],
    "evidence": [],
    "finops": [],
    "network": ["kms"],
    "ci": ["kms", "evidence"],
    "cluster": ["network", "kms"],
    "data": ["network", "kms"],
}
ORDER = ["evidence", "finops", "kms", "ci", "network", "cluster", "data"]


def test_dependencies_finish_before_dependents_start():
    rec = Recorder()
    results = each(run(4), stacks({n: GRAPH[n] for n in ORDER}), rec)
    assert [r.stack for r in results] == ORDER and {r.status for r in results} == {"applied"}
    for name, deps in GRAPH.items():
        for dep in deps:
            assert rec.events.index(("end", dep)) < rec.events.index(("start", name)), (dep, name)


def test_independent_stacks_run_in_parallel_within_the_bound():
    # the three roots meet at a barrier: they can pass it only if they run at the same time (no clock involved;
    # the timeout only ends a run that would otherwise hang, and a broken barrier fails the stack)
    roots = {"evidence", "finops", "kms"}
    barrier = threading.Barrier(len(roots), timeout=60)

    class Meeting(Recorder):
        def __call__(self, stack: Stack) -> StackResult:
            if stack.name in roots:
                barrier.wait()
            return super().__call__(stack)

    rec = Meeting(pause=0)
    results = each(run(3), stacks({n: GRAPH[n] for n in ORDER}), rec)
    assert {r.status for r in results} == {"applied"}, [(r.stack, r.error) for r in results]
    for bound in (1, 2):  # never more at once than the bound
        bounded = Recorder(pause=0.02)
        each(run(bound), stacks({n: GRAPH[n] for n in ORDER}), bounded)
        assert bounded.peak <= bound


def test_failure_stops_new_work_and_reports_the_rest_not_reached():
    rec = Recorder(fail={"kms"})
    results = {r.stack: r for r in each(run(2), stacks({n: GRAPH[n] for n in ORDER}), rec)}
    assert results["kms"].status == "failed" and results["kms"].error == "kms broke"
    assert results["kms"].hint == "fix it" and results["kms"].exit_code == 1
    for name in ("network", "cluster", "data", "ci"):
        assert results[name].status == "not-reached"
    started = {n for kind, n in rec.events if kind == "start"}
    assert started <= {"evidence", "finops", "kms"}


def test_reverse_waits_for_dependents():
    rec = Recorder(pause=0.05)
    order = list(reversed(ORDER))
    each(run(4), stacks({n: GRAPH[n] for n in order}), rec, reverse=True)
    for name, deps in GRAPH.items():
        for dep in deps:  # the dependent (name) is gone before its dependency (dep) starts going
            assert rec.events.index(("end", name)) < rec.events.index(("start", dep)), (name, dep)
