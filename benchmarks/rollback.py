"""Benchmark: the rollout's automatic rollback (issue 20: the time from the first breaching sample to traffic fully
back on stable, goal <= 2 analysis intervals).

Setup (not timed): the native dev stack in a temporary work folder (`infractl dev up --no-docker`), a project with
the dev env's delivery set to a 1 s analysis interval over a 10 s window (tests/rollout_project.py), and a canary
that fails half of its requests through its own fault switch from the start.

Each trial runs `rollout dev --release <new>` and reads the state's `rollback`: `first_bad_scrape_at` (the first
scrape at which the canary's error ratio was over the SLO's threshold, found by a range query at 100 ms steps)
and `stable_at` (haproxy confirmed stable 100 %, canary 0). The baseline, in the same run, is the analysis interval
itself: the figure is printed as seconds and as a ratio to the interval (goal: at most 2).

Run with `make bench`, or alone: `python benchmarks/rollback.py [TRIALS]` (default 3; about 2 minutes with the
stack's start).
"""

from __future__ import annotations

import contextlib
import io
import statistics
import sys
import tempfile
from pathlib import Path

from tests import dev_stack, rollout_project

from infractl.errors import RolledBack
from infractl.models.slo import parse_duration
from infractl.services.dev import monitoring, statefile
from infractl.services.rollout import local, store


def main() -> int:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    releases = [f"bench-{i}" for i in range(trials)]
    interval = parse_duration(rollout_project.FAST["analysis"]["interval"])
    with tempfile.TemporaryDirectory(prefix="rollback-bench-") as tmp:
        project = rollout_project.make(Path(tmp) / "project", releases)
        work = Path(tmp) / "work"
        with contextlib.redirect_stdout(io.StringIO()), dev_stack.running(work):
            directory = statefile.dev_dir(work)
            monitoring.set_faults(directory, error_rate=0.5, canary=True)
            seconds = []
            for release in releases:
                with contextlib.suppress(RolledBack):
                    local.run(work, project, "dev", release)
                state = store.load(directory)
                rb = state.rollback if state else None
                if rb is None or rb.seconds is None:
                    print(f"{release}: no measured rollback ({state.status if state else 'no state'})")
                    return 1
                seconds.append(rb.seconds)
    median = statistics.median(seconds)
    ratio = median / interval
    print(
        f"rollback: first breaching scrape -> stable 100 %: median {median:.2f} s over {trials} trials"
        f" ({', '.join(f'{s:.2f}' for s in seconds)})"
    )
    print(
        f"baseline: the analysis interval {interval} s; ratio {ratio:.2f} intervals (goal <= 2):"
        f" {'met' if ratio <= 2 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
