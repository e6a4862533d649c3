"""infractl's moto patches, exercised through a real emulator process (the way infractl starts it) with boto3.

One emulator for the whole module (it starts in about two seconds). Every client makes one attempt with short
timeouts, so an unpatched gap fails here instead of hanging in SDK retries.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from infractl.adapters import emulator
from infractl.adapters.aws import tls_only_policy

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="session")
def client(tmp_path_factory) -> Iterator[Callable[[str], Any]]:
    data_dir: Path = tmp_path_factory.mktemp("patched-emulator")
    state, _ = emulator.start(data_dir)
    config = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=15,
        s3={"addressing_style": "path"},
    )

    def make(service: str) -> Any:
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=state.url,
            verify=state.ca_file,
            aws_access_key_id=emulator.FAKE_ACCESS_KEY,
            aws_secret_access_key=emulator.FAKE_SECRET_KEY,
            config=config,
        )

    make.data_dir = data_dir  # the test of the request log reads it
    try:
        yield make
    finally:
        emulator.stop(data_dir)


# --- Budgets -----------------------------------------------------------------------------------------------------

NOTIFICATION = {
    "NotificationType": "FORECASTED",
    "ComparisonOperator": "GREATER_THAN",
    "Threshold": 80.0,
    "ThresholdType": "PERCENTAGE",
}
EMAIL = {"SubscriptionType": "EMAIL", "Address": "ops@example.com"}


def _budget(name: str, amount: str = "100") -> dict[str, Any]:
    return {
        "BudgetName": name,
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": amount, "Unit": "USD"},
    }


def test_budget_notification_subscribers_are_described(client):
    budgets = client("budgets")
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget("subscribers"),
        NotificationsWithSubscribers=[{"Notification": NOTIFICATION, "Subscribers": [EMAIL]}],
    )
    got = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="subscribers", Notification=NOTIFICATION
    )
    assert got["Subscribers"] == [EMAIL]

    actual = {**NOTIFICATION, "NotificationType": "ACTUAL", "Threshold": 100.0}
    sns = {"SubscriptionType": "SNS", "Address": f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"}
    budgets.create_notification(AccountId=ACCOUNT, BudgetName="subscribers", Notification=actual, Subscribers=[sns])
    budgets.create_subscriber(AccountId=ACCOUNT, BudgetName="subscribers", Notification=actual, Subscriber=EMAIL)
    got = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="subscribers", Notification=actual
    )
    assert got["Subscribers"] == [sns, EMAIL]

    budgets.delete_subscriber(AccountId=ACCOUNT, BudgetName="subscribers", Notification=actual, Subscriber=sns)
    got = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="subscribers", Notification=actual
    )
    assert got["Subscribers"] == [EMAIL]

    with pytest.raises(ClientError) as missing:
        budgets.describe_subscribers_for_notification(
            AccountId=ACCOUNT, BudgetName="subscribers", Notification={**NOTIFICATION, "Threshold": 1.0}
        )
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_budget_tags_are_stored_per_arn(client):
    budgets = client("budgets")
    arn = f"arn:aws:budgets::{ACCOUNT}:budget/tagged"
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget("tagged"),
        ResourceTags=[{"Key": "team", "Value": "platform"}, {"Key": "env", "Value": "dev"}],
    )
    assert budgets.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [
        {"Key": "team", "Value": "platform"},
        {"Key": "env", "Value": "dev"},
    ]

    budgets.tag_resource(
        ResourceARN=arn, ResourceTags=[{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": "1"}]
    )
    budgets.untag_resource(ResourceARN=arn, ResourceTagKeys=["env"])
    assert budgets.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [
        {"Key": "team", "Value": "core"},
        {"Key": "cost", "Value": "1"},
    ]

    with pytest.raises(ClientError) as missing:
        budgets.list_tags_for_resource(ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/absent")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


def test_budget_update_keeps_notifications_and_tags(client):
    budgets = client("budgets")
    budgets.create_budget(
        AccountId=ACCOUNT,
        Budget=_budget("updated"),
        NotificationsWithSubscribers=[{"Notification": NOTIFICATION, "Subscribers": [EMAIL]}],
        ResourceTags=[{"Key": "team", "Value": "platform"}],
    )
    budgets.update_budget(AccountId=ACCOUNT, NewBudget=_budget("updated", amount="250"))

    assert budgets.describe_budget(AccountId=ACCOUNT, BudgetName="updated")["Budget"]["BudgetLimit"]["Amount"] == "250"
    got = budgets.describe_subscribers_for_notification(
        AccountId=ACCOUNT, BudgetName="updated", Notification=NOTIFICATION
    )
    assert got["Subscribers"] == [EMAIL]
    tags = budgets.list_tags_for_resource(ResourceARN=f"arn:aws:budgets::{ACCOUNT}:budget/updated")["ResourceTags"]
    assert tags == [{"Key": "team", "Value": "platform"}]


# --- RDS ---------------------------------------------------------------------------------------------------------


def _db(rds: Any, identifier: str, **extra: Any) -> dict[str, Any]:
    return rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        Engine="postgres",
        EngineVersion="16.3",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="app",
        MasterUserPassword="supersecret123",
        **extra,
    )["DBInstance"]


def test_each_db_instance_has_its_own_resource_id(client):
    rds = client("rds")
    first, second = _db(rds, "ids-a"), _db(rds, "ids-b")

    assert re.fullmatch(r"db-[A-Z0-9]{26}", first["DbiResourceId"])
    assert first["DbiResourceId"] != second["DbiResourceId"]
    # the provider reads an instance back by that id and needs exactly one match
    found = rds.describe_db_instances(Filters=[{"Name": "dbi-resource-id", "Values": [second["DbiResourceId"]]}])
    assert [db["DBInstanceIdentifier"] for db in found["DBInstances"]] == ["ids-b"]


def test_a_db_instance_created_without_a_ca_gets_the_rds_default_ca(client):
    """moto answered "rds-ca-default" (no such CA): the provider then sent a second ModifyDBInstance for
    ca_cert_identifier = "rds-ca-rsa2048-g1" and waited 80 s for it to settle, where AWS needs none."""
    rds = client("rds")
    assert _db(rds, "ca-default")["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    (described,) = rds.describe_db_instances(DBInstanceIdentifier="ca-default")["DBInstances"]
    assert described["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert _db(rds, "ca-chosen", CACertificateIdentifier="rds-ca-ecc384-g1")["CACertificateIdentifier"] == (
        "rds-ca-ecc384-g1"
    )


def test_db_parameters_set_by_the_user_have_source_user(client):
    rds = client("rds")
    rds.create_db_parameter_group(
        DBParameterGroupName="app-pg16", DBParameterGroupFamily="postgres16", Description="app"
    )
    rds.modify_db_parameter_group(
        DBParameterGroupName="app-pg16",
        Parameters=[
            {"ParameterName": "log_min_duration_statement", "ParameterValue": "500", "ApplyMethod": "immediate"},
            {"ParameterName": "rds.force_ssl", "ParameterValue": "1", "ApplyMethod": "pending-reboot"},
        ],
    )

    parameters = rds.describe_db_parameters(DBParameterGroupName="app-pg16")["Parameters"]
    assert {(p["ParameterName"], p["ParameterValue"], p["Source"]) for p in parameters} == {
        ("log_min_duration_statement", "500", "user"),
        ("rds.force_ssl", "1", "user"),
    }
    assert len(rds.describe_db_parameters(DBParameterGroupName="app-pg16", Source="user")["Parameters"]) == 2
    assert rds.describe_db_parameters(DBParameterGroupName="app-pg16", Source="system")["Parameters"] == []


def test_performance_insights_settings_are_echoed(client):
    rds = client("rds")
    key = client("kms").create_key(Description="pi")["KeyMetadata"]["Arn"]
    _db(
        rds,
        "pi-on",
        EnablePerformanceInsights=True,
        PerformanceInsightsKMSKeyId=key,
        PerformanceInsightsRetentionPeriod=31,
    )
    _db(rds, "pi-off")

    (on,) = rds.describe_db_instances(DBInstanceIdentifier="pi-on")["DBInstances"]
    assert on["PerformanceInsightsEnabled"] is True
    assert on["PerformanceInsightsKMSKeyId"] == key
    assert on["PerformanceInsightsRetentionPeriod"] == 31

    (off,) = rds.describe_db_instances(DBInstanceIdentifier="pi-off")["DBInstances"]
    assert off["PerformanceInsightsEnabled"] is False
    assert "PerformanceInsightsRetentionPeriod" not in off

    rds.modify_db_instance(DBInstanceIdentifier="pi-off", EnablePerformanceInsights=True, ApplyImmediately=True)
    (now_on,) = rds.describe_db_instances(DBInstanceIdentifier="pi-off")["DBInstances"]
    assert now_on["PerformanceInsightsEnabled"] is True
    assert now_on["PerformanceInsightsRetentionPeriod"] == 7  # the AWS default

    rds.modify_db_instance(DBInstanceIdentifier="pi-on", EnablePerformanceInsights=False, ApplyImmediately=True)
    (now_off,) = rds.describe_db_instances(DBInstanceIdentifier="pi-on")["DBInstances"]
    assert now_off["PerformanceInsightsEnabled"] is False
    assert "PerformanceInsightsKMSKeyId" not in now_off


# --- EKS ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def eks_network(client) -> dict[str, Any]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    return {"subnets": subnets, "role": f"arn:aws:iam::{ACCOUNT}:role/eks"}


def _cluster(eks: Any, name: str, net: dict[str, Any]) -> dict[str, Any]:
    return eks.create_cluster(name=name, roleArn=net["role"], resourcesVpcConfig={"subnetIds": net["subnets"]})[
        "cluster"
    ]


def test_node_group_without_remote_access_has_none(client, eks_network):
    eks = client("eks")
    _cluster(eks, "nodes", eks_network)
    common = {"clusterName": "nodes", "nodeRole": eks_network["role"], "subnets": eks_network["subnets"]}
    eks.create_nodegroup(nodegroupName="plain", **common)
    eks.create_nodegroup(nodegroupName="ssh", remoteAccess={"ec2SshKey": "ops"}, **common)

    plain = eks.describe_nodegroup(clusterName="nodes", nodegroupName="plain")["nodegroup"]
    assert "remoteAccess" not in plain
    assert "remoteAccessSecurityGroup" not in plain["resources"]
    ssh = eks.describe_nodegroup(clusterName="nodes", nodegroupName="ssh")["nodegroup"]
    assert ssh["remoteAccess"]["ec2SshKey"] == "ops"


def test_cluster_access_config_and_node_group_update_config_are_echoed(client, eks_network):
    eks = client("eks")
    eks.create_cluster(
        name="access",
        roleArn=eks_network["role"],
        resourcesVpcConfig={"subnetIds": eks_network["subnets"]},
        accessConfig={"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True},
    )
    access = eks.describe_cluster(name="access")["cluster"]["accessConfig"]
    assert access == {"authenticationMode": "API_AND_CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
    common = {"clusterName": "access", "nodeRole": eks_network["role"], "subnets": eks_network["subnets"]}
    eks.create_nodegroup(nodegroupName="rolling", updateConfig={"maxUnavailablePercentage": 25}, **common)
    eks.create_nodegroup(nodegroupName="default", **common)
    rolling = eks.describe_nodegroup(clusterName="access", nodegroupName="rolling")["nodegroup"]
    assert rolling["updateConfig"] == {"maxUnavailablePercentage": 25}
    default = eks.describe_nodegroup(clusterName="access", nodegroupName="default")["nodegroup"]
    assert default["updateConfig"] == {"maxUnavailable": 1}


def test_each_cluster_has_its_own_oidc_issuer(client, eks_network):
    eks, iam = client("eks"), client("iam")
    issuers = [_cluster(eks, name, eks_network)["identity"]["oidc"]["issuer"] for name in ("oidc-a", "oidc-b")]

    for issuer in issuers:
        assert re.fullmatch(rf"https://oidc\.eks\.{REGION}\.amazonaws\.com/id/[0-9A-F]{{32}}", issuer)
    assert issuers[0] != issuers[1]
    assert eks.describe_cluster(name="oidc-a")["cluster"]["identity"]["oidc"]["issuer"] == issuers[0]
    for issuer in issuers:  # one IAM OIDC provider per cluster, as the cluster stacks create them
        iam.create_open_id_connect_provider(Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9" * 40])


# --- EC2 launch templates ----------------------------------------------------------------------------------------


def test_launch_template_data_is_echoed_as_sent(client):
    ec2 = client("ec2")
    instance_tags = {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "node"}]}
    created = ec2.create_launch_template(
        LaunchTemplateName="nodes",
        LaunchTemplateData={
            "ImageId": "ami-12c6146b",
            "InstanceType": "t3.medium",
            "TagSpecifications": [instance_tags],
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": "dev"}]}],
    )["LaunchTemplate"]
    bare = ec2.create_launch_template(
        LaunchTemplateName="bare",
        LaunchTemplateData={"ImageId": "ami-12c6146b"},
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "env", "Value": "dev"}]}],
    )["LaunchTemplate"]

    (version,) = ec2.describe_launch_template_versions(LaunchTemplateId=created["LaunchTemplateId"])[
        "LaunchTemplateVersions"
    ]
    assert version["LaunchTemplateData"]["TagSpecifications"] == [instance_tags]
    (bare_version,) = ec2.describe_launch_template_versions(LaunchTemplateId=bare["LaunchTemplateId"])[
        "LaunchTemplateVersions"
    ]
    assert "TagSpecifications" not in bare_version["LaunchTemplateData"]
    # the tags still tag the template itself
    (template,) = ec2.describe_launch_templates(LaunchTemplateIds=[created["LaunchTemplateId"]])["LaunchTemplates"]
    assert template["Tags"] == [{"Key": "env", "Value": "dev"}]


# --- S3 ----------------------------------------------------------------------------------------------------------


def _versioned_bucket(s3: Any, name: str) -> None:
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def test_replication_configuration_is_echoed(client):
    s3 = client("s3")
    _versioned_bucket(s3, "repl-src")
    _versioned_bucket(s3, "repl-dst")
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/replica"
    rules = [
        {
            "ID": "all",
            "Priority": 1,
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/"},
            "DeleteMarkerReplication": {"Status": "Enabled"},
            "SourceSelectionCriteria": {
                "SseKmsEncryptedObjects": {"Status": "Enabled"},
                "ReplicaModifications": {"Status": "Enabled"},
            },
            "ExistingObjectReplication": {"Status": "Enabled"},
            "Destination": {
                "Bucket": "arn:aws:s3:::repl-dst",
                "StorageClass": "STANDARD_IA",
                "EncryptionConfiguration": {"ReplicaKmsKeyID": key},
            },
        },
        {
            "ID": "tagged",
            "Priority": 2,
            "Status": "Enabled",
            "Filter": {"And": {"Prefix": "data/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}},
            "DeleteMarkerReplication": {"Status": "Disabled"},
            "Destination": {"Bucket": "arn:aws:s3:::repl-dst"},
        },
    ]
    role = f"arn:aws:iam::{ACCOUNT}:role/replication"
    s3.put_bucket_replication(Bucket="repl-src", ReplicationConfiguration={"Role": role, "Rules": rules})

    got = s3.get_bucket_replication(Bucket="repl-src")["ReplicationConfiguration"]
    assert got == {"Role": role, "Rules": rules}


def test_versioned_bucket_with_delete_markers_is_deleted_promptly(client):
    """The state-bucket teardown: lock files leave delete markers, versioning is suspended, then all is deleted."""
    s3 = client("s3")
    _versioned_bucket(s3, "teardown")
    for _ in range(2):
        s3.put_object(Bucket="teardown", Key="dev/network.tfstate.tflock", Body=b"{}")
        s3.delete_object(Bucket="teardown", Key="dev/network.tfstate.tflock")
    s3.put_object(Bucket="teardown", Key="dev/network.tfstate", Body=b"{}")
    s3.put_bucket_versioning(Bucket="teardown", VersioningConfiguration={"Status": "Suspended"})

    started = time.monotonic()
    listed = s3.list_object_versions(Bucket="teardown")
    objects = [
        {"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed["Versions"] + listed.get("DeleteMarkers", [])
    ]
    assert len(listed["DeleteMarkers"]) == 2
    result = s3.delete_objects(Bucket="teardown", Delete={"Objects": objects})
    assert not result.get("Errors")
    assert "Versions" not in s3.list_object_versions(Bucket="teardown")
    s3.delete_bucket(Bucket="teardown")
    assert time.monotonic() - started < 10
    assert "teardown" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_tls_only_bucket_policy_allows_requests_over_tls(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="tls-only", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps(tls_only_policy("tls-only")))
    s3.put_object(Bucket="tls-only", Key="k", Body=b"v")
    assert s3.get_object(Bucket="tls-only", Key="k")["Body"].read() == b"v"


def test_an_account_access_key_works_in_its_account(client):
    """INFRACTL<12 digits> names the account (validate plans staging and prod in their own accounts); any other
    key stays in moto's default account."""
    from infractl.adapters.emulator_accounts import account_access_key

    sts = client("sts")
    endpoint, verify = sts.meta.endpoint_url, sts._endpoint.http_session._verify

    def account(key: str) -> str:
        other = boto3.client(
            "sts",
            region_name=REGION,
            endpoint_url=endpoint,
            verify=verify,
            aws_access_key_id=key,
            aws_secret_access_key="x",
        )
        return other.get_caller_identity()["Account"]

    assert account(account_access_key("234567890123")) == "234567890123"
    assert account(account_access_key("345678901234")) == "345678901234"
    assert account(emulator.FAKE_ACCESS_KEY) == ACCOUNT


# --- The server ----------------------------------------------------------------------------------------------------


def test_concurrent_calls_are_atomic(client):
    """Terraform sends many calls at once: through the serialized server (the race itself is too rare to provoke
    here; test_emulator_patches.py shows the serialization), keys and aliases created on several threads while
    others list them all succeed, none is lost, and nothing deadlocks."""
    from concurrent.futures import ThreadPoolExecutor

    def work(n: int) -> list[str]:
        kms = client("kms")
        errors = []
        for i in range(10):
            try:
                key = kms.create_key(Description=f"atomic {n}-{i}")["KeyMetadata"]["KeyId"]
                kms.create_alias(AliasName=f"alias/atomic-{n}-{i}", TargetKeyId=key)
                kms.list_aliases(Limit=100)
            except ClientError as exc:
                errors.append(f"{n}-{i}: {exc}")
        return errors

    with ThreadPoolExecutor(6) as pool:
        errors = [e for found in pool.map(work, range(6)) for e in found]
    assert errors == []
    kms = client("kms")
    names = {a["AliasName"] for page in kms.get_paginator("list_aliases").paginate() for a in page["Aliases"]}
    assert {f"alias/atomic-{n}-{i}" for n in range(6) for i in range(10)} <= names


def test_every_request_is_logged_by_operation_without_its_values(client, tmp_path_factory):
    """The request log (one JSON line a call) names the service, operation, SDK attempt, status and error code, and
    keeps no value of the request: neither the access key nor any parameter."""
    iam = client("iam")
    iam.create_role(RoleName="logged-role-secretname", AssumeRolePolicyDocument="{}")
    with pytest.raises(ClientError, match="EntityAlreadyExists"):
        iam.create_role(RoleName="logged-role-secretname", AssumeRolePolicyDocument="{}")
    client("kms").list_aliases()
    log = Path(client.data_dir) / "requests.jsonl"
    text = log.read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    creates = [e for e in entries if e["op"] == "CreateRole"]
    assert [(e["service"], e["status"], e["error"], e["attempt"]) for e in creates[-2:]] == [
        ("iam", 200, None, 1),
        ("iam", 409, "EntityAlreadyExists", 1),
    ]
    assert any(e["service"] == "kms" and e["op"] == "ListAliases" for e in entries)
    assert "logged-role-secretname" not in text and emulator.FAKE_ACCESS_KEY not in text


def test_a_retried_call_that_already_ran_gets_its_answer_again(client):
    """The SDK sends a call again (same invocation id, attempt 2) when it did not get the answer in time. The call
    ran already: the emulator answers the retry with that answer instead of running it twice (which turned one
    CreateRole into EntityAlreadyExists). A new call of the same kind still runs."""
    import ssl
    import urllib.request

    iam = client("iam")
    sent = []
    iam.meta.events.register("before-send.iam.CreateRole", lambda request, **_: sent.append(request))
    created = iam.create_role(RoleName="retried-role", AssumeRolePolicyDocument="{}")["Role"]["RoleId"]
    first = sent[0]
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in first.headers.items()}
    headers["amz-sdk-request"] = "attempt=2; max=3"
    body = first.body.encode() if isinstance(first.body, str) else first.body
    retry = urllib.request.Request(first.url, data=body, headers=headers, method="POST")
    context = ssl.create_default_context(cafile=str(Path(client.data_dir) / "ca.pem"))
    with urllib.request.urlopen(retry, context=context, timeout=15) as resp:
        assert resp.status == 200 and created in resp.read().decode()

    with pytest.raises(ClientError, match="EntityAlreadyExists"):  # a new call (new invocation id) runs
        iam.create_role(RoleName="retried-role", AssumeRolePolicyDocument="{}")
    entries = [json.loads(line) for line in (Path(client.data_dir) / "requests.jsonl").read_text().splitlines()]
    tried = [(e["attempt"], e["status"], e["replayed"]) for e in entries if e["op"] == "CreateRole"][-3:]
    assert tried == [(1, 200, False), (2, 200, True), (1, 409, False)]


def test_a_client_slow_to_greet_does_not_stall_the_others(client):
    """A connection that never sends its TLS greeting (a Terraform provider descheduled on a busy machine) holds only
    its own thread: other clients are answered at once, instead of waiting in the accept loop until their own
    handshake timeouts make the SDKs retry."""
    import socket
    from urllib.parse import urlparse

    url = urlparse(client("sts").meta.endpoint_url)
    quick = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=3, read_timeout=3)
    silent = [socket.create_connection((url.hostname, url.port)) for _ in range(3)]
    try:
        time.sleep(0.3)  # the server has accepted them by now
        sts = boto3.client(
            "sts",
            region_name=REGION,
            endpoint_url=client("sts").meta.endpoint_url,
            verify=str(Path(client.data_dir) / "ca.pem"),
            aws_access_key_id=emulator.FAKE_ACCESS_KEY,
            aws_secret_access_key=emulator.FAKE_SECRET_KEY,
            config=quick,
        )
        assert sts.get_caller_identity()["Account"] == ACCOUNT
    finally:
        for sock in silent:
            sock.close()


# --- Calls moto cannot serve ---------------------------------------------------------------------------------------


def _retrying(client, service: str) -> Any:
    """A client that retries as the SDKs do by default (a 500 would be sent up to 5 times)."""
    retrying = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=15)
    made = client(service)
    return boto3.client(
        service,
        region_name=REGION,
        endpoint_url=made.meta.endpoint_url,
        verify=str(Path(client.data_dir) / "ca.pem"),
        aws_access_key_id=emulator.FAKE_ACCESS_KEY,
        aws_secret_access_key=emulator.FAKE_SECRET_KEY,
        config=retrying,
    )


@pytest.mark.parametrize(
    ("service", "call", "named"),
    [
        ("elasticache", lambda c: c.describe_service_updates(), "DescribeServiceUpdates"),
        (
            "kms",
            lambda c: c.create_custom_key_store(CustomKeyStoreName="x", CloudHsmClusterId="cluster-1234567890a"),
            "CreateCustomKeyStore",
        ),
        ("redshift-serverless", lambda c: c.list_namespaces(), "ListNamespaces"),  # a service moto lacks altogether
    ],
    ids=["query", "json", "unknown-service"],
)
def test_an_action_moto_lacks_fails_at_once_naming_it(client, service, call, named):
    """Stock moto answers these with an HTML 500, which the SDK retries (for tens of minutes in Terraform's
    provider); here one attempt gets a 400 NotImplemented that names the service and the action."""
    with pytest.raises(ClientError) as caught:
        call(_retrying(client, service))
    error = caught.value.response["Error"]
    assert error["Code"] == "NotImplemented"
    assert f"{service} {named} is not implemented by the AWS emulator" in error["Message"]
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    entries = [json.loads(line) for line in (Path(client.data_dir) / "requests.jsonl").read_text().splitlines()]
    mine = [e for e in entries if e["service"] == service and e["op"] == named]
    assert [(e["attempt"], e["status"], e["error"]) for e in mine] == [(1, 400, "NotImplemented")]


# --- KMS -----------------------------------------------------------------------------------------------------------


def _in_region(client, service: str, region: str) -> Any:
    made = client(service)
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=made.meta.endpoint_url,
        verify=str(Path(client.data_dir) / "ca.pem"),
        aws_access_key_id=emulator.FAKE_ACCESS_KEY,
        aws_secret_access_key=emulator.FAKE_SECRET_KEY,
        config=made.meta.config,
    )


def test_a_replica_key_has_its_own_policy_and_the_primary_stays_primary(client):
    kms = client("kms")
    primary = kms.create_key(Description="primary", MultiRegion=True)["KeyMetadata"]
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "replica",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    replicated = kms.replicate_key(
        KeyId=primary["KeyId"],
        ReplicaRegion="eu-central-1",
        Policy=policy,
        Description="replica",
        Tags=[{"TagKey": "role", "TagValue": "replica"}],
    )
    assert json.loads(replicated["ReplicaPolicy"]) == json.loads(policy)
    remote = _in_region(client, "kms", "eu-central-1")
    replica = remote.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]
    assert (replica["Description"], replica["MultiRegionConfiguration"]["MultiRegionKeyType"]) == ("replica", "REPLICA")
    assert json.loads(remote.get_key_policy(KeyId=primary["KeyId"], PolicyName="default")["Policy"]) == json.loads(
        policy
    )
    assert remote.list_resource_tags(KeyId=primary["KeyId"])["Tags"] == [{"TagKey": "role", "TagValue": "replica"}]
    again = kms.describe_key(KeyId=primary["KeyId"])["KeyMetadata"]
    assert again["Description"] == "primary"
    assert again["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    assert [r["Region"] for r in again["MultiRegionConfiguration"]["ReplicaKeys"]] == ["eu-central-1"]
    assert "replica" not in kms.get_key_policy(KeyId=primary["KeyId"], PolicyName="default")["Policy"]


def test_key_material_is_imported_into_an_external_key(client):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    kms = client("kms")
    key = kms.create_key(Origin="EXTERNAL", Description="external")["KeyMetadata"]
    assert (key["KeyState"], key["Enabled"]) == ("PendingImport", False)
    params = kms.get_parameters_for_import(
        KeyId=key["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048"
    )
    public = serialization.load_der_public_key(params["PublicKey"])
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    kms.import_key_material(
        KeyId=key["KeyId"],
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=public.encrypt(b"k" * 32, oaep),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    imported = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
    assert (imported["KeyState"], imported["Enabled"], imported["ExpirationModel"]) == (
        "Enabled",
        True,
        "KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    kms.delete_imported_key_material(KeyId=key["KeyId"])
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingImport"


def test_the_key_rotation_period_is_echoed(client):
    kms = client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key, RotationPeriodInDays=90)
    assert kms.get_key_rotation_status(KeyId=key)["RotationPeriodInDays"] == 90
    kms.enable_key_rotation(KeyId=key)
    assert kms.get_key_rotation_status(KeyId=key)["RotationPeriodInDays"] == 365


# --- ElastiCache ---------------------------------------------------------------------------------------------------


def test_a_cache_subnet_group_is_modified_and_deleted(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.91.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    cache = client("elasticache")
    cache.create_cache_subnet_group(
        CacheSubnetGroupName="cache", CacheSubnetGroupDescription="one", SubnetIds=subnets[:1]
    )
    modified = cache.modify_cache_subnet_group(
        CacheSubnetGroupName="cache", CacheSubnetGroupDescription="two", SubnetIds=subnets
    )["CacheSubnetGroup"]
    assert modified["CacheSubnetGroupDescription"] == "two"
    assert sorted(s["SubnetIdentifier"] for s in modified["Subnets"]) == sorted(subnets)
    cache.delete_cache_subnet_group(CacheSubnetGroupName="cache")
    with pytest.raises(ClientError, match="CacheSubnetGroupNotFound"):
        cache.describe_cache_subnet_groups(CacheSubnetGroupName="cache")


# --- S3 bucket configurations ----------------------------------------------------------------------------------------


def test_bucket_configurations_moto_lacks_are_stored_and_echoed(client):
    """PutBucketRequestPayment/Metrics/IntelligentTiering/Analytics ran as CreateBucket on stock moto, and their
    reads answered a listing."""
    s3 = client("s3")
    s3.create_bucket(Bucket="configs", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_request_payment(Bucket="configs", RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket="configs")["Payer"] == "Requester"
    metrics = {"Id": "docs", "Filter": {"And": {"Prefix": "docs/", "Tags": [{"Key": "a", "Value": "1"}]}}}
    s3.put_bucket_metrics_configuration(Bucket="configs", Id="docs", MetricsConfiguration=metrics)
    assert s3.get_bucket_metrics_configuration(Bucket="configs", Id="docs")["MetricsConfiguration"] == metrics
    tiering = {
        "Id": "archive",
        "Status": "Enabled",
        "Filter": {"Prefix": "old/"},
        "Tierings": [{"Days": 180, "AccessTier": "ARCHIVE_ACCESS"}],
    }
    s3.put_bucket_intelligent_tiering_configuration(
        Bucket="configs", Id="archive", IntelligentTieringConfiguration=tiering
    )
    got = s3.get_bucket_intelligent_tiering_configuration(Bucket="configs", Id="archive")
    assert got["IntelligentTieringConfiguration"] == tiering
    listed = s3.list_bucket_metrics_configurations(Bucket="configs")["MetricsConfigurationList"]
    assert listed == [metrics]
    s3.delete_bucket_metrics_configuration(Bucket="configs", Id="docs")
    with pytest.raises(ClientError, match="NoSuchConfiguration"):
        s3.get_bucket_metrics_configuration(Bucket="configs", Id="docs")


def test_lifecycle_size_bounds_and_transition_default_are_echoed(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="lifecycle-sizes", CreateBucketConfiguration={"LocationConstraint": REGION})
    rule = {
        "ID": "sized",
        "Status": "Enabled",
        "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 500, "ObjectSizeLessThan": 64000}},
        "Expiration": {"Days": 90},
    }
    s3.put_bucket_lifecycle_configuration(
        Bucket="lifecycle-sizes",
        LifecycleConfiguration={"Rules": [rule]},
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )
    got = s3.get_bucket_lifecycle_configuration(Bucket="lifecycle-sizes")
    assert got["Rules"] == [rule]
    assert got["TransitionDefaultMinimumObjectSize"] == "varies_by_storage_class"
    s3.delete_bucket_lifecycle(Bucket="lifecycle-sizes")
    with pytest.raises(ClientError, match="NoSuchLifecycleConfiguration"):
        s3.get_bucket_lifecycle_configuration(Bucket="lifecycle-sizes")


def test_accelerate_mfa_delete_and_logging_before_the_target_policy(client):
    s3 = client("s3")
    for name in ("echoes", "echoes-logs"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_accelerate_configuration(Bucket="echoes", AccelerateConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_accelerate_configuration(Bucket="echoes")["Status"] == "Suspended"
    s3.put_bucket_versioning(Bucket="echoes", VersioningConfiguration={"Status": "Enabled", "MFADelete": "Disabled"})
    versioning = s3.get_bucket_versioning(Bucket="echoes")
    assert (versioning["Status"], versioning["MFADelete"]) == ("Enabled", "Disabled")
    # the target bucket has no policy yet (Terraform creates it in parallel): AWS accepts the configuration
    s3.put_bucket_logging(
        Bucket="echoes", BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "echoes-logs", "TargetPrefix": "l/"}}
    )
    assert s3.get_bucket_logging(Bucket="echoes")["LoggingEnabled"]["TargetBucket"] == "echoes-logs"


def test_versioning_of_an_object_lock_bucket_cannot_be_suspended(client):
    s3 = client("s3")
    s3.create_bucket(
        Bucket="locked-versioning",
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=True,
    )
    with pytest.raises(ClientError, match="An Object Lock configuration is present on this bucket"):
        s3.put_bucket_versioning(Bucket="locked-versioning", VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket="locked-versioning")["Status"] == "Enabled"


# --- EC2: customer gateways and VPC endpoints ----------------------------------------------------------------------


def test_a_customer_gateway_keeps_its_device_name(client):
    ec2 = client("ec2")
    gateway = ec2.create_customer_gateway(Type="ipsec.1", BgpAsn=65112, PublicIp="49.33.1.162", DeviceName="edge-1")
    gateway_id = gateway["CustomerGateway"]["CustomerGatewayId"]
    (described,) = ec2.describe_customer_gateways(CustomerGatewayIds=[gateway_id])["CustomerGateways"]
    assert described["DeviceName"] == "edge-1"


def test_an_interface_endpoint_keeps_its_subnet_configuration_and_dns_options(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.92.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.92.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc,
        VpcEndpointType="Interface",
        ServiceName=f"com.amazonaws.{REGION}.s3",
        SubnetIds=subnets,
        SubnetConfigurations=[{"SubnetId": subnets[0], "Ipv4": "10.92.0.10"}],
        DnsOptions={"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": False},
    )["VpcEndpoint"]
    (described,) = ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint["VpcEndpointId"]])["VpcEndpoints"]
    assert described["DnsOptions"] == {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": False}
    assert described["IpAddressType"] == "ipv4"
    enis = ec2.describe_network_interfaces(NetworkInterfaceIds=described["NetworkInterfaceIds"])["NetworkInterfaces"]
    by_subnet = {eni["SubnetId"]: eni["PrivateIpAddress"] for eni in enis}
    assert by_subnet[subnets[0]] == "10.92.0.10"
    assert by_subnet[subnets[1]].startswith("10.92.1.")  # in its subnet, as AWS picks it


def test_logging_key_format_and_the_acl_owner_are_echoed(client):
    s3 = client("s3")
    for name in ("keyformat", "keyformat-logs"):
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    enabled = {
        "TargetBucket": "keyformat-logs",
        "TargetPrefix": "l/",
        "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "DeliveryTime"}},
    }
    s3.put_bucket_logging(Bucket="keyformat", BucketLoggingStatus={"LoggingEnabled": enabled})
    assert s3.get_bucket_logging(Bucket="keyformat")["LoggingEnabled"] == enabled
    # the canonical user Terraform reads from ListBuckets owns the buckets' ACLs
    owner = s3.list_buckets()["Owner"]["ID"]
    assert s3.get_bucket_acl(Bucket="keyformat")["Owner"]["ID"] == owner


def test_dhcp_options_keep_the_tags_they_were_created_with(client):
    ec2 = client("ec2")
    created = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "domain-name", "Values": ["service.consul"]}],
        TagSpecifications=[{"ResourceType": "dhcp-options", "Tags": [{"Key": "Name", "Value": "dhcp"}]}],
    )["DhcpOptions"]["DhcpOptionsId"]
    (described,) = ec2.describe_dhcp_options(DhcpOptionsIds=[created])["DhcpOptions"]
    assert described["Tags"] == [{"Key": "Name", "Value": "dhcp"}]
