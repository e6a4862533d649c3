"""A Terraform killed in the middle of an apply (a lost CI runner) leaves objects it created but never recorded;
`infractl state recover` finds them and writes the import blocks that let the next apply succeed."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import aws

BUCKET = "infractl-tfstate-123456789012-eu-west-1-dev"
STACK = """
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60, < 6.0"
    }
  }
  backend "s3" {}
}
variable "region" {
  type = string
}
variable "suffix" {
  type = string
}
variable "seconds" {
  type = number
}
provider "aws" {
  region = var.region
}
resource "aws_db_parameter_group" "this" {
  name   = "rec-${var.suffix}"
  family = "postgres16"
}
resource "aws_security_group" "db" {
  name        = "rec-${var.suffix}"
  description = "database"
}
resource "aws_secretsmanager_secret" "master" {
  name                    = "rec-${var.suffix}"
  recovery_window_in_days = 0
}
resource "aws_cloudwatch_log_group" "this" {
  name = "/infractl-test/rec-${var.suffix}"
}
resource "aws_ssm_parameter" "endpoint" {
  name  = "/infractl-test/rec-${var.suffix}"
  type  = "String"
  value = "db.example"
}
# keeps Terraform applying (like a database's create waiter) until it is killed
resource "terraform_data" "wait" {
  provisioner "local-exec" {
    command = "sleep ${var.seconds}"
  }
}
"""
NAMED = {
    "aws_db_parameter_group.this",
    "aws_security_group.db",
    "aws_secretsmanager_secret.master",
    "aws_cloudwatch_log_group.this",
    "aws_ssm_parameter.endpoint",
}


def set_seconds(project: Path, suffix: str, seconds: int) -> None:
    env_file = project / "environments" / "dev.yaml"
    data = yaml.safe_load(env_file.read_text())
    data["stacks"]["rec"] = {"suffix": suffix, "seconds": seconds}
    env_file.write_text(yaml.safe_dump(data))


@pytest.fixture
def rec_project(project: Path) -> Path:
    folder = project / "terraform" / "stacks" / "test" / "rec"
    folder.mkdir(parents=True)
    (folder / "main.tf").write_text(STACK)
    inputs = {"region": "env.region", "suffix": "env.stacks.rec.suffix", "seconds": "env.stacks.rec.seconds"}
    manifest = {"stacks": {"rec": {"cloud": "aws", "path": "test/rec", "inputs": inputs}}}
    (project / "terraform" / "stacks" / "stacks.yaml").write_text(yaml.safe_dump(manifest))
    return project


def all_exist(target, suffix: str) -> bool:
    name = f"rec-{suffix}"
    path = f"/infractl-test/rec-{suffix}"
    try:
        target.client("rds").describe_db_parameter_groups(DBParameterGroupName=name)
        target.client("secretsmanager").describe_secret(SecretId=name)
        target.client("ssm").get_parameter(Name=path)
    except Exception:
        return False
    groups = target.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])
    logs = target.client("logs").describe_log_groups(logGroupNamePrefix=path)["logGroups"]
    return bool(groups["SecurityGroups"]) and bool(logs)


def terraform_apply_pids(marker: str) -> list[int]:
    """Terraform apply processes whose -chdir is under marker (this test's work folder)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv]
        if any(w.startswith(f"-chdir={marker}") for w in words) and "apply" in words:
            found.append(int(entry.name))
    return found


def recorded(s3) -> set[str]:
    try:
        doc = json.loads(s3.get_object(Bucket=BUCKET, Key="dev/rec.tfstate")["Body"].read())
    except s3.exceptions.NoSuchKey:
        return set()
    return {f"{r['type']}.{r['name']}" for r in doc.get("resources", []) if r["mode"] == "managed"}


def test_recover_lists_what_a_killed_apply_left_and_its_imports_make_the_next_apply_succeed(
    invoke, rec_project, emulated, tmp_path, monkeypatch
):
    target = aws(emulated)
    s3 = target.client("s3")
    suffix = uuid.uuid4().hex[:8]
    set_seconds(rec_project, suffix, 300)
    invoke("state", "bootstrap", "dev", "--emulate", root=rec_project)
    machine = tmp_path / "machine"
    machine.mkdir()
    (machine / "emulator").symlink_to(emulated / "emulator")
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(machine))
    cmd = [sys.executable, "-m", "infractl", "--root", str(rec_project), "apply", "dev", "--emulate", "--yes"]
    runner = subprocess.Popen(
        cmd, env=dict(os.environ, CI="true"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 180
        while not (all_exist(target, suffix) and terraform_apply_pids(str(machine))):
            assert runner.poll() is None and time.monotonic() < deadline, runner.stdout.read() if runner.poll() else ""
            time.sleep(0.3)
        for pid in terraform_apply_pids(str(machine)):
            os.killpg(pid, signal.SIGKILL)  # Terraform, its providers and its provisioner: no chance to record
        out, _ = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 1, out
    orphans = NAMED - recorded(s3)
    assert orphans, "Terraform recorded everything before it was killed: nothing to recover"

    # the lock of the killed run is still held: recover does not need it
    found = json.loads(invoke("state", "recover", "dev", "rec", "--emulate", "--json", root=rec_project).stdout)
    assert {o["address"] for o in found["orphans"]} == orphans
    assert found["checked"] == len(orphans) and found["unchecked"] == [] and found["written"] is None
    sg = next(o for o in found["orphans"] if o["type"] == "aws_security_group")
    assert re.fullmatch(r"sg-[0-9a-f]+", sg["import_id"])
    assert found["imports"].count("import {") == len(orphans)

    written = invoke("state", "recover", "dev", "rec", "--emulate", "--write", root=rec_project)
    assert "to = aws_db_parameter_group.this" in written.stdout and 'id = "rec-' in written.stdout
    assert "the next `infractl apply dev --stack rec --emulate` imports them" in written.stderr
    imports_file = machine / "envs" / "dev" / "rec" / "recover-imports.tf"
    assert imports_file.is_file()

    # release the killed run's lock, then the next apply imports the orphans and creates the rest
    locked = invoke("plan", "dev", "--emulate", root=rec_project, code=1)
    lock_id = re.search(r"infractl state unlock dev rec ([0-9a-f-]{36})", locked.stderr).group(1)
    invoke("state", "unlock", "dev", "rec", lock_id, "--emulate", "--yes", root=rec_project)
    set_seconds(rec_project, suffix, 0)
    applied = json.loads(invoke("apply", "dev", "--emulate", "--yes", "--json", root=rec_project).stdout)
    assert [s["status"] for s in applied["stacks"]] == ["applied"]
    assert not imports_file.exists() and recorded(s3) == NAMED | {"terraform_data.wait"}
    invoke("plan", "dev", "--emulate", "--detailed-exitcode", root=rec_project)  # clean: exit 0
    after = json.loads(invoke("state", "recover", "dev", "rec", "--emulate", "--json", root=rec_project).stdout)
    assert after["orphans"] == [] and after["imports"] == ""
    invoke("destroy", "dev", "--emulate", "--yes", root=rec_project)
