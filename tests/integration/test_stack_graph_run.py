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


def two_stacks(project):
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
    return project / "environments" / "staging.yaml"


def test_outputs_flow_downstream_and_destroy_reverses(invoke, emulated, project):
    env_file = two_stacks(project)

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


def test_saved_plans_are_applied_exactly_and_refused_when_stale(invoke, emulated, project):
    env_file = two_stacks(project)
    invoke("bootstrap", "staging", "--emulate", "--yes", root=project)
    invoke("plan", "staging", "--emulate", "--detailed-exitcode", root=project, code=0)

    env_file.write_text(env_file.read_text().replace("owner: platform-team", "owner: data-team"))
    planned = json.loads(
        invoke("plan", "staging", "--emulate", "--detailed-exitcode", "--json", root=project, code=4).stdout
    )
    assert [(s["stack"], s["status"]) for s in planned["stacks"]] == [("a", "changes"), ("b", "up-to-date")]
    plan_file = emulated / "envs" / "staging" / "a" / "plan.tfplan"
    assert planned["stacks"][0]["plan_file"] == str(plan_file) and planned["stacks"][1]["plan_file"] is None
    assert oct(plan_file.stat().st_mode & 0o777) == "0o600"  # a plan holds every input, secrets included

    # the environment changed again after the plan: the saved plan is refused, nothing applied
    env_file.write_text(env_file.read_text().replace("owner: data-team", "owner: web-team"))
    stale = invoke("apply", "staging", "--emulate", "--yes", root=project, code=2)
    assert "the inputs of staging/a changed since its plan was saved" in stale.stderr
    env_file.write_text(env_file.read_text().replace("owner: web-team", "owner: data-team"))

    # apply exactly the saved plans: only a (b had none); then b sees the new upstream value on the next run
    applied = json.loads(invoke("apply", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"], s["change"]) for s in applied["stacks"]] == [("a", "applied", 1)]
    assert not plan_file.exists()
    followup = json.loads(invoke("apply", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in followup["stacks"]] == [("a", "up-to-date"), ("b", "applied")]
    invoke("plan", "staging", "--emulate", "--detailed-exitcode", root=project, code=0)
    invoke("destroy", "staging", "--emulate", "--yes", root=project)


def test_bootstrap_loads_the_env_and_asks_sts_once(invoke, emulated, project, monkeypatch):
    """One command resolves its environment once: one read of the env file, one GetCallerIdentity, for the state
    backend and every stack alike."""
    from infractl.adapters import aws as aws_adapter
    from infractl.services import environments
    from infractl.services.evidence import access

    two_stacks(project)
    calls = {"load": 0, "sts": 0}
    load, caller = environments.load, aws_adapter.caller_account

    def counted_load(*args, **kwargs):
        calls["load"] += 1
        return load(*args, **kwargs)

    def counted_caller(*args, **kwargs):
        calls["sts"] += 1
        return caller(*args, **kwargs)

    monkeypatch.setattr(environments, "load", counted_load)
    monkeypatch.setattr(aws_adapter, "caller_account", counted_caller)

    def no_ledger(*_args, **_kwargs):
        raise OSError("the evidence hook resolves the env on its own after the command: not counted here")

    monkeypatch.setattr(access, "open_ledger", no_ledger)  # (its append: test_evidence_actions.py)
    result = json.loads(invoke("bootstrap", "staging", "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("a", "applied"), ("b", "applied")]
    assert calls == {"load": 1, "sts": 1}
    # the session's emulator is shared: a test leaves no stack applied behind it for the next one
    invoke("destroy", "staging", "--emulate", "--yes", root=project)


def test_output_of_a_stack_not_applied_says_so(invoke, emulated, project):
    two_stacks(project)  # no other test applies them in dev
    invoke("state", "bootstrap", "dev", "--emulate", root=project)
    refused = invoke("output", "dev", "a", "--emulate", "--json", root=project, code=2)
    assert refused.stdout == ""
    assert "error: stack a is not applied in dev: its state holds no resources" in refused.stderr
    assert "hint: apply it first: infractl apply dev --stack a --emulate" in refused.stderr
    assert "Traceback" not in refused.stderr
