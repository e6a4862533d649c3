from pathlib import Path

import pytest
import yaml

from infractl.errors import ConfigError
from infractl.models.project import Project
from infractl.services import environments

REPO = Path(__file__).resolve().parents[2]
# Digits that `\d` matches but an AWS account ID never has.
ARABIC_INDIC_ACCOUNT = "".join(chr(0x0660 + int(c)) for c in "123456789012")
FULLWIDTH_ACCOUNT = "".join(chr(0xFF10 + int(c)) for c in "123456789012")


def _project(root: Path) -> Project:
    return Project(root=root, work_dir=root / ".infractl")


def _edit(root: Path, env: str, mutate) -> None:
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_shipped_environments_are_valid(name):
    env = environments.load(_project(REPO), name)
    assert env.name == name
    assert env.tags["environment"] == name
    assert {"environment", "service", "owner", "cost-center"} <= env.tags.keys()


def test_prod_is_production_shaped():
    prod = environments.load(_project(REPO), "prod")
    assert prod.network.nat_gateways == "per_az"
    assert prod.approval.required and prod.approval.min_approvals >= 1
    assert prod.recovery.rpo_minutes <= 15


def _instance(d: dict) -> dict:
    return d["tenants"][0]["database"]["dedicated_instance"]


def _error_lines(project: Project, env: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        environments.load(project, env)
    return [info.value.message, *info.value.details]


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda d: d["network"].__setitem__("az_count", "two"), "network.az_count", "valid integer"),
        (lambda d: d["network"].__setitem__("az_count", 9), "network.az_count", "less than or equal to 4"),
        (lambda d: d["network"].__setitem__("cidr", "10.0.0.0/8"), "network.cidr", "/16 to /24"),
        (lambda d: d["network"].__setitem__("cidr", "10.0.0.1/16"), "network.cidr", "host bits"),
        (lambda d: d["network"].__setitem__("nat_gateways", "many"), "network.nat_gateways", "single"),
        (lambda d: d["tags"].pop("owner"), "tags", "owner"),
        (lambda d: d.__setitem__("colour", "blue"), "colour", "unknown field"),
        (lambda d: d.pop("budget"), "budget", "required field is missing"),
        (lambda d: d.__setitem__("region", "Europe"), "region", "region name"),
        (lambda d: d.__setitem__("account", "12"), "account", "12 digits"),
        (lambda d: d["tags"].__setitem__("environment", "prod"), "tags", "must equal name"),
        (lambda d: d.__setitem__("dr_region", "eu-west-1"), "dr_region", "must differ"),
        (lambda d: d["budget"].__setitem__("monthly_usd", -5), "budget.monthly_usd", "greater than 0"),
        (lambda d: d["approval"].update(required=True, min_approvals=0), "approval", "at least 1"),
        (
            lambda d: d.__setitem__(
                "tenants", [{"name": "a" * 19, "node_group": d["stacks"]["cluster"]["system_node_group"]}]
            ),
            "tenants.0.name",
            "should match pattern",
        ),
        (
            lambda d: d["observability"]["logs"][0].__setitem__("egress_cidrs", ["10.0.0.1/8"]),
            "observability.logs.0.egress_cidrs.0",
            "host bits",
        ),
        (
            lambda d: d["observability"]["traces"][0].__setitem__("type", "zipkin"),
            "observability.traces.0.type",
            "otlp",
        ),
        (
            lambda d: d["network"]["egress_allowlist"][0].__setitem__("ports", [70000]),
            "network.egress_allowlist.0.ports.0",
            "less than or equal to 65535",
        ),
        # strict: ASCII digits, whole-string matches, real regions, no coercion, finite numbers (issue 14)
        (lambda d: d.__setitem__("account", ARABIC_INDIC_ACCOUNT), "account", "12 digits"),
        (lambda d: d.__setitem__("account", FULLWIDTH_ACCOUNT), "account", "12 digits"),
        (lambda d: d.__setitem__("account", "123456789012\n"), "account", "12 digits"),
        (lambda d: d.__setitem__("region", "eu-west-1\n"), "region", "not an AWS region"),
        (lambda d: d.__setitem__("region", "eu-moon-1"), "region", "not an AWS region"),
        (lambda d: d.__setitem__("dr_region", "xx-east-9"), "dr_region", "not an AWS region"),
        (lambda d: d.__setitem__("dr_region", "cn-north-1"), "dr_region", "partition aws-cn"),
        (lambda d: d.__setitem__("name", "dev\n"), "name", "lowercase letters"),
        (lambda d: d["network"].__setitem__("az_count", True), "network.az_count", "valid integer (got True)"),
        (lambda d: d["network"].__setitem__("az_count", 2.0), "network.az_count", "valid integer"),
        (lambda d: d["approval"].__setitem__("required", "yes"), "approval.required", "valid boolean"),
        (lambda d: d["budget"].__setitem__("monthly_usd", float("inf")), "budget.monthly_usd", "finite number"),
        (lambda d: d["budget"].__setitem__("monthly_usd", float("nan")), "budget.monthly_usd", "finite number"),
        (
            lambda d: d["stacks"]["data"].__setitem__("allocated_storage_gib", float("inf")),
            "stacks.data",
            "allocated_storage_gib: inf is not a finite number",
        ),
        (
            lambda d: d["observability"]["traces"][0]["config"].__setitem__("timeout", [float("nan")]),
            "observability.traces.0.config",
            "timeout.0: nan is not a finite number",
        ),
        # AWS tag rules: key 1-128, value 0-256, letters/numbers/separators and _.:/=+-@, no aws: prefix, <= 50
        (lambda d: d["tags"].__setitem__("k" * 129, "v"), "tags", "longer than 128"),
        (lambda d: d["tags"].__setitem__("team", "v" * 257), "tags", "longer than 256"),
        (lambda d: d["tags"].__setitem__("team", "a;b"), "tags", "character(s) ';'"),
        (lambda d: d["tags"].__setitem__("team\n", "a"), "tags", "character(s) '\\n'"),
        (lambda d: d["tags"].__setitem__("AWS:team", "a"), "tags", "reserves"),
        (lambda d: d["tags"].update({f"t{i}": "x" for i in range(47)}), "tags", "at most 50"),
        # AWS identifiers
        (lambda d: d["state"].__setitem__("dynamodb_table", "a b"), "state.dynamodb_table", "should match pattern"),
        (lambda d: d["state"].__setitem__("dynamodb_table", "ab"), "state.dynamodb_table", "should match pattern"),
        (lambda d: d["state"].__setitem__("bucket", "my..bucket"), "state.bucket", "adjacent periods"),
        (lambda d: d["state"].__setitem__("bucket", "10.1.2.3"), "state.bucket", "IP address"),
        (lambda d: d["state"].__setitem__("bucket", "xn--state"), "state.bucket", "'xn--'"),
        (lambda d: d["state"].__setitem__("bucket", "state-s3alias"), "state.bucket", "'-s3alias'"),
        (lambda d: d["state"].__setitem__("kms_key_id", "my key"), "state.kms_key_id", "not a KMS key"),
        (
            lambda d: d.__setitem__(
                "tenants",
                [
                    {
                        "name": "acme",
                        "node_group": {**d["stacks"]["cluster"]["system_node_group"], "instance_types": ["t3"]},
                    }
                ],
            ),
            "tenants.0.node_group.instance_types.0",
            "should match pattern",
        ),
        # a tier C tenant's dedicated database instance (dev's initech has one)
        (
            lambda d: _instance(d).__setitem__("instance_class", "GP_Standard_D2ds_v5"),
            "tenants",
            "initech: database.dedicated_instance.instance_class 'GP_Standard_D2ds_v5' is not a database instance"
            " class on aws (such as db.t4g.micro)",
        ),
        (
            lambda d: _instance(d).update(allocated_storage_gib=100, max_allocated_storage_gib=50),
            "tenants.0.database.dedicated_instance",
            "max_allocated_storage_gib (50) is below allocated_storage_gib (100)",
        ),
        (
            lambda d: _instance(d).__setitem__("allocated_storage_gib", 10),
            "tenants.0.database.dedicated_instance.allocated_storage_gib",
            "greater than or equal to 20",
        ),
        (
            lambda d: _instance(d).__setitem__("multi_az", "yes"),
            "tenants.0.database.dedicated_instance.multi_az",
            "valid boolean",
        ),
        (
            lambda d: _instance(d).__setitem__("engine", "mysql"),
            "tenants.0.database.dedicated_instance.engine",
            "unknown field",
        ),
        (lambda d: d["tenants"][0].__setitem__("name", "ini--tech"), "tenants.0", "two consecutive hyphens"),
    ],
)
def test_broken_field_is_named_with_file_and_problem(project, mutate, field, words):
    _edit(project, "dev", mutate)
    lines = _error_lines(_project(project), "dev")
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"environments/dev.yaml: {field}: "), lines[0]
    assert words in lines[0]


def test_every_problem_gets_its_own_line(project):
    _edit(project, "dev", lambda d: (d["network"].__setitem__("az_count", "x"), d.__setitem__("cloud", "ibm")))
    lines = _error_lines(_project(project), "dev")
    assert sorted(line.split(": ")[1] for line in lines) == ["cloud", "network.az_count"]


def test_invalid_yaml_names_line_and_column(project):
    (project / "environments" / "dev.yaml").write_text("name: dev\nnetwork: [unclosed\n")
    line = _error_lines(_project(project), "dev")[0]
    assert line.startswith("environments/dev.yaml:3:1: not valid YAML")


def test_name_must_match_file(project):
    _edit(project, "dev", lambda d: (d.__setitem__("name", "qa"), d["tags"].__setitem__("environment", "qa")))
    assert "differs from the file name" in _error_lines(_project(project), "dev")[0]


def test_unknown_environment_lists_known_ones():
    with pytest.raises(ConfigError) as info:
        environments.load(_project(REPO), "qa")
    assert "no environment named 'qa'" in info.value.message
    assert info.value.hint == "known environments: dev, prod, staging"


def test_diff_reports_only_real_differences():
    result = environments.diff(_project(REPO), "dev", "prod")
    paths = {d.path: (d.a, d.b) for d in result.differences}
    assert paths["network.nat_gateways"] == ("single", "per_az")
    assert paths["state.lock"] == ("s3", "dynamodb")
    assert "name" not in paths and "tags.environment" not in paths
    assert "region" not in paths  # same in both
    assert environments.diff(_project(REPO), "dev", "dev").differences == []


def test_state_bucket_is_derived_per_account_region_env():
    dev = environments.load(_project(REPO), "dev")
    assert dev.state_bucket() == "infractl-tfstate-123456789012-eu-west-1-dev"
    assert dev.state_bucket("999999999999") == "infractl-tfstate-999999999999-eu-west-1-dev"
    assert dev.state_lock_table() is None
    assert environments.load(_project(REPO), "prod").state_lock_table() == "infractl-tflock-prod"


def test_tenant_backup_bucket_is_derived_per_account_region_env_and_fits_the_module():
    dev = environments.load(_project(REPO), "dev")
    assert dev.tenant_backup_bucket() == "bkp-123456789012-eu-west-1-dev"
    # The longest region and env name still leave room for "<name>-access-logs" (modules/aws/backups: 51).
    longest = dev.model_copy(update={"region": "us-isof-south-1", "name": "a" * 16})
    assert len(longest.tenant_backup_bucket()) <= 51


def test_tier_c_tenants_join_the_cluster_stack_node_groups():
    prod = environments.load(_project(REPO), "prod")
    groups = prod.tenant_node_groups
    assert list(groups) == [*prod.stacks["cluster"]["tenant_tiers"], "c-acme", "c-globex"]
    assert groups["c-acme"] == prod.tenants[0].node_group.model_dump()


def test_dedicated_tenant_instances_feed_the_data_stack():
    """The data stack's tenant_instances: one entry per tier C tenant with database.dedicated_instance; the others'
    databases live on the shared instance."""
    dev, staging, prod = (environments.load(_project(REPO), e) for e in ("dev", "staging", "prod"))
    assert dev.tenant_instances == {
        "initech": {
            "instance_class": "db.t4g.micro",
            "allocated_storage_gib": 20,
            "max_allocated_storage_gib": 50,
            "multi_az": False,
        }
    }
    assert staging.tenant_instances == {}  # staging's acme is on the shared instance
    assert list(prod.tenant_instances) == ["acme"] and prod.tenant_instances["acme"]["multi_az"] is True
    assert [t.dedicated_instance is None for t in prod.tenants] == [False, True]  # globex: shared
    assert [t.database_name for t in prod.tenants] == ["tenant_acme", "tenant_globex"]
    assert "tenant_instances" in dev.model_dump()  # what stacks.yaml's env.tenant_instances resolves


def test_a_dedicated_instance_defaults_to_no_autoscaling_single_az(project):
    def minimal(d):
        d["tenants"] = [
            {
                "name": "big-co",
                "node_group": d["stacks"]["cluster"]["system_node_group"],
                "database": {"dedicated_instance": {"instance_class": "db.t4g.micro"}},
            },
            {"name": "small", "node_group": d["stacks"]["cluster"]["system_node_group"], "database": {}},
        ]

    _edit(project, "dev", minimal)
    env = environments.load(_project(project), "dev")
    assert env.tenant_instances == {
        "big-co": {
            "instance_class": "db.t4g.micro",
            "allocated_storage_gib": 20,
            "max_allocated_storage_gib": 20,
            "multi_az": False,
        }
    }
    assert env.tenants[0].database_name == "tenant_big_co"
    assert env.tenants[1].dedicated_instance is None and "small" not in env.tenant_instances


def test_a_tenant_listed_twice_is_refused(project):
    def twice(d):
        d["tenants"] = [{"name": "acme", "node_group": d["stacks"]["cluster"]["system_node_group"]}] * 2

    _edit(project, "dev", twice)
    assert "tenants: listed twice: acme" in _error_lines(_project(project), "dev")[0]


@pytest.mark.parametrize(
    "kms_key_id",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/infractl-state",
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:123456789012:alias/infractl-state",
    ],
)
def test_every_kms_key_form_is_accepted(project, kms_key_id):
    _edit(project, "dev", lambda d: d["state"].update(kms_key_id=kms_key_id, bucket="my-state", dynamodb_table="t.1"))
    env = environments.load(_project(project), "dev")
    assert env.state.kms_key_id == kms_key_id and env.state_bucket() == "my-state"


def test_unicode_letters_and_spaces_are_valid_tag_text(project):
    _edit(project, "dev", lambda d: d["tags"].__setitem__("équipe", "plateforme Tōkyō 東京 + ops@x"))
    assert environments.load(_project(project), "dev").tags["équipe"] == "plateforme Tōkyō 東京 + ops@x"


def test_regions_come_from_botocore_partitions():
    from infractl.models.environment import aws_regions

    regions = aws_regions()
    assert (
        regions["eu-west-1"] == "aws" and regions["cn-north-1"] == "aws-cn" and regions["us-gov-west-1"] == "aws-us-gov"
    )
    assert "aws-global" not in regions
