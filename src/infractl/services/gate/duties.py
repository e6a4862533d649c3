"""Separation of duties, read from the env account's IAM (the emulator's with --emulate), as the ci stack made it
(terraform/modules/aws/ci-oidc):

- the CI plan role cannot apply: its trust admits pull requests only, and its permissions are read-only (AWS's
  read-only managed policies; inline statements that read, or write only Terraform's lock files `*.tflock`, or use
  KMS only through S3);
- the apply role needs an environment: every subject its trust admits is a GitHub environment's
  (`repo:ORG/REPO:environment:NAME`), matched exactly, never a wildcard;
- no human IAM user: the account has no IAM user at all (people come through SSO, CI through OIDC)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from infractl.models.gate import CheckDef, Evidence
from infractl.services.gate.live import met
from infractl.services.gate.reports import not_met

OIDC_SUB = "token.actions.githubusercontent.com:sub"
READ_ONLY_MANAGED = ("ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit")
READ_VERBS = ("Get", "List", "Describe", "Head", "BatchGet", "Lookup", "View")
LOCK_SUFFIX = ".tflock"


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _allows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(doc.get("Statement")) if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _subjects(trust: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(exact subjects, wildcard subjects) the trust policy admits for the GitHub OIDC provider; a statement without
    a sub condition admits any subject ('*')."""
    exact, wild = [], []
    for statement in _allows(trust):
        condition = statement.get("Condition") or {}
        found = False
        for operator, pairs in condition.items():
            for key, values in (pairs or {}).items():
                if key != OIDC_SUB:
                    continue
                found = True
                for value in _list(values):
                    (wild if "Like" in operator or "*" in str(value) else exact).append(str(value))
        if not found:
            wild.append("*")
    return exact, wild


def _is_read(action: str) -> bool:
    verb = action.split(":", 1)[-1]
    return action != "*" and verb != "*" and verb.startswith(READ_VERBS) and "*" not in verb[:3]


def _write_grants(doc: dict[str, Any]) -> list[str]:
    """Each allowed action of a permission policy that can change something, outside the plan role's carve-outs."""
    grants = []
    for statement in _allows(doc):
        resources = [str(r) for r in _list(statement.get("Resource"))]
        via_s3 = "kms:ViaService" in str(statement.get("Condition") or {})
        for action in (str(a) for a in _list(statement.get("Action"))):
            if _is_read(action):
                continue
            if action.startswith("s3:") and resources and all(r.endswith(LOCK_SUFFIX) for r in resources):
                continue  # Terraform's lock files next to the state
            if action.startswith("kms:") and via_s3 and not action.endswith("*"):
                continue  # the state key, through S3 only
            grants.append(f"{action} on {', '.join(resources) or '*'}")
    if _list(doc.get("Statement")) and any("NotAction" in s for s in _allows(doc)):
        grants.append("an Allow with NotAction (everything but a list)")
    return grants


def plan_problems(role: Any) -> list[str]:
    """Why the plan role (adapters/iam.RolePolicies) could apply; empty when it cannot."""
    problems = []
    exact, wild = _subjects(role.trust)
    if wild:
        problems.append(f"its trust admits wildcard subjects {wild}")
    problems += [
        f"its trust admits {s} (plan is for pull requests only)" for s in exact if not s.endswith(":pull_request")
    ]
    for arn in role.managed:
        name = arn.rsplit("/", 1)[-1]
        if ":aws:policy/" in arn and name not in READ_ONLY_MANAGED:
            problems.append(f"it has the AWS-managed policy {name}")
    for policy, doc in {**role.inline, **role.documents}.items():
        problems += [f"policy {policy.rsplit('/', 1)[-1]} allows {g}" for g in _write_grants(doc)]
    return problems


def apply_problems(role: Any) -> list[str]:
    exact, wild = _subjects(role.trust)
    problems = [f"its trust admits wildcard subjects {wild}: any ref could apply"] if wild else []
    problems += [f"its trust admits {s}, which is not a GitHub environment" for s in exact if ":environment:" not in s]
    if not exact and not wild:
        problems.append("its trust admits no GitHub subject")
    return problems


def duties(check: CheckDef, target_of: Callable[[], Any], env: str, now: datetime) -> Evidence:
    """The verdict on the account `target_of()` names (an AwsTarget)."""
    from infractl.adapters import iam
    from infractl.services.evidence.actions import describe

    source = f"live: IAM of {env}'s account ({env}-github-plan, {env}-github-apply, users)"
    try:
        target = target_of()
        plan, apply_ = iam.role(target, f"{env}-github-plan"), iam.role(target, f"{env}-github-apply")
        users = iam.users(target)
    except Exception as exc:  # no credentials, no account reachable: not evidence of anything
        return not_met(check, source, f"IAM could not be read: {describe(exc)}", now)
    problems = []
    for name, role, judge in (("plan", plan, plan_problems), ("apply", apply_, apply_problems)):
        if role is None:
            problems.append(f"no role {env}-github-{name}: apply the ci stack (`infractl apply {env} --stack ci`)")
        else:
            problems += [f"{role.name}: {p}" for p in judge(role)]
    if users:
        problems.append(
            f"IAM users exist ({', '.join(sorted(users)[:5])}): people sign in through SSO, CI through OIDC"
        )
    if problems:
        return not_met(check, source, "; ".join(problems), now)
    return met(
        check,
        source,
        "the plan role is read-only and pull-request only; the apply role needs a GitHub environment; no IAM user",
        now,
    )
