"""Lock contention on the real S3 backend (use_lockfile) against the emulator.

A `hold` stack whose terraform_data sleeps in a local-exec keeps the state lock while it applies.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import aws

BUCKET = "infractl-tfstate-123456789012-eu-west-1-dev"
STATE_KEY = "dev/hold.tfstate"
HOLD_STACK = """
terraform {
  required_version = ">= 1.9, < 2.0"
  backend "s3" {}
}

variable "run_id" {
  type = string
}

variable "hold_seconds" {
  type = number
}

resource "terraform_data" "hold" {
  triggers_replace = var.run_id
  provisioner "local-exec" {
    command = "sleep ${var.hold_seconds}"
  }
}

output "run_id" {
  value = terraform_data.hold.output
}
"""


@pytest.fixture
def hold_project(project: Path) -> Path:
    stack = project / "terraform" / "stacks" / "test" / "hold"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text(HOLD_STACK)
    (project / "terraform" / "stacks" / "stacks.yaml").write_text(
        yaml.safe_dump(
            {
                "stacks": {
                    "hold": {
                        "cloud": "aws",
                        "path": "test/hold",
                        "inputs": {
                            "run_id": "env.stacks.hold.run_id",
                            "hold_seconds": "env.stacks.hold.hold_seconds",
                        },
                    }
                }
            }
        )
    )
    set_hold(project, "1", 0)
    return project


def set_hold(project: Path, run_id: str, seconds: int) -> None:
    path = project / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["stacks"]["hold"] = {"run_id": run_id, "hold_seconds": seconds}
    path.write_text(yaml.safe_dump(data))


def state_serial(s3) -> int:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=STATE_KEY)["Body"].read())["serial"]


def lock_present(s3) -> bool:
    return "Contents" in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{STATE_KEY}.tflock")


def lock_operation(s3) -> str | None:
    """The operation holding the lock (Terraform writes its lock info as JSON into the .tflock object)."""
    from botocore.exceptions import ClientError

    try:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=f"{STATE_KEY}.tflock")["Body"].read())["Operation"]
    except ClientError:
        return None


def start_holder(project: Path, work_dir: Path) -> subprocess.Popen:
    env = dict(os.environ, INFRACTL_WORK_DIR=str(work_dir), CI="true")
    return subprocess.Popen(
        [sys.executable, "-m", "infractl", "--root", str(project), "apply", "dev", "--emulate", "--yes"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for_lock(s3, holder: subprocess.Popen, timeout: float = 90) -> None:
    """Until the holder's apply (not its short plan) holds the lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if lock_operation(s3) == "OperationTypeApply":
            return
        if holder.poll() is not None:
            pytest.fail(f"holder exited {holder.returncode} before taking the lock:\n{holder.stdout.read()}")
        time.sleep(0.2)
    pytest.fail("the holder never took the state lock")


def terraform_pids(chdir_prefix: str) -> list[int]:
    """Live processes with an argument starting with chdir_prefix (Terraform runs of one workspace)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                argv = Path(entry.path, "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if any(a.startswith(chdir_prefix) for a in argv):
                found.append(int(entry.name))
    return found


@pytest.fixture
def other_machine(tmp_path: Path, emulated: Path, monkeypatch) -> Path:
    """A second work folder (another machine or CI runner) sharing the same emulator and state bucket."""
    work = tmp_path / "other-machine"
    work.mkdir()
    (work / "emulator").symlink_to(emulated / "emulator")
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))
    return work


def test_held_lock_fails_fast_with_holder_and_release_hint(invoke, hold_project, emulated, other_machine):
    s3 = aws(emulated).client("s3")
    invoke("state", "bootstrap", "dev", "--emulate", root=hold_project)
    invoke("apply", "dev", "--emulate", "--yes", root=hold_project)
    serial = state_serial(s3)

    set_hold(hold_project, "2", 25)
    holder = start_holder(hold_project, emulated)
    try:
        wait_for_lock(s3, holder)
        for command in (["plan", "dev", "--emulate"], ["apply", "dev", "--emulate", "--yes"]):
            began = time.monotonic()
            result = invoke(*command, root=hold_project, code=1)
            assert time.monotonic() - began < 20, "the contender waited for the lock instead of failing fast"
            errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
            assert len(errors) == 1 and re.match(
                r"error: hold: state of dev/hold is locked by \S+@\S+ "
                r"\(OperationTypeApply since .+, lock ID [0-9a-f-]{36}\)$",
                errors[0],
            ), result.stderr
            assert re.search(
                r"hint: if that run is gone, release the lock: infractl state unlock dev hold [0-9a-f-]{36}",
                result.stderr,
            )
            assert "Traceback" not in result.stderr
        assert state_serial(s3) == serial  # the contenders wrote nothing

        # On the holder's own machine the workspace is busy: a clear message, not a Terraform error.
        os.environ["INFRACTL_WORK_DIR"] = str(emulated)
        busy = invoke("plan", "dev", "--emulate", root=hold_project, code=2)
        assert "another infractl run on this machine is using dev/hold" in busy.stderr
    finally:
        os.environ["INFRACTL_WORK_DIR"] = str(other_machine)
        out, _ = holder.communicate(timeout=120)
    assert holder.returncode == 0, out
    assert state_serial(s3) > serial and not lock_present(s3)


def test_lock_left_by_a_killed_run_is_released_with_state_unlock(invoke, hold_project, emulated, other_machine):
    s3 = aws(emulated).client("s3")
    invoke("state", "bootstrap", "dev", "--emulate", root=hold_project)
    invoke("apply", "dev", "--emulate", "--yes", root=hold_project)
    serial = state_serial(s3)

    set_hold(hold_project, "3", 120)
    holder = start_holder(hold_project, emulated)
    wait_for_lock(s3, holder)
    # a lost CI runner: infractl and Terraform (its own process group) with its provider and provisioner, all at once
    groups = {holder.pid} | {os.getpgid(pid) for pid in terraform_pids(f"-chdir={emulated}/envs/dev/hold/")}
    for group in groups:
        os.killpg(group, signal.SIGKILL)
    holder.wait()
    assert lock_present(s3) and terraform_pids(f"-chdir={emulated}/envs/dev/hold/") == []

    result = invoke("plan", "dev", "--emulate", root=hold_project, code=1)
    lock_id = re.search(r"infractl state unlock dev hold ([0-9a-f-]{36})", result.stderr).group(1)
    invoke("state", "unlock", "dev", "hold", lock_id, "--emulate", code=2, root=hold_project)  # no --yes, no tty
    assert lock_present(s3)
    invoke("state", "unlock", "dev", "hold", lock_id, "--emulate", "--yes", root=hold_project)
    assert not lock_present(s3)
    assert state_serial(s3) == serial  # the killed run never wrote a state

    set_hold(hold_project, "3", 0)
    invoke("plan", "dev", "--emulate", "--detailed-exitcode", root=hold_project, code=4)
