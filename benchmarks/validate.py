"""Benchmark: `infractl validate` over every stack x dev, staging and prod against a naive loop, in the same run, on
the same emulator:

- naive loop: for each env, for each stack: `terraform init`, `terraform validate`, `terraform plan` (the stack as
  its own root module, a local backend, the env's inputs), one command after another;
- infractl validate (default --jobs: the CPU count), with its peak memory (the whole process tree, sampled);
- two parallel lower bounds:
  - of the naive loop's work with one validate per stack, from its uncontended timings: (sum over stacks of
    init + validate, plus every plan) / CPUs;
  - of infractl's own work: the CPU time it used (every descendant process, and the emulator serving it) / CPUs,
    which no schedule on this machine can beat;
- and `infractl validate --jobs 1`, to show what the pool adds.

Run with `make bench` (about 8 minutes on 2 cores).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from infractl.adapters import emulator, files, terraform
from infractl.adapters.emulator_accounts import account_access_key
from infractl.models.stacks import Stack
from infractl.services import environments
from infractl.services.project import find_project
from infractl.services.stacks import graph
from infractl.services.stacks.workspace import emulator_override
from infractl.services.validate.planroot import example_inputs
from infractl.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
INFRACTL = [sys.executable, "-m", "infractl", "--root", str(ROOT)]
CPUS = os.cpu_count() or 1
LOCAL_BACKEND = 'terraform {\n  backend "local" {\n    path = "terraform.tfstate"\n  }\n}\n'


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += rss.get(current, 0)
        pending += children.get(current, [])
    return total


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a running process has used so far."""
    if not pid:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(argv: list[str], env: dict[str, str], log: Path, server: int | None) -> tuple[float, int, float, str]:
    """(seconds, peak KiB of the process tree, CPU seconds used by it and by the emulator, stdout)."""
    peak = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = cpu_seconds(server)
    began = time.perf_counter()
    with log.open("a") as err:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.25):
                peak = max(peak, tree_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, _ = proc.communicate()
        done.set()
        sampler.join()
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime) + cpu_seconds(server) - server_before
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv[3:])} exited {proc.returncode}: see {log}")
    return seconds, peak, cpu, out


def naive_loop(work: Path, log: Path) -> tuple[float, dict[str, float], dict[tuple[str, str], float]]:
    """For each env, for each stack: init + validate + plan. Returns (total, init+validate per stack in its
    fastest env, plan per (stack, env))."""
    os.environ["INFRACTL_WORK_DIR"] = str(work)
    settings = Settings()
    project = find_project(ROOT, root=ROOT, work_dir=work)
    manifest = graph.load_manifest(project)
    state = emulator.status(project.emulator_dir)
    binary = terraform.find_binary(settings.terraform_bin)
    cli_config = work / "naive-terraformrc"
    cache = work / "plugin-cache"
    cache.mkdir(exist_ok=True)
    files.write_private(cli_config, terraform.cli_config_text(mirror=settings.provider_mirror, plugin_cache=cache))
    static: dict[str, float] = {}
    plans: dict[tuple[str, str], float] = {}
    total = 0.0
    with log.open("a") as out:
        for env_name in environments.names(project):
            env = environments.load(project, env_name)
            for name in graph.topo_order(manifest):
                stack = Stack(name=name, spec=manifest.stacks[name])
                ws = work / "naive" / env_name / name
                stack_dir = project.terraform_dir / "stacks" / stack.spec.path
                aliases = terraform.provider_aliases(stack_dir, "aws")
                generated = {"zz_bench_backend_override.tf": LOCAL_BACKEND}
                key = account_access_key("${var.account_id}")
                generated["zz_infractl_emulator_override.tf"] = emulator_override(aliases, state.url or "", key)
                chdir = terraform.stage_root_module(project.terraform_dir, stack.spec.path, ws / "src", generated)
                inputs = ws / "inputs.tfvars.json"
                files.write_json(inputs, example_inputs(stack, env, manifest, display="stacks.yaml"))
                child = terraform.child_env(
                    os.environ,
                    cli_config=cli_config,
                    data_dir=ws / "data",
                    extra={"SSL_CERT_FILE": state.ca_file or "", "AWS_CA_BUNDLE": state.ca_file or ""},
                    drop_prefixes=("AWS_",),
                )
                tf = [binary, f"-chdir={chdir}"]
                steps = {}
                for step, args in (
                    ("init", ["init", "-input=false", "-no-color"]),
                    ("validate", ["validate", "-no-color"]),
                    ("plan", ["plan", "-input=false", "-no-color", "-refresh=false", f"-var-file={inputs}"]),
                ):
                    began = time.perf_counter()
                    subprocess.run(
                        [*tf, *args], env=child, stdout=out, stderr=out, stdin=subprocess.DEVNULL, check=True
                    )
                    steps[step] = time.perf_counter() - began
                total += sum(steps.values())
                static[name] = min(static.get(name, float("inf")), steps["init"] + steps["validate"])
                plans[(name, env_name)] = steps["plan"]
    return total, static, plans


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="infractl-bench-validate-") as tmp:
        work = Path(tmp) / "work"
        log = Path(tmp) / "bench.log"
        emulator.start(work / "emulator")
        env = dict(os.environ, INFRACTL_WORK_DIR=str(work), CI="true")
        try:
            # warm the shared plugin cache once, so neither side pays the first copy
            subprocess.run([*INFRACTL, "validate", "--stack", "finops", "--env", "dev"], env=env, capture_output=True)
            print("naive loop (3 envs x 7 stacks: init + validate + plan, one after another) ...", flush=True)
            naive_s, static, plans = naive_loop(work, log)
            server = emulator.status(work / "emulator").pid
            print(f"infractl validate --jobs {CPUS} ...", flush=True)
            parallel_s, peak_kib, cpu, out = run_measured([*INFRACTL, "validate", "--json"], env, log, server)
            timings = json.loads(out)["timings"]
            print("infractl validate --jobs 1 ...", flush=True)
            serial_s, serial_peak, _, _ = run_measured([*INFRACTL, "validate", "--jobs", "1"], env, log, server)
        finally:
            emulator.stop(work / "emulator")
    naive_bound = (sum(static.values()) + sum(plans.values())) / CPUS
    own_bound = cpu / CPUS
    print()
    rows = [
        ("naive loop (21 x init + validate + plan)", naive_s, ""),
        (f"infractl validate --jobs {CPUS}", parallel_s, f"peak memory {peak_kib / 1024:,.0f} MiB"),
        ("infractl validate --jobs 1", serial_s, f"peak memory {serial_peak / 1024:,.0f} MiB"),
        ("lower bound, naive work, one validate per stack", naive_bound, f"(sum / {CPUS} CPUs)"),
        ("lower bound, infractl's own CPU time", own_bound, f"({cpu:.1f} CPU-s / {CPUS} CPUs)"),
    ]
    for label, seconds, note in rows:
        print(f"{label:<48} {seconds:8.1f} s   {note}")
    print()
    print(f"speed-up over the naive loop: {naive_s / parallel_s:.2f}x (goal >= 3x)")
    print(f"vs the naive lower bound:     {parallel_s / naive_bound:.2f}x (goal <= 1.15x)")
    print(f"vs its own CPU lower bound:   {parallel_s / own_bound:.2f}x")
    print(
        "longest tasks (s): "
        + ", ".join(
            f"{k} {sum(v.values()):.1f}" for k, v in sorted(timings.items(), key=lambda kv: -sum(kv[1].values()))[:4]
        )
    )


if __name__ == "__main__":
    main()
