"""Does an AWS object a plan is about to create already exist? For the resource types that AWS identifies by a
name the configuration gives (so a second create fails with "already exists"), look the object up by that name
and return the ID `terraform import` takes for it. Used by `infractl state recover` after a killed apply.

Types without such a name (a VPC, a subnet, a KMS key, an EIP, …) cannot be told apart from other objects of the
account by their configuration: they are not in LOOKUPS, and the caller reports them as not checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infractl.adapters.aws import AwsTarget

Values = dict[str, Any]
Lookup = Callable[[AwsTarget, Values], str | None]


def _missing(exc: Exception, *codes: str) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in codes or code.endswith(("NotFound", "NotFoundException", "NoSuchEntity", "NoSuchBucket"))


def _get(fn: Callable[[], Any], *codes: str) -> Any:
    """The answer of fn, or None when the object does not exist."""
    from botocore.exceptions import ClientError

    try:
        return fn()
    except ClientError as exc:
        if _missing(exc, *codes):
            return None
        raise


def _db_instance(t: AwsTarget, v: Values) -> str | None:
    name = v.get("identifier")
    found = name and _get(lambda: t.client("rds").describe_db_instances(DBInstanceIdentifier=name))
    return name if found and found.get("DBInstances") else None


def _db_parameter_group(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    found = name and _get(lambda: t.client("rds").describe_db_parameter_groups(DBParameterGroupName=name))
    return name if found and found.get("DBParameterGroups") else None


def _db_subnet_group(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    found = name and _get(lambda: t.client("rds").describe_db_subnet_groups(DBSubnetGroupName=name))
    return name if found and found.get("DBSubnetGroups") else None


def _security_group(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    filters = [{"Name": "group-name", "Values": [name]}]
    if v.get("vpc_id"):
        filters.append({"Name": "vpc-id", "Values": [v["vpc_id"]]})
    groups = t.client("ec2").describe_security_groups(Filters=filters).get("SecurityGroups", [])
    return groups[0]["GroupId"] if len(groups) == 1 else None


def _secret(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    found = name and _get(lambda: t.client("secretsmanager").describe_secret(SecretId=name))
    return found["ARN"] if found and not found.get("DeletedDate") else None


def _iam_role(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    found = name and _get(lambda: t.client("iam").get_role(RoleName=name))
    return name if found else None


def _iam_policy(t: AwsTarget, v: Values) -> str | None:
    name, path = v.get("name"), v.get("path") or "/"
    if not name:
        return None
    account = t.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:iam::{account}:policy{path}{name}"
    return arn if _get(lambda: t.client("iam").get_policy(PolicyArn=arn)) else None


def _log_group(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    groups = t.client("logs").describe_log_groups(logGroupNamePrefix=name).get("logGroups", [])
    return name if any(g["logGroupName"] == name for g in groups) else None


def _bucket(t: AwsTarget, v: Values) -> str | None:
    name = v.get("bucket")
    return name if name and _get(lambda: t.client("s3").head_bucket(Bucket=name), "404", "NoSuchBucket") else None


def _ssm_parameter(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    found = name and _get(lambda: t.client("ssm").get_parameter(Name=name), "ParameterNotFound")
    return name if found else None


def _kms_alias(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    for page in t.client("kms").get_paginator("list_aliases").paginate():
        if any(a["AliasName"] == name for a in page.get("Aliases", [])):
            return name
    return None


def _eks_cluster(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    return name if name and _get(lambda: t.client("eks").describe_cluster(name=name)) else None


def _eks_node_group(t: AwsTarget, v: Values) -> str | None:
    cluster, name = v.get("cluster_name"), v.get("node_group_name")
    if not (cluster and name):
        return None
    found = _get(lambda: t.client("eks").describe_nodegroup(clusterName=cluster, nodegroupName=name))
    return f"{cluster}:{name}" if found else None


def _dynamodb_table(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    return name if name and _get(lambda: t.client("dynamodb").describe_table(TableName=name)) else None


def _sns_topic(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    for page in t.client("sns").get_paginator("list_topics").paginate():
        for topic in page.get("Topics", []):
            if topic["TopicArn"].rsplit(":", 1)[-1] == name:
                return topic["TopicArn"]
    return None


def _oidc_provider(t: AwsTarget, v: Values) -> str | None:
    url = (v.get("url") or "").removeprefix("https://")
    if not url:
        return None
    iam = t.client("iam")
    for item in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        if item["Arn"].endswith(f":oidc-provider/{url}"):
            return item["Arn"]
    return None


def _launch_template(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    found = _get(
        lambda: t.client("ec2").describe_launch_templates(LaunchTemplateNames=[name]),
        "InvalidLaunchTemplateName.NotFoundException",
    )
    templates = (found or {}).get("LaunchTemplates", [])
    return templates[0]["LaunchTemplateId"] if templates else None


def _budget(t: AwsTarget, v: Values) -> str | None:
    name = v.get("name")
    if not name:
        return None
    account = v.get("account_id") or t.client("sts").get_caller_identity()["Account"]
    found = _get(lambda: t.client("budgets").describe_budget(AccountId=account, BudgetName=name))
    return f"{account}:{name}" if found else None


# resource type -> how to find an existing object from the planned values (and the ID to import it by)
LOOKUPS: dict[str, Lookup] = {
    "aws_db_instance": _db_instance,
    "aws_db_parameter_group": _db_parameter_group,
    "aws_db_subnet_group": _db_subnet_group,
    "aws_security_group": _security_group,
    "aws_secretsmanager_secret": _secret,
    "aws_iam_role": _iam_role,
    "aws_iam_policy": _iam_policy,
    "aws_cloudwatch_log_group": _log_group,
    "aws_s3_bucket": _bucket,
    "aws_ssm_parameter": _ssm_parameter,
    "aws_kms_alias": _kms_alias,
    "aws_eks_cluster": _eks_cluster,
    "aws_eks_node_group": _eks_node_group,
    "aws_dynamodb_table": _dynamodb_table,
    "aws_sns_topic": _sns_topic,
    "aws_iam_openid_connect_provider": _oidc_provider,
    "aws_launch_template": _launch_template,
    "aws_budgets_budget": _budget,
}


def existing(target: AwsTarget, resource_type: str, values: Values) -> str | None:
    """The import ID of the object a planned create of resource_type with these values would collide with, or
    None when there is none. resource_type must be in LOOKUPS."""
    from infractl.adapters.aws import call

    return call(f"{resource_type}: look-up", lambda: LOOKUPS[resource_type](target, values))
