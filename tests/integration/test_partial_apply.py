"""An apply that fails midway reports what Terraform really added and changed before the failure."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import yaml

from tests.integration.conftest import aws

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
variable "value" {
  type = string
}
provider "aws" {
  region = var.region
}
resource "aws_ssm_parameter" "p" {
  count = 3
  name  = "/infractl-test/partial-${var.suffix}/${count.index}"
  type  = "String"
  value = var.value
}
# Refused by the emulator (as by AWS: names under /ssm are reserved), after the others were created.
resource "aws_ssm_parameter" "broken" {
  depends_on = [aws_ssm_parameter.p]
  name       = "/ssm/infractl-test/partial-${var.suffix}"
  type       = "String"
  value      = var.value
}
"""


def partial_project(project: Path, value: str, suffix: str) -> None:
    folder = project / "terraform" / "stacks" / "test" / "partial"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.tf").write_text(STACK)
    inputs = {"region": "env.region", "suffix": "env.stacks.partial.suffix", "value": "env.stacks.partial.value"}
    manifest = {"stacks": {"partial": {"cloud": "aws", "path": "test/partial", "inputs": inputs}}}
    (project / "terraform" / "stacks" / "stacks.yaml").write_text(yaml.safe_dump(manifest))
    env_file = project / "environments" / "dev.yaml"
    data = yaml.safe_load(env_file.read_text())
    data["stacks"]["partial"] = {"suffix": suffix, "value": value}
    env_file.write_text(yaml.safe_dump(data))


def state_resources(s3) -> list[dict]:
    doc = json.loads(
        s3.get_object(Bucket="infractl-tfstate-123456789012-eu-west-1-dev", Key="dev/partial.tfstate")["Body"].read()
    )
    return [r for r in doc["resources"] if r["mode"] == "managed" for _ in r["instances"]]


def test_a_failed_apply_reports_what_it_added_and_changed(invoke, emulated, project):
    suffix = uuid.uuid4().hex[:8]
    partial_project(project, "one", suffix)
    target = aws(emulated)
    s3, ssm = target.client("s3"), target.client("ssm")
    invoke("state", "bootstrap", "dev", "--emulate", root=project)

    failed = json.loads(invoke("apply", "dev", "--emulate", "--yes", "--json", root=project, code=1).stdout)
    (stack,) = failed["stacks"]
    assert stack["status"] == "failed" and 'prefixed with "ssm"' in "\n".join(stack["error_details"])
    recorded = state_resources(s3)
    assert len(recorded) == 3  # three parameters made it, the broken one did not
    assert (stack["add"], stack["change"], stack["destroy"]) == (len(recorded), 0, 0)

    partial_project(project, "two", suffix)  # every parameter changes; the broken one fails again
    human = invoke("apply", "dev", "--emulate", "--yes", root=project, code=1)  # the table this time
    names = [f"/infractl-test/partial-{suffix}/{i}" for i in range(3)]
    changed = [p for p in ssm.get_parameters(Names=names)["Parameters"] if p["Value"] == "two"]
    assert len(changed) == 3
    row = re.search(r"│ partial │ (\w+)\s+│\s+(\d+) │\s+(\d+) │\s+(\d+) │", human.stdout)
    assert row and row.groups() == ("failed", "0", str(len(changed)), "0"), human.stdout
    invoke("destroy", "dev", "--emulate", "--yes", root=project)
