"""`infractl gate infra|security dev --emulate` on real engines (docs/gates.md): the ledger on PostgreSQL + OpenBao +
moto S3 (the dev stack), IAM on the emulator, the charts rendered and checked by checkov, parity on the repository's
stacks; the reports the gate reads are written through their own models into an evidence folder.

The gate passes on a tree where everything holds, and fails naming the criterion when a drill report is stale, a
scan failed, the evidence chain is broken, or the plan role can apply; its verdict is an entry of the ledger."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infractl.adapters import emulator
from infractl.cli.main import main
from infractl.models.drill import (
    SCENARIOS,
    DrillStep,
    DrReport,
    FaultsReport,
    PartResult,
    ScenarioResult,
    WorkloadCheck,
)
from infractl.models.project import Project
from infractl.models.scan import Gate, ScanReport
from infractl.models.validation import Cell, ValidationReport
from infractl.services.gate import reports
from infractl.services.stacks import graph
from tests.conftest import REPO

pytestmark = pytest.mark.integration

LINKED = ("helm", "slo", "terraform", "releases", "docs", "gates", "pricing")
PLAN_ROLE, APPLY_ROLE = "dev-github-plan", "dev-github-apply"
PROJECT = Project(root=REPO, work_dir=REPO / ".infractl")
OIDC = "token.actions.githubusercontent.com"


@dataclass
class Tree:
    root: Path  # the project
    work: Path
    evidence: Path
    ports: dict[str, int]

    def gate(self, gate: str, *extra: str) -> tuple[int, dict]:
        out = io.StringIO()
        argv = ["--root", str(self.root), "gate", gate, "dev", "--emulate", "--evidence-dir", str(self.evidence)]
        with contextlib.redirect_stdout(out):
            rc = main([*argv, "--report-dir", str(self.work / "gates"), "--json", *extra])
        return rc, json.loads(out.getvalue())


def criterion(verdict: dict, cid: str) -> dict:
    return next(c for c in verdict["criteria"] if c["id"] == cid)


def _junit(now: datetime) -> str:
    """A JUnit report (pytest's shape) in which every module the gates select ran and passed."""
    import yaml

    modules = set()
    for gate in ("infra", "security"):
        for c in yaml.safe_load((REPO / "gates" / f"{gate}.yaml").read_text())["criteria"]:
            for check in c["checks"]:
                modules.update(check.get("select", []))
    cases = "".join(
        f'<testcase classname="{m[:-3].replace("/", ".")}" name="test_it_holds" time="0.1"/>' for m in sorted(modules)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" errors="0" failures="0"'
        f' skipped="0" tests="{len(modules)}" timestamp="{now.isoformat()}">{cases}</testsuite></testsuites>'
    )


def write_evidence(
    root: Path, now: datetime, *, drill_age: timedelta = timedelta(0), scan_failed: bool = False
) -> None:
    step = DrillStep(name="database.restore", status="passed", started_at=now, seconds=1.0)
    dr = DrReport(
        env="dev",
        emulate=True,
        target="local",
        started_at=now - drill_age - timedelta(minutes=5),
        finished_at=now - drill_age,
        parts=[PartResult(part=p, steps=[step]) for p in ("database", "cluster", "evidence")],
        measures=[],
    )
    check = WorkloadCheck(started=20, completed=20)
    faults = FaultsReport(
        env="dev",
        workflows=20,
        started_at=now - timedelta(minutes=10),
        finished_at=now,
        scenarios=[ScenarioResult(scenario=s, steps=[step], check=check) for s in SCENARIOS],
    )
    gates = [
        Gate(name="dependencies", status="failed" if scan_failed else "passed", tool="pip-audit"),
        Gate(name="secrets", status="passed", tool="detect-secrets"),
        Gate(name="workflows-zizmor", status="passed", tool="zizmor"),
        Gate(name="workflows-actionlint", status="passed", tool="actionlint"),
    ]
    if scan_failed:
        from infractl.models.scan import Finding

        gates[0].findings = [Finding(file="pyproject.toml", rule="PYSEC-2026-1", message="jinja2 3.1.0: PYSEC-2026-1")]
    scan = ScanReport(root=str(root), gates=gates, finished_at=now)
    stacks = sorted(n for n, spec in graph.load_manifest(PROJECT).stacks.items() if spec.cloud == "aws")
    cells = [Cell(stack=s, env="dev", gates={"security": "pass", "tags": "pass"}) for s in stacks]
    validate = ValidationReport(
        envs=["dev"], stacks=stacks, cells=cells, findings=[], waived=[], costs={}, finished_at=now
    )
    for path, text in (
        (reports.TESTS, _junit(now)),
        (reports.drill_path("dr", "dev"), dr.model_dump_json()),
        (reports.drill_path("faults", "dev"), faults.model_dump_json()),
        (reports.SCAN, scan.model_dump_json()),
        (reports.VALIDATE, validate.model_dump_json()),
    ):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")


def _ci_roles(target) -> None:
    """The ci stack's two roles as terraform/modules/aws/ci-oidc makes them (test_bootstrap_dev checks the real
    stack's with the same rules)."""
    iam = target.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{OIDC}",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=["6938fd4d98bab03faadb97b34396831e3780aea1"],  # pragma: allowlist secret
    )["OpenIDConnectProviderArn"]

    def trust(sub: str) -> str:
        condition = {"StringEquals": {f"{OIDC}:aud": "sts.amazonaws.com", f"{OIDC}:sub": sub}}
        statement = {
            "Effect": "Allow",
            "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    iam.create_role(RoleName=PLAN_ROLE, AssumeRolePolicyDocument=trust("repo:example-org/control-plane:pull_request"))
    iam.attach_role_policy(RoleName=PLAN_ROLE, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    state = "arn:aws:s3:::state-bucket"
    inline = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": state},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{state}/dev/*"},
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": f"{state}/dev/*.tflock"},
        ],
    }
    iam.put_role_policy(RoleName=PLAN_ROLE, PolicyName="terraform-state", PolicyDocument=json.dumps(inline))
    sub = "repo:example-org/control-plane:environment:dev"
    iam.create_role(RoleName=APPLY_ROLE, AssumeRolePolicyDocument=trust(sub))
    iam.attach_role_policy(RoleName=APPLY_ROLE, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tree]:
    from infractl.services.context import build
    from infractl.services.evidence import seed
    from infractl.services.evidence.access import open_ledger
    from tests.integration.conftest import aws
    from tests.tenant_stack import local_tenant_stack

    base = tmp_path_factory.mktemp("gate")
    with local_tenant_stack(base, ("initech",)) as local:
        for name in LINKED:
            (local.root / name).symlink_to(REPO / name)
        emulator.start(local.work / "emulator")
        try:
            _ci_roles(aws(local.work))
            seed.seed(open_ledger(build(root=local.root, emulate=True), "dev"), 30, ["standard"], payloads=True)
            evidence = base / "evidence"
            write_evidence(evidence, datetime.now(UTC))
            yield Tree(root=local.root, work=local.work, evidence=evidence, ports=local.ports)
        finally:
            emulator.stop(local.work / "emulator")


def test_every_criterion_is_met_on_a_tree_where_everything_holds_and_the_verdict_is_evidence(tree: Tree) -> None:
    from infractl.services.context import build
    from infractl.services.evidence import verify
    from infractl.services.evidence.access import open_ledger

    for gate in ("infra", "security"):
        rc, verdict = tree.gate(gate)
        assert rc == 0, [(c["id"], [e["detail"] for e in c["evidence"]]) for c in verdict["criteria"]]
        assert verdict["passed"] and all(c["status"] == "met" for c in verdict["criteria"])
        assert verdict["ledger"]["ref"].startswith(f"gate:{gate}:dev:")
        files = [Path(f) for f in verdict["files"]]
        assert [f.suffix for f in files] == [".json", ".md", ".html"] and all(f.is_file() for f in files)
        assert "| **" in files[1].read_text()  # the CI summary's table
    sandboxing = criterion(verdict, "sandboxing")["evidence"][0]
    assert sandboxing["facts"]["passed"] > 100  # checkov really checked the rendered workloads
    ledger = open_ledger(build(root=tree.root, emulate=True), "dev")
    with ledger.connect() as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM evidence_entries WHERE kind LIKE 'infractl.gate.%'")]
    assert "infractl.gate.infra.verdict" in kinds and "infractl.gate.security.verdict" in kinds
    assert verify.verify(ledger).ok


def test_a_stale_drill_report_fails_the_gate_naming_the_criterion(tree: Tree, tmp_path: Path) -> None:
    write_evidence(tree.evidence, datetime.now(UTC), drill_age=timedelta(days=40))
    try:
        rc, verdict = tree.gate("infra")
    finally:
        write_evidence(tree.evidence, datetime.now(UTC))
    assert rc == 12 and not verdict["passed"]
    persistence = criterion(verdict, "persistence")
    assert persistence["status"] == "stale"
    drill = next(e for e in persistence["evidence"] if e["kind"] == "drill")
    assert (
        drill["status"] == "stale"
        and "older than 30d" in drill["detail"]
        and "infractl drill dr dev" in drill["detail"]
    )
    assert [c["id"] for c in verdict["criteria"] if c["status"] != "met"] == ["persistence"]


def test_a_failed_scan_fails_the_security_gate_naming_the_criterion(tree: Tree) -> None:
    write_evidence(tree.evidence, datetime.now(UTC), scan_failed=True)
    try:
        rc, verdict = tree.gate("security")
    finally:
        write_evidence(tree.evidence, datetime.now(UTC))
    assert rc == 12
    assert [c["id"] for c in verdict["criteria"] if c["status"] != "met"] == ["vulnerabilities"]
    assert "dependencies failed: 1 findings" in criterion(verdict, "vulnerabilities")["evidence"][0]["detail"]


def test_a_plan_role_that_can_apply_fails_separation_of_duties(tree: Tree) -> None:
    from tests.integration.conftest import aws

    iam = aws(tree.work).client("iam")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    iam.attach_role_policy(RoleName=PLAN_ROLE, PolicyArn=admin)
    iam.create_user(UserName="alice")
    try:
        rc, verdict = tree.gate("security")
    finally:
        iam.detach_role_policy(RoleName=PLAN_ROLE, PolicyArn=admin)
        iam.delete_user(UserName="alice")
    assert rc == 12
    assert [c["id"] for c in verdict["criteria"] if c["status"] != "met"] == ["separation-of-duties"]
    detail = criterion(verdict, "separation-of-duties")["evidence"][0]["detail"]
    assert "AdministratorAccess" in detail and "IAM users exist (alice)" in detail


def test_a_broken_evidence_chain_fails_both_gates(tree: Tree) -> None:
    """Last: an owner rewrites an entry with the append-only trigger off; verify names it, both gates fail."""
    import psycopg

    with psycopg.connect(
        host="127.0.0.1", port=tree.ports["postgres"], user="postgres", dbname="controlplane", autocommit=True
    ) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE evidence_entries SET actor = 'mallory' WHERE seq = 7")
    for gate in ("infra", "security"):
        rc, verdict = tree.gate(gate)
        assert rc == 12
        assert [c["id"] for c in verdict["criteria"] if c["status"] != "met"] == ["evidence-integrity"]
        detail = criterion(verdict, "evidence-integrity")["evidence"][0]["detail"]
        assert "the chain is broken" in detail and "entry 7" in detail
