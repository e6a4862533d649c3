"""`infractl bootstrap dev --emulate` end to end: state, the network stack, idempotency, outputs, destroy."""

import json

import pytest

from tests.integration.conftest import REPO_ROOT, aws


@pytest.fixture(scope="module")
def bootstrapped(work_dir, mirror):
    """Bootstrap dev once for the module; yields the JSON result."""
    from infractl.cli.main import main

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INFRACTL_WORK_DIR", str(work_dir))
        mp.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = main(["--root", str(REPO_ROOT), "bootstrap", "dev", "--emulate", "--yes", "--json"])
        assert rc == 0, out.getvalue()
        return json.loads(out.getvalue())


def test_bootstrap_creates_state_and_the_vpc(bootstrapped, work_dir):
    assert bootstrapped["ok"] is True
    (network,) = bootstrapped["stacks"]
    assert network["stack"] == "network" and network["status"] == "applied" and network["add"] > 20
    assert bootstrapped["state"]["bucket"] == "infractl-tfstate-123456789012-eu-west-1-dev"

    ec2 = aws(work_dir).client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"]
    tags = {t["Key"]: t["Value"] for t in vpc["Tags"]}
    assert tags["environment"] == "dev" and tags["owner"] == "platform-team" and tags["cost-center"] == "cc-1001"
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert len(subnets) == 6  # public, private, database x 2 AZs
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    assert len(nats) == 1  # dev: nat_gateways: single
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"]
    assert flow_logs and flow_logs[0]["TrafficType"] == "ALL"
    s3 = aws(work_dir).client("s3")
    assert s3.head_object(Bucket="infractl-tfstate-123456789012-eu-west-1-dev", Key="dev/network.tfstate")


def test_second_plan_shows_no_changes(bootstrapped, invoke, emulated):
    result = invoke("plan", "dev", "--emulate", "--detailed-exitcode", "--json", root=REPO_ROOT, code=0)
    data = json.loads(result.stdout)
    assert data["changes_present"] is False
    assert [(s["stack"], s["status"], s["add"], s["change"], s["destroy"]) for s in data["stacks"]] == [
        ("network", "up-to-date", 0, 0, 0)
    ]


def test_rerunning_bootstrap_changes_nothing(bootstrapped, invoke, emulated):
    data = json.loads(invoke("bootstrap", "dev", "--emulate", "--yes", "--json", root=REPO_ROOT).stdout)
    assert {i["status"] for i in data["state"]["items"]} == {"unchanged"}
    assert [s["status"] for s in data["stacks"]] == ["up-to-date"]


def test_output_json(bootstrapped, invoke, emulated):
    outputs = json.loads(invoke("output", "dev", "network", "--emulate", "--json", root=REPO_ROOT).stdout)
    assert outputs["vpc_id"].startswith("vpc-") and outputs["vpc_cidr_block"] == "10.10.0.0/16"
    assert len(outputs["private_subnet_ids"]) == 2


def test_changed_env_plans_changes_and_exits_4(bootstrapped, invoke, emulated, project):
    env_file = project / "environments" / "dev.yaml"
    env_file.write_text(env_file.read_text().replace("flow_log_retention_days: 30", "flow_log_retention_days: 60"))
    result = invoke("plan", "dev", "--emulate", "--detailed-exitcode", root=project, code=4)
    assert "changes" in result.stdout
    assert (emulated / "envs" / "dev" / "network" / "plan.tfplan").is_file()  # saved for `apply`
    assert oct((emulated / "envs" / "dev" / "network" / "plan.tfplan").stat().st_mode & 0o777) == "0o600"
    # a saved plan whose inputs changed since is refused, nothing applied
    env_file.write_text(env_file.read_text().replace("flow_log_retention_days: 60", "flow_log_retention_days: 90"))
    stale = invoke("apply", "dev", "--emulate", root=project, code=2)
    assert "the inputs of dev/network changed since its plan was saved" in stale.stderr
    env_file.write_text(env_file.read_text().replace("flow_log_retention_days: 90", "flow_log_retention_days: 60"))
    # apply exactly the saved plan, then nothing is left to do
    applied = json.loads(invoke("apply", "dev", "--emulate", "--json", root=project).stdout)
    assert [(s["status"], s["change"]) for s in applied["stacks"]] == [("applied", 1)]
    invoke("plan", "dev", "--emulate", "--detailed-exitcode", root=project, code=0)
    logs = aws(emulated).client("logs").describe_log_groups(logGroupNamePrefix="/aws/vpc-flow-logs/dev")
    assert logs["logGroups"][0]["retentionInDays"] == 60


def test_destroy_needs_confirmation_then_removes_everything(bootstrapped, invoke, emulated):
    refused = invoke("destroy", "dev", "--emulate", root=REPO_ROOT, code=2)
    assert "re-run with --yes" in refused.stderr
    ec2 = aws(emulated).client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"]  # still there

    data = json.loads(invoke("destroy", "dev", "--emulate", "--yes", "--json", root=REPO_ROOT).stdout)
    assert [(s["stack"], s["status"]) for s in data["stacks"]] == [("network", "destroyed")]
    assert data["stacks"][0]["destroy"] == bootstrapped["stacks"][0]["add"]
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.10.0.0/16"]}])["Vpcs"] == []
