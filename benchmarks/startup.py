"""Benchmark: `infractl --help` start-up against a bare Python start-up, in the same run, as a ratio.

Run with `make bench`. The target in issue 2 is under 0.3 s for `infractl --help` (boto3/hvac imported lazily).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 15
INFRACTL = str(Path(sys.executable).with_name("infractl"))


def measure(argv: list[str]) -> float:
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    baseline = measure([sys.executable, "-c", "pass"])
    help_s = measure([INFRACTL, "--help"])
    env_s = measure([INFRACTL, "env", "list", "--json"])
    print(f"python -c pass (baseline)   median {baseline * 1000:7.1f} ms")
    print(f"infractl --help             median {help_s * 1000:7.1f} ms   ratio {help_s / baseline:5.2f}x baseline")
    print(f"infractl env list --json    median {env_s * 1000:7.1f} ms   ratio {env_s / baseline:5.2f}x baseline")
    print(f"target: --help < 300 ms -> {'met' if help_s < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
