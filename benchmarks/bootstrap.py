"""Benchmark: `infractl bootstrap dev --emulate` (stack DAG, independent stacks in parallel) against applying the
same stacks one after another with raw `terraform`, in the same run, each on a fresh emulator; then the no-change
re-run against a raw `terraform plan` of each stack. Prints both times and the ratios.

It also prints the bootstrap's critical path: the DAG's longest chain of stacks weighted by each stack's own
duration in that bootstrap (`kms 50 s -> network 28 s -> data 96 s`), its sum, and the bootstrap's wall time beside
it. The baseline of that line, from the same run, is the sum of every stack's duration (what the same stacks take
one after another): their ratio is what the DAG's parallelism gives, and `wall / critical path` near 1 says the
run is already at its critical path, so only a shorter stack on that path makes it faster.

Run with `make bench` (takes several minutes: the aws provider's RDS and EKS waiters dominate).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infractl.adapters import emulator
from infractl.models.runs import NullProgress
from infractl.services.context import Context
from infractl.services.project import find_project
from infractl.services.stacks import graph, runs
from infractl.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ENV = "dev"
INFRACTL = [sys.executable, "-m", "infractl", "--root", str(ROOT)]


def timed(argv: list[str], env: dict[str, str], log: Path) -> float:
    began = time.perf_counter()
    with log.open("a") as out:
        subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def critical_path(durations: dict[str, float], depends_on: dict[str, list[str]]) -> list[str]:
    """The chain of stacks, following depends_on, whose durations add up to the most."""
    best: dict[str, tuple[float, list[str]]] = {}

    def longest(name: str) -> tuple[float, list[str]]:
        if name not in best:
            ups = [longest(u) for u in depends_on.get(name, []) if u in durations]
            total, chain = max(ups, default=(0.0, []))
            best[name] = (total + durations[name], [*chain, name])
        return best[name]

    return max((longest(n) for n in durations), default=(0.0, []))[1]


def infractl_run(work: Path, log: Path) -> tuple[float, float, dict[str, float]]:
    env = dict(os.environ, INFRACTL_WORK_DIR=str(work), CI="true")
    began = time.perf_counter()
    with log.open("a") as err:
        done = subprocess.run(
            [*INFRACTL, "bootstrap", ENV, "--emulate", "--yes", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            check=True,
        )
    first = time.perf_counter() - began
    durations = {s["stack"]: s["duration_s"] for s in json.loads(done.stdout)["stacks"]}
    again = timed([*INFRACTL, "bootstrap", ENV, "--emulate", "--yes"], env, log)
    return first, again, durations


def report_critical_path(boot: float, durations: dict[str, float]) -> None:
    manifest = graph.load_manifest(find_project(ROOT, root=ROOT))
    depends_on = {name: list(spec.depends_on) for name, spec in manifest.stacks.items()}
    path = critical_path(durations, depends_on)
    length = sum(durations[n] for n in path)
    total = sum(durations.values())
    print("critical path                " + " -> ".join(f"{n} {durations[n]:.0f} s" for n in path))
    print(
        f"                             = {length:7.1f} s   bootstrap wall {boot:7.1f} s"
        f"   (wall / critical path {boot / length:4.2f})"
    )
    print(f"every stack one after another {total:7.1f} s   (sum of the stack times above)   ratio {total / boot:4.2f}x")


def raw_run(work: Path, log: Path) -> tuple[float, float]:
    """The same stacks, one after another: terraform init, apply -auto-approve, output -json; then plan each."""
    env = dict(os.environ, INFRACTL_WORK_DIR=str(work), CI="true")
    subprocess.run([*INFRACTL, "state", "bootstrap", ENV, "--emulate"], env=env, check=True, capture_output=True)
    os.environ["INFRACTL_WORK_DIR"] = str(work)
    settings = Settings()
    ctx = Context(project=find_project(ROOT, root=ROOT, work_dir=work), settings=settings, emulate=True)
    run = runs._start(ctx, ENV, NullProgress(), parallelism=1)
    stacks = graph.select(run.manifest, run.env.cloud)
    apply_s = plan_s = 0.0
    workspaces = []
    for stack in stacks:  # dependency order, sequential
        began = time.perf_counter()
        ws = run.open(stack)  # stages the sources (ms), writes inputs from upstream outputs, runs terraform init
        apply_s += time.perf_counter() - began
        tf = [ws.runner.binary, f"-chdir={ws.runner.chdir}"]
        apply_s += timed(
            [*tf, "apply", "-auto-approve", "-input=false", f"-var-file={ws.inputs_file}"], ws.runner.env, log
        )
        run.outputs[stack.name] = ws.runner.output()
        workspaces.append(ws)
    for ws in workspaces:
        tf = [ws.runner.binary, f"-chdir={ws.runner.chdir}"]
        plan_s += timed([*tf, "plan", "-input=false", f"-var-file={ws.inputs_file}"], ws.runner.env, log)
        ws.release()
    return apply_s, plan_s


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="infractl-bench-") as tmp:
        log = Path(tmp) / "bench.log"
        results = {}
        for name, fn in (("infractl", infractl_run), ("raw", raw_run)):
            work = Path(tmp) / name
            emulator.start(work / "emulator")
            try:
                results[name] = fn(work, log)
                if name == "infractl":  # printed at once: the raw run takes as long again
                    report_critical_path(results[name][0], results[name][2])
            except subprocess.CalledProcessError:
                print(log.read_text()[-4000:], file=sys.stderr)
                raise
            finally:
                emulator.stop(work / "emulator")
        (boot, rerun, _), (raw_apply, raw_plan) = results["infractl"], results["raw"]
        print(
            f"bootstrap {ENV} from nothing   infractl {boot:7.1f} s   raw terraform, sequential {raw_apply:7.1f} s"
            f"   ratio {raw_apply / boot:4.2f}x"
        )
        print(
            f"no-change re-run             infractl {rerun:7.1f} s   raw terraform plan each    {raw_plan:7.1f} s"
            f"   ratio {raw_plan / rerun:4.2f}x"
        )
        print("goal: bootstrap ratio >= 1.3x from DAG parallelism ->", "met" if raw_apply / boot >= 1.3 else "NOT met")


if __name__ == "__main__":
    main()
