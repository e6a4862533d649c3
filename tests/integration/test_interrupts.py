"""A SIGINT to infractl's pid alone (CI cancellation, `timeout -s INT`) while Terraform applies: Terraform gets it,
stops, releases its lock; infractl prints the run summary and exits 130, leaving no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import aws

pytestmark = pytest.mark.usefixtures("sigint_as_a_terminal_sends_it")

BUCKET = "infractl-tfstate-123456789012-eu-west-1-dev"
SLEEP_S = 271  # a number no other process here sleeps for: how its leftovers are found
SLOW = """
terraform {
  backend "s3" {}
}
variable "seconds" {
  type = number
}
resource "terraform_data" "first" {
  input = "done before the interrupt"
}
resource "terraform_data" "slow" {
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = "sleep ${var.seconds}"
  }
}
output "slow" {
  value = terraform_data.slow.id
}
"""
QUICK = """
terraform {
  backend "s3" {}
}
resource "terraform_data" "quick" {
  input = "quick"
}
"""
LATER = """
terraform {
  backend "s3" {}
}
variable "upstream" {
  type = string
}
resource "terraform_data" "later" {
  input = var.upstream
}
"""


@pytest.fixture
def three_stacks(project: Path) -> Path:
    for name, text in (("quick", QUICK), ("slow", SLOW), ("later", LATER)):
        folder = project / "terraform" / "stacks" / "test" / name
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(text)
    manifest = {
        "stacks": {
            "quick": {"cloud": "aws", "path": "test/quick"},
            "slow": {"cloud": "aws", "path": "test/slow", "inputs": {"seconds": "env.stacks.slow.seconds"}},
            "later": {
                "cloud": "aws",
                "path": "test/later",
                "depends_on": ["slow"],
                "inputs": {"upstream": "stack.slow.slow"},
            },
        }
    }
    (project / "terraform" / "stacks" / "stacks.yaml").write_text(yaml.safe_dump(manifest))
    env_file = project / "environments" / "dev.yaml"
    data = yaml.safe_load(env_file.read_text())
    data["stacks"]["slow"] = {"seconds": SLEEP_S}
    env_file.write_text(yaml.safe_dump(data))
    return project


def lock_operation(s3, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=f"{key}.tflock")["Body"].read())["Operation"]
    except ClientError:
        return None


def leftovers(marker: str) -> list[str]:
    """Live processes whose command line mentions marker."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append(f"{entry.name}: {cmdline}")
    return found


def test_sigint_to_infractl_alone_stops_terraform_and_reports_every_stack(
    invoke, three_stacks, emulated, tmp_path, monkeypatch
):
    s3 = aws(emulated).client("s3")
    invoke("state", "bootstrap", "dev", "--emulate", root=three_stacks)
    machine = tmp_path / "machine"  # a work folder of its own: its path marks this run's processes
    machine.mkdir()
    (machine / "emulator").symlink_to(emulated / "emulator")
    env = dict(os.environ, INFRACTL_WORK_DIR=str(machine), CI="true")
    cmd = [sys.executable, "-m", "infractl", "--root", str(three_stacks), "apply", "dev", "--emulate", "--yes"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    progress: list[str] = []
    reader = threading.Thread(target=lambda: progress.extend(iter(proc.stderr.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 120
        while not (
            any(re.search(r" quick: applied", line) for line in progress)
            and lock_operation(s3, "dev/slow.tfstate") == "OperationTypeApply"
            and leftovers(f"sleep {SLEEP_S}")
        ):
            assert proc.poll() is None, "".join(progress)
            assert time.monotonic() < deadline, "".join(progress)
            time.sleep(0.2)

        os.kill(proc.pid, signal.SIGINT)  # the pid alone, not its group: what CI cancellation sends
        proc.wait(timeout=SLEEP_S - 60)  # far sooner than the apply would have ended
        stdout = proc.stdout.read()  # the summary: small, it fits the pipe
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(timeout=10)
    stderr = "".join(progress)
    assert proc.returncode == 130, stdout + stderr
    rows = {m.group(1): m.group(2) for m in re.finditer(r"│ (quick|slow|later)\s+│ ([a-z-]+)", stdout)}
    assert rows == {"quick": "applied", "slow": "stopped", "later": "not-started"}, stdout
    assert re.search(r"│ slow\s+│ stopped\s+│\s+1 │", stdout), stdout  # terraform_data.first was created
    assert "error: slow: stopped by an interrupt: Terraform stopped cleanly" in stderr, stderr
    assert re.search(r"interrupted: stopping slow \(Terraform gets up to \d+ s", stderr), stderr
    lines = stderr.rstrip().splitlines()
    assert lines[-1].startswith("evidence: the ledger of dev is not reachable (interrupted"), stderr  # queued
    assert lines[-2] == "interrupted", stderr
    assert "Traceback" not in stderr
    # no Terraform, provider or provisioner left running, and the state lock is released
    assert leftovers(str(machine)) == [] and leftovers(f"sleep {SLEEP_S}") == []
    assert lock_operation(s3, "dev/slow.tfstate") is None
    # Terraform recorded what it finished: the next run continues (slow and later still to apply)
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(machine))
    data = yaml.safe_load((three_stacks / "environments" / "dev.yaml").read_text())
    data["stacks"]["slow"] = {"seconds": 0}
    (three_stacks / "environments" / "dev.yaml").write_text(yaml.safe_dump(data))
    planned = invoke(
        "plan",
        "dev",
        "--emulate",
        "--stack",
        "quick",
        "--stack",
        "slow",
        "--detailed-exitcode",
        "--json",
        root=three_stacks,
        code=4,
    )
    stacks = {s["stack"]: s["status"] for s in json.loads(planned.stdout)["stacks"]}
    assert stacks == {"quick": "up-to-date", "slow": "changes"}, stacks  # the lock is free; quick's apply kept
    invoke("apply", "dev", "--emulate", "--yes", root=three_stacks)
    invoke("apply", "dev", "--emulate", "--yes", root=three_stacks)  # later, now that slow has its output
    invoke("plan", "dev", "--emulate", "--detailed-exitcode", root=three_stacks)
    invoke("destroy", "dev", "--emulate", "--yes", root=three_stacks)
