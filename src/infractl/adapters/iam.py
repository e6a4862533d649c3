"""Reading an account's IAM (roles, their trust and permission policies, users) for `infractl gate`'s separation of
duties. Read-only: List*/Get* calls. Policy documents come back as dicts (the SDK decodes them; a string is parsed)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from infractl.adapters.aws import AwsTarget, call, error_code
from infractl.errors import CloudError


@dataclass
class RolePolicies:
    name: str
    trust: dict[str, Any]
    managed: list[str] = field(default_factory=list)  # attached policy ARNs
    inline: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> document
    # customer-managed attached policies: ARN -> the default version's document
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


def _doc(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    text = str(value)
    return json.loads(unquote(text) if text.startswith("%7B") else text)


def role(target: AwsTarget, name: str) -> RolePolicies | None:
    """The role's trust policy and permission policies; None when there is no such role."""
    from botocore.exceptions import ClientError

    iam = target.client("iam")
    try:
        got = iam.get_role(RoleName=name)["Role"]
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise CloudError(f"iam:GetRole {name}: {error_code(exc) or exc}") from None
    found = RolePolicies(name=name, trust=_doc(got["AssumeRolePolicyDocument"]))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        found.managed += [p["PolicyArn"] for p in page["AttachedPolicies"]]
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            doc = call("iam:GetRolePolicy", iam.get_role_policy, RoleName=name, PolicyName=policy)
            found.inline[policy] = _doc(doc["PolicyDocument"])
    for arn in found.managed:
        if ":aws:policy/" in arn:  # AWS-managed: judged by name
            continue
        meta = call("iam:GetPolicy", iam.get_policy, PolicyArn=arn)["Policy"]
        version = call(
            "iam:GetPolicyVersion", iam.get_policy_version, PolicyArn=arn, VersionId=meta["DefaultVersionId"]
        )
        found.documents[arn] = _doc(version["PolicyVersion"]["Document"])
    return found


def role_trusts(target: AwsTarget) -> dict[str, dict[str, Any]]:
    """Every role's name and trust policy."""
    iam = target.client("iam")
    found: dict[str, dict[str, Any]] = {}
    for page in iam.get_paginator("list_roles").paginate():
        for r in page["Roles"]:
            found[r["RoleName"]] = _doc(r.get("AssumeRolePolicyDocument") or {})
    return found


def users(target: AwsTarget) -> list[str]:
    """Every IAM user's name (people sign in through SSO/federation; an IAM user is a long-lived credential)."""
    iam = target.client("iam")
    names: list[str] = []
    for page in iam.get_paginator("list_users").paginate():
        names += [u["UserName"] for u in page["Users"]]
    return names
