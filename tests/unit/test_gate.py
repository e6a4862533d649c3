"""The gate's pieces on planted inputs (docs/gates.md): the report readers (JUnit, drills, scan, validate) and their
age, the separation-of-duties rules on IAM documents, the tenant isolation rules on manifests, the definitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from tests.conftest import REPO

from infractl.errors import ConfigError
from infractl.models.drill import DrillStep, DrReport, PartResult
from infractl.models.gate import CheckDef, CriterionResult, Evidence
from infractl.models.project import Project
from infractl.models.scan import Gate, ScanReport
from infractl.services.gate import definitions, duties, policy, reports

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def junit(root: Path, cases: str, stamp: datetime = NOW) -> None:
    path = root / reports.TESTS
    path.parent.mkdir(parents=True)
    path.write_text(
        f'<testsuites><testsuite name="pytest" timestamp="{stamp.isoformat()}">{cases}</testsuite></testsuites>'
    )


TESTS = CheckDef(kind="tests", max_age="7d", select=["tests/integration/test_tenant.py", "tests/runtime/test_*.py"])


def test_both_gates_load_and_every_test_module_they_select_exists() -> None:
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    for gate in ("infra", "security"):
        loaded = definitions.load(project, gate)
        assert loaded.gate == gate and loaded.file == f"gates/{gate}.yaml"
        for criterion in loaded.criteria:
            for check in criterion.checks:
                for pattern in check.select:
                    assert list(REPO.glob(pattern)), f"{gate}/{criterion.id}: {pattern} matches no test module"


def test_a_broken_definition_names_its_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "gates").mkdir()
    (tmp_path / "gates" / "infra.yaml").write_text(
        "gate: infra\ntitle: x\ncriteria:\n  - id: a\n    title: b\n"
        "    checks:\n      - kind: drill\n        drill: dr\n"
    )
    with pytest.raises(ConfigError) as err:
        definitions.load(Project(root=tmp_path, work_dir=tmp_path / "w"), "infra")
    assert "gates/infra.yaml" in str(err.value) and "max_age" in str(err.value)
    with pytest.raises(ConfigError, match="no gate 'deploy'"):
        definitions.load(Project(root=tmp_path, work_dir=tmp_path / "w"), "deploy")


def test_tests_are_met_when_every_selected_module_ran_and_passed(tmp_path: Path) -> None:
    junit(
        tmp_path,
        '<testcase classname="tests.integration.test_tenant" name="a"/>'
        '<testcase classname="tests.runtime.test_stack.TestX" name="b"/>',
    )
    found = reports.tests(TESTS, tmp_path, NOW + timedelta(days=1))
    assert found.status == "met" and found.facts["passed"] == 2 and found.age_seconds == 86400


@pytest.mark.parametrize(
    ("cases", "expected"),
    [
        ('<testcase classname="tests.integration.test_tenant" name="a"><failure/></testcase>', "1 failed"),
        ('<testcase classname="tests.integration.test_tenant" name="a"><skipped/></testcase>', "proves nothing"),
        ('<testcase classname="tests.integration.test_other" name="a"/>', "not in the report"),
    ],
)
def test_a_failed_skipped_or_absent_module_is_not_met(tmp_path: Path, cases: str, expected: str) -> None:
    junit(tmp_path, cases + '<testcase classname="tests.runtime.test_stack" name="b"/>')
    found = reports.tests(TESTS, tmp_path, NOW)
    assert found.status == "not-met" and expected in found.detail and "tests/integration/test_tenant.py" in found.detail


def test_old_tests_are_stale_and_say_how_to_refresh(tmp_path: Path) -> None:
    junit(
        tmp_path,
        '<testcase classname="tests.integration.test_tenant" name="a"/>'
        '<testcase classname="tests.runtime.test_x" name="b"/>',
    )
    found = reports.tests(TESTS, tmp_path, NOW + timedelta(days=8))
    assert found.status == "stale" and "older than 7d" in found.detail and "make test" in found.detail


def test_missing_and_broken_reports_are_not_met_naming_their_maker(tmp_path: Path) -> None:
    scan = CheckDef(kind="scan", max_age="1d", gates=["dependencies"])
    assert "infractl scan --report-dir" in reports.scan(scan, tmp_path, NOW).detail
    (tmp_path / reports.SCAN).parent.mkdir(parents=True)
    (tmp_path / reports.SCAN).write_text('{"root": 3}')
    found = reports.scan(scan, tmp_path, NOW)
    assert found.status == "not-met" and "not a ScanReport report" in found.detail


def test_a_scan_gate_that_did_not_run_is_never_a_pass(tmp_path: Path) -> None:
    report = ScanReport(root=".", gates=[Gate(name="dependencies", status="not-run", tool="pip-audit", note="offline")])
    (tmp_path / reports.SCAN).parent.mkdir(parents=True)
    (tmp_path / reports.SCAN).write_text(report.model_dump_json())
    found = reports.scan(CheckDef(kind="scan", max_age="1d", gates=["dependencies"]), tmp_path, NOW)
    assert found.status == "not-met" and "did not run (offline)" in found.detail


def _dr(root: Path, parts: tuple[str, ...], *, env: str = "dev", emulate: bool = True) -> None:
    step = DrillStep(name="database.restore", status="passed", started_at=NOW, seconds=1.0)
    report = DrReport(
        env=env,
        emulate=emulate,
        target="local",
        started_at=NOW,
        finished_at=NOW,
        parts=[PartResult(part=p, steps=[step]) for p in parts],
        measures=[],
    )
    path = root / reports.drill_path("dr", "dev")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json())


def test_a_partial_emulated_or_foreign_drill_is_not_evidence(tmp_path: Path) -> None:
    check = CheckDef(kind="drill", drill="dr", max_age="30d")
    _dr(tmp_path, ("database",))
    assert (
        "a partial drill: cluster, evidence did not run"
        in reports.drill(check, tmp_path, "dev", NOW, emulate=True).detail
    )
    _dr(tmp_path, ("database", "cluster", "evidence"))
    assert reports.drill(check, tmp_path, "dev", NOW, emulate=True).status == "met"
    assert "local emulator" in reports.drill(check, tmp_path, "dev", NOW, emulate=False).detail
    _dr(tmp_path, ("database", "cluster", "evidence"), env="staging")
    assert "of staging, not dev" in reports.drill(check, tmp_path, "dev", NOW, emulate=True).detail


def test_a_criterion_is_not_met_before_stale_before_met() -> None:
    def ev(status: str) -> Evidence:
        return Evidence(kind="tests", source="x", status=status, detail="")

    assert CriterionResult(id="a", title="a", evidence=[ev("met"), ev("stale")]).status == "stale"
    assert CriterionResult(id="a", title="a", evidence=[ev("stale"), ev("not-met")]).status == "not-met"
    assert CriterionResult(id="a", title="a", evidence=[ev("met")]).status == "met"


# --- separation of duties ----------------------------------------------------------------------------------------

SUB = "token.actions.githubusercontent.com:sub"


def role(sub: str | list[str] | None, *, like: bool = False, managed=(), inline=None) -> SimpleNamespace:
    condition = {("StringLike" if like else "StringEquals"): {SUB: sub}} if sub is not None else {}
    trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}
    return SimpleNamespace(name="r", trust=trust, managed=list(managed), inline=inline or {}, documents={})


def policy_doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_the_module_shaped_plan_role_cannot_apply() -> None:
    state = "arn:aws:s3:::b/dev/*"
    plan = role(
        "repo:o/r:pull_request",
        managed=["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        inline={
            "state": policy_doc(
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": state},
                {
                    "Effect": "Allow",
                    "Action": ["s3:PutObject", "s3:DeleteObject"],
                    "Resource": "arn:aws:s3:::b/dev/*.tflock",
                },
                {
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "k",
                    "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
                },
            )
        },
    )
    assert duties.plan_problems(plan, "o/r") == []


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (role("repo:o/r:ref:refs/heads/main"), "only repo:o/r:pull_request"),
        (role("repo:someone/else:pull_request"), "only repo:o/r:pull_request"),
        (
            role(
                "repo:o/r:pull_request",
                inline={
                    "p": policy_doc(
                        {
                            "Effect": "Allow",
                            "Action": "kms:ScheduleKeyDeletion",
                            "Resource": "k",
                            "Condition": {"StringNotEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
                        }
                    )
                },
            ),
            "allows kms:ScheduleKeyDeletion",
        ),
        (
            role(
                "repo:o/r:pull_request",
                inline={"p": policy_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::*.tflock"})},
            ),
            "allows s3:* on arn:aws:s3:::*.tflock",
        ),
        (role("repo:o/r:*", like=True), "wildcard subjects"),
        (role(None), "wildcard subjects ['*']"),
        (role("repo:o/r:pull_request", managed=["arn:aws:iam::aws:policy/PowerUserAccess"]), "PowerUserAccess"),
        (
            role(
                "repo:o/r:pull_request",
                inline={
                    "p": policy_doc({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/dev/*"})
                },
            ),
            "allows s3:PutObject on arn:aws:s3:::b/dev/*",
        ),
        (
            role(
                "repo:o/r:pull_request", inline={"p": policy_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})}
            ),
            "allows * on *",
        ),
    ],
)
def test_a_plan_role_that_could_apply_is_named(plan: SimpleNamespace, expected: str) -> None:
    assert any(expected in p for p in duties.plan_problems(plan, "o/r")), duties.plan_problems(plan, "o/r")


def test_the_apply_role_needs_its_own_environment_of_its_own_repository_exactly() -> None:
    assert duties.apply_problems(role("repo:o/r:environment:prod"), "o/r", "prod") == []
    for subject in ("repo:o/r:ref:refs/heads/main", "repo:o/r:environment:dev", "repo:evil/fork:environment:prod"):
        assert "only repo:o/r:environment:prod" in duties.apply_problems(role(subject), "o/r", "prod")[0], subject
    assert "any ref could apply" in duties.apply_problems(role("repo:o/r:environment:*", like=True), "o/r", "prod")[0]


def test_a_negated_subject_condition_admits_everyone_else() -> None:
    negated = role("repo:o/r:pull_request")
    negated.trust["Statement"][0]["Condition"] = {"StringNotEquals": {SUB: "repo:o/r:pull_request"}}
    assert "wildcard subjects ['* (StringNotEquals repo:o/r:pull_request)']" in duties.plan_problems(negated, "o/r")[0]
    assert "any ref could apply" in duties.apply_problems(negated, "o/r", "prod")[0]


# --- tenant isolation --------------------------------------------------------------------------------------------


def deny(ns: str) -> dict:
    spec = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    return {"kind": "NetworkPolicy", "metadata": {"name": "deny", "namespace": ns}, "spec": spec}


def workload(ns: str, *, sa: str = "own", tier: str | None = None) -> dict:
    pod = {"serviceAccountName": sa, "nodeSelector": {"node.infractl.io/tier": tier} if tier else {}}
    return {"kind": "Deployment", "metadata": {"name": "w", "namespace": ns}, "spec": {"template": {"spec": pod}}}


def test_isolated_tenants_pass_and_each_breach_is_named() -> None:
    good = [deny("controlplane"), workload("controlplane"), deny("tenant-a"), workload("tenant-a", tier="c-a")]
    assert policy.isolation_problems(good, ["a"]) == []
    peer = {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "tenant-b"}}}]}
    leaky = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "leak", "namespace": "tenant-a"},
        "spec": {"podSelector": {}, "ingress": [peer]},
    }
    found = policy.isolation_problems([*good, leaky], ["a"])
    assert found == ["NetworkPolicy tenant-a/leak admits another tenant's namespace tenant-b"]
    found = policy.isolation_problems([workload("tenant-a", sa="default")], ["a", "b"])
    assert any("no default-deny" in p for p in found)
    assert any("default ServiceAccount" in p for p in found)
    assert any("node tier c-a" in p for p in found)
    assert any("tenant b has no namespace tenant-b" in p for p in found)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"ingress": [{}]}, "an ingress rule without peers"),
        ({"ingress": [{"ports": [{"port": 80}]}]}, "an ingress rule without peers"),
        ({"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}, "admits ingress from the address block"),
        ({"egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}, "allows egress to 0.0.0.0/0"),
        (
            {
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchExpressions": [
                                        {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["tenant-b"]}
                                    ]
                                }
                            }
                        ]
                    }
                ]
            },
            "not by name",
        ),
        ({"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {}}}]}]}, "not by name"),
    ],
)
def test_a_tenant_policy_that_admits_more_than_named_peers_is_named(rule: dict, expected: str) -> None:
    good = [deny("tenant-a"), workload("tenant-a", tier="c-a")]
    leaky = {"kind": "NetworkPolicy", "metadata": {"name": "leak", "namespace": "tenant-a"}, "spec": rule}
    found = policy.isolation_problems([*good, leaky], ["a"])
    assert len(found) == 1 and expected in found[0], found


def test_broken_future_and_mixed_time_evidence_never_crashes_and_is_never_believed(tmp_path: Path) -> None:
    scan = CheckDef(kind="scan", max_age="1d", gates=["dependencies"])
    (tmp_path / reports.SCAN).parent.mkdir(parents=True)
    (tmp_path / reports.SCAN).write_bytes(b"\xff\xfe not utf-8")
    assert "not UTF-8" in reports.scan(scan, tmp_path, NOW).detail
    future = ScanReport(root=".", gates=[Gate(name="dependencies", status="passed", tool="pip-audit")])
    future.finished_at = NOW + timedelta(days=3650)
    (tmp_path / reports.SCAN).write_text(future.model_dump_json())
    found = reports.scan(scan, tmp_path, NOW)
    assert found.status == "not-met" and "in the future" in found.detail
    mixed = tmp_path / "mixed"
    path = mixed / reports.TESTS
    path.parent.mkdir(parents=True)
    cases = (
        '<testcase classname="tests.integration.test_tenant" name="a"/>'
        '<testcase classname="tests.runtime.test_x" name="b"/>'
    )
    path.write_text(
        f'<testsuites><testsuite timestamp="2026-12-08T11:00:00">{cases}</testsuite>'
        f'<testsuite timestamp="2026-12-08T11:30:00+00:00"></testsuite></testsuites>'
    )
    assert reports.tests(TESTS, mixed, NOW).status == "met"


def test_an_expected_failure_is_neither_proof_nor_a_failure(tmp_path: Path) -> None:
    junit(
        tmp_path,
        '<testcase classname="tests.integration.test_tenant" name="a"><skipped type="pytest.xfail" message="known"/>'
        '</testcase><testcase classname="tests.integration.test_tenant" name="b"/>'
        '<testcase classname="tests.runtime.test_x" name="c"/>',
    )
    assert reports.tests(TESTS, tmp_path, NOW).status == "met"


def test_a_partial_validate_is_not_evidence_for_the_env(tmp_path: Path) -> None:
    from infractl.models.validation import Cell, ValidationReport

    check = CheckDef(kind="validate", max_age="7d", validate_gates=["security"])
    path = tmp_path / reports.VALIDATE
    path.parent.mkdir(parents=True)

    def write(stacks: list[str], changed: str | None = None) -> None:
        cells = [Cell(stack=s, env="dev", gates={"security": "pass"}) for s in stacks]
        report = ValidationReport(
            envs=["dev"],
            stacks=stacks,
            cells=cells,
            findings=[],
            waived=[],
            costs={},
            changed_since=changed,
            finished_at=NOW,
        )
        path.write_text(report.model_dump_json())

    both = ["ci", "kms"]
    write(["ci"])
    assert "a partial validate (kms not planned)" in reports.validate(check, tmp_path, "dev", NOW, both).detail
    write(both, changed="HEAD~1")
    assert "only stacks changed since HEAD~1" in reports.validate(check, tmp_path, "dev", NOW, both).detail
    write(both)
    assert reports.validate(check, tmp_path, "dev", NOW, both).status == "met"


def test_access_levels_come_from_the_iam_database_with_wildcards_expanded() -> None:
    assert duties.access_levels("ec2:Describe*") == {"List"}
    assert duties.access_levels("s3:GetObject") == {"Read"}
    assert {"Write", "Permissions management"} <= duties.access_levels("s3:Put*")
    assert duties.access_levels("nosuch:Thing") == {"Unknown"}
    reads = role(
        "repo:o/r:pull_request",
        inline={"p": policy_doc({"Effect": "Allow", "Action": ["ec2:Describe*", "s3:List*"], "Resource": "*"})},
    )
    assert duties.plan_problems(reads, "o/r") == []
    writes = role(
        "repo:o/r:pull_request",
        inline={"p": policy_doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})},
    )
    assert duties.plan_problems(writes, "o/r") == ["policy p allows iam:PassRole on * (Permissions management)"]
