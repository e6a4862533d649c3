"""The tag gate's tenant rules (services/validate/tagging.py) on plan JSON, and the env model's finops section that
names the tenant-scoped resources (models/environment_finops.py, docs/finops.md#tags)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from infractl.models.environment import Environment, TenantResource
from infractl.services.validate import tagging

REPO = Path(__file__).resolve().parents[2]


def env_data(name: str = "dev") -> dict:
    return yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text())


def env(name: str = "dev") -> Environment:
    return Environment.model_validate(env_data(name))


def _change(address: str, tags: dict) -> dict:
    return {
        "address": address,
        "mode": "managed",
        "change": {"actions": ["create"], "after": {"tags_all": tags}, "after_unknown": {}},
    }


def _findings(changes: list[dict], stack: str, e: Environment | None = None) -> dict[str, tuple[str, str]]:
    found = tagging.tag_findings({"resource_changes": changes}, e or env(), stack)
    return {f.address: (f.rule, f.message) for f in found if f.gate == "tags"}


def test_stack_tags_are_the_env_tags_plus_tenant_shared_and_tier_tenants_name_tier_c():
    dev = env()
    assert dev.stack_tags == {**dev.tags, "tenant": "shared"}
    assert dev.tier_tenants == {"c-initech": "initech"}
    dumped = dev.model_dump(mode="json")  # what stacks.yaml's env.<path> inputs read
    assert dumped["stack_tags"]["tenant"] == "shared" and dumped["tier_tenants"] == {"c-initech": "initech"}


def test_a_planted_untagged_tenant_resource_fails_with_tenant_tag():
    dev = env()
    shared = dev.stack_tags
    changes = [
        # the tier C tenant's node group with only the default_tags: tenant=shared where tenant=initech is needed
        _change('module.eks.aws_eks_node_group.tenant["c-initech"]', shared),
        # its dedicated instance's resources without any tenant tag
        _change('module.tenant_rds["initech"].aws_db_instance.this', dict(dev.tags)),
        _change('module.tenant_rds["initech"].aws_security_group.this', {**shared, "tenant": "initech"}),
        _change('module.eks.aws_launch_template.node["c-initech"]', {**shared, "tenant": "initech"}),
    ]
    found = _findings(changes[:1], "cluster") | _findings(changes[1:3], "data") | _findings(changes[3:], "cluster")
    assert set(found) == {
        'module.eks.aws_eks_node_group.tenant["c-initech"]',
        'module.tenant_rds["initech"].aws_db_instance.this',
    }
    rule, message = found['module.eks.aws_eks_node_group.tenant["c-initech"]']
    assert rule == "tenant-tag"
    assert message.startswith("tenant='shared', expected tenant='initech'")
    assert 'tags = { tenant = "initech" }' in message  # the fix
    rule, message = found['module.tenant_rds["initech"].aws_db_instance.this']
    assert rule == "tenant-tag" and message.startswith("no tenant tag, expected tenant='initech'")


def test_a_shared_resource_without_tenant_shared_fails_with_shared_tag():
    dev = env()
    changes = [
        _change("module.rds.aws_db_instance.this", dict(dev.tags)),  # no tenant tag
        _change('module.eks.aws_eks_node_group.tenant["standard"]', {**dev.tags, "tenant": "initech"}),
        _change("module.eks.aws_eks_node_group.system", dev.stack_tags),  # right
    ]
    found = _findings(changes[:1], "data") | _findings(changes[1:], "cluster")
    assert set(found) == {"module.rds.aws_db_instance.this", 'module.eks.aws_eks_node_group.tenant["standard"]'}
    rule, message = found["module.rds.aws_db_instance.this"]
    assert rule == "shared-tag" and message.startswith("no tenant tag, expected tenant='shared'")
    assert "env.stack_tags" in message and "finops.tenant_resources in environments/dev.yaml" in message
    assert found['module.eks.aws_eks_node_group.tenant["standard"]'][0] == "shared-tag"


def test_a_pattern_of_another_stack_or_an_unlisted_tenant_is_shared():
    dev = env()
    # stack mismatch: the data stack's pattern does not apply to the cluster stack
    assert _findings([_change('module.tenant_rds["initech"].aws_db_instance.this', dev.stack_tags)], "cluster") == {}
    # c-globex is no listed tenant's tier: a shared tier, tenant=shared
    assert _findings([_change('module.eks.aws_eks_node_group.tenant["c-globex"]', dev.stack_tags)], "cluster") == {}
    # without tenants nothing is tenant-scoped
    data = env_data()
    data["tenants"] = []
    bare = Environment.model_validate(data)
    address = 'module.eks.aws_eks_node_group.tenant["c-initech"]'
    assert _findings([_change(address, bare.stack_tags)], "cluster", bare) == {}


def test_a_declared_list_adds_tenant_resources_and_patterns_match_whole():
    data = env_data()
    data["finops"] = {"tenant_resources": [{"stack": "registry", "address": "aws_ecr_repository.tenant_{tenant}*"}]}
    e = Environment.model_validate(data)
    tags = e.stack_tags
    found = _findings(
        [
            _change("aws_ecr_repository.tenant_initech_api", tags),  # the tenant's: needs tenant=initech
            _change("aws_ecr_repository.tenant_initechx", {**tags, "tenant": "initech"}),  # * matches x too
            _change("xaws_ecr_repository.tenant_initech", tags),  # matched whole: not the pattern, shared
        ],
        "registry",
        e,
    )
    assert set(found) == {"aws_ecr_repository.tenant_initech_api"}
    # the declared list replaces the defaults: the node group of c-initech is no longer tenant-scoped
    assert _findings([_change('module.eks.aws_eks_node_group.tenant["c-initech"]', tags)], "cluster", e) == {}


@pytest.mark.parametrize(
    ("finops", "needle"),
    [
        ({"tenant_resources": [{"stack": "data", "address": "module.rds.*"}]}, "exactly once"),
        ({"tenant_resources": [{"stack": "data", "address": "{tenant}.{tenant}"}]}, "exactly once"),
        ({"tenant_resources": [{"stack": "Data", "address": "{tenant}"}]}, "pattern"),
        ({"tenant_resource": []}, "Extra inputs"),
    ],
)
def test_the_finops_section_refuses_bad_patterns(finops, needle):
    data = env_data()
    data["finops"] = finops
    with pytest.raises(ValidationError, match=needle):
        Environment.model_validate(data)


def test_the_env_tags_may_not_set_tenant_and_leave_room_for_it():
    data = env_data()
    data["tags"] = {**data["tags"], "tenant": "shared"}
    with pytest.raises(ValidationError, match="set by infractl"):
        Environment.model_validate(data)
    data = env_data()
    data["tags"] = {**data["tags"], **{f"t{i}": "x" for i in range(45)}}  # 49 + tenant = 50: the limit
    assert len(Environment.model_validate(data).stack_tags) == 50
    data["tags"]["t45"] = "x"
    with pytest.raises(ValidationError, match="at most 50"):
        Environment.model_validate(data)


def test_every_env_file_names_the_default_tenant_resources():
    for name in ("dev", "staging", "prod"):
        declared = env(name).finops.tenant_resources
        assert [(r.stack, r.address) for r in declared] == [
            ("cluster", 'module.eks.aws_eks_node_group.tenant["c-{tenant}"]'),
            ("cluster", 'module.eks.aws_launch_template.node["c-{tenant}"]'),
            ("data", 'module.tenant_rds["{tenant}"].*'),
        ]
    assert TenantResource(stack="data", address="x{tenant}").pattern([]) is None


def test_the_backup_bucket_and_key_infractl_creates_locally_are_tagged_shared(monkeypatch):
    """tenant backup/restore on the dev stack create the env's backup bucket and key when missing: one bucket and one
    key hold every tenant's backups, so they are tagged as the stacks tag them, tenant=shared."""
    import boto3
    from moto import mock_aws

    from infractl.services.tenant import storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")  # pragma: allowlist secret
    dev = env()
    with mock_aws():
        s3, kms = boto3.client("s3", region_name=dev.region), boto3.client("kms", region_name=dev.region)
        tags = dict(dev.stack_tags)
        arn = storage._key(kms, storage.key_alias(dev.name), dev.name, local=True, tags=tags)
        storage._bucket(s3, dev.tenant_backup_bucket(), dev.region, dev.name, local=True, tags=tags)
        bucket_tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=dev.tenant_backup_bucket())["TagSet"]}
        key_tags = {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=arn)["Tags"]}
    assert bucket_tags == key_tags == {**dev.tags, "tenant": "shared"}
