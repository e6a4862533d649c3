"""Two stacks without a cloud provider: upstream outputs reach downstream inputs; destroy runs in reverse."""

import json

import yaml

STACK_A = """
terraform {
  backend "s3" {}
}
variable "greeting" {
  type = string
}
resource "terraform_data" "a" {
  input = "${var.greeting} from a"
}
output "message" {
  value = terraform_data.a.output
}
"""
STACK_B = """
terraform {
  backend "s3" {}
}
variable "upstream_message" {
  type = string
}
resource "terraform_data" "b" {
  input = "b got: ${var.upstream_message}"
}
output "message" {
  value = terraform_data.b.output
}
"""


def test_outputs_flow_downstream_and_destroy_reverses(invoke, emulated, project):
    for name, text in (("a", STACK_A), ("b", STACK_B)):
        folder = project / "terraform" / "stacks" / "test" / name
        folder.mkdir(parents=True)
        (folder / "main.tf").write_text(text)
    manifest = {
        "stacks": {
            "b": {
                "cloud": "aws",
                "path": "test/b",
                "depends_on": ["a"],
                "inputs": {"upstream_message": "stack.a.message"},
            },
            "a": {"cloud": "aws", "path": "test/a", "inputs": {"greeting": "env.tags.owner"}},
        }
    }
    (project / "terraform" / "stacks" / "stacks.yaml").write_text(yaml.safe_dump(manifest))
    env_file = project / "environments" / "staging.yaml"

    result = json.loads(invoke("bootstrap", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("a", "applied"), ("b", "applied")]
    out = json.loads(invoke("output", "staging", "b", "--emulate", "--json", root=project).stdout)
    assert out == {"message": "b got: platform-team from a"}

    # a change upstream reaches downstream in the same run
    env_file.write_text(env_file.read_text().replace("owner: platform-team", "owner: sre-team"))
    result = json.loads(invoke("bootstrap", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [s["status"] for s in result["stacks"]] == ["applied", "applied"]
    out = json.loads(invoke("output", "staging", "b", "--emulate", "--json", root=project).stdout)
    assert out == {"message": "b got: sre-team from a"}

    # destroying the upstream alone would orphan the downstream: refused
    refused = invoke("destroy", "staging", "--stack", "a", "--emulate", "--yes", root=project, code=2)
    assert "stack b depends on a" in refused.stderr and "--stack a --stack b" in refused.stderr

    result = json.loads(invoke("destroy", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("b", "destroyed"), ("a", "destroyed")]
