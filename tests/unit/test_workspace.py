from pathlib import Path

import pytest

from infractl.adapters import aws_endpoints
from infractl.errors import ConfigError, UsageError
from infractl.models.project import Project
from infractl.models.stacks import Stack, StackSpec
from infractl.services import environments
from infractl.services.stacks import state
from infractl.services.stacks.workspace import emulator_override, emulator_provider, resolve_inputs

REPO = Path(__file__).resolve().parents[2]
DEV = environments.load(Project(root=REPO, work_dir=REPO / ".infractl"), "dev")


def stack(inputs, deps=()):
    return Stack(name="s", spec=StackSpec(cloud="aws", path="aws/s", depends_on=list(deps), inputs=inputs))


def test_inputs_resolve_from_env_model_and_upstream_outputs():
    values = resolve_inputs(
        stack(
            {
                "cidr": "env.network.cidr",
                "tags": "env.tags",
                "days": "env.stacks.network.flow_log_retention_days",
                "vpc": "stack.network.vpc_id",
            },
            ["network"],
        ),
        DEV,
        {"network": {"vpc_id": {"value": "vpc-1", "sensitive": False}}},
        manifest_display="stacks.yaml",
    )
    assert values == {"cidr": "10.10.0.0/16", "tags": DEV.tags, "days": 30, "vpc": "vpc-1"}


def test_missing_env_path_names_manifest_field():
    with pytest.raises(ConfigError) as info:
        resolve_inputs(stack({"x": "env.network.nope"}), DEV, {}, manifest_display="stacks.yaml")
    assert info.value.message == "stacks.yaml: stacks.s.inputs.x: env.network.nope is not in environment dev"


def test_missing_upstream_output_says_apply_it_first():
    with pytest.raises(UsageError) as info:
        resolve_inputs(
            stack({"v": "stack.network.vpc_id"}, ["network"]),
            DEV,
            {"network": {}},
            manifest_display="stacks.yaml",
        )
    assert "needs output 'vpc_id' of stack network" in info.value.message
    assert info.value.hint == "apply network first: infractl apply dev --stack network"


def test_emulator_override_points_every_service_and_alias_at_loopback():
    text = emulator_override([None, "dr"], "https://127.0.0.1:4567")
    assert text.count('provider "aws" {') == 2 and 'alias = "dr"' in text
    services = aws_endpoints.endpoints(None)
    assert text.count('"https://127.0.0.1:4567"') == 2 * len(services)
    # the provider's whole list, not the 22 services the stacks use: a resource of any service stays on loopback
    assert {"elasticache", "redshift", "sts", "iam", "logs", "events", "s3"} <= set(services) and len(services) > 200
    assert "cloudwatchlogs" not in services  # an alias of logs: the provider refuses both set
    assert "s3_use_path_style           = true" in text


def test_backend_config_real_vs_emulated():
    backend = state.describe(DEV, "123456789012", emulated=False)
    real = state.backend_config(backend, "network", emulator_url=None)
    assert 'key          = "dev/network.tfstate"' in real and "use_lockfile = true" in real
    assert "endpoints" not in real and "access_key" not in real
    emulated = state.backend_config(backend, "network", emulator_url="https://127.0.0.1:1")
    assert 's3 = "https://127.0.0.1:1"' in emulated and "use_path_style" in emulated
    for svc in ("dynamodb", "iam", "sso", "sts"):  # every endpoint the S3 backend has
        assert f'{svc} = "https://127.0.0.1:1"' in emulated
    prod = environments.load(Project(root=REPO, work_dir=REPO / ".infractl"), "prod")
    assert 'dynamodb_table = "infractl-tflock-prod"' in state.backend_config(
        state.describe(prod, "345678901234", emulated=False), "network", emulator_url=None
    )


def test_state_objects_use_the_bucket_kms_default_unless_a_key_is_given():
    backend = state.describe(DEV, "123456789012", emulated=False)
    text = state.backend_config(backend, "network", emulator_url=None)
    assert "encrypt" not in text  # `encrypt = true` alone would force SSE-S3 over the bucket's SSE-KMS default
    keyed = backend.model_copy(update={"kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/abc"})
    text = state.backend_config(keyed, "network", emulator_url=None)
    assert "encrypt      = true" in text and 'kms_key_id   = "arn:aws:kms:eu-west-1:123456789012:key/abc"' in text


def test_lenient_inputs_leave_out_missing_upstream_outputs():
    values = resolve_inputs(
        stack({"cidr": "env.network.cidr", "key": "stack.kms.logs_key_arn"}, ["kms"]),
        DEV,
        {"kms": {}},
        manifest_display="stacks.yaml",
        strict=False,
    )
    assert values == {"cidr": "10.10.0.0/16"}


def test_a_stack_without_a_provider_block_gets_an_emulated_default_configuration():
    text = emulator_provider("eu-west-1", "https://127.0.0.1:4567")
    assert text.count('provider "aws" {') == 1 and "alias" not in text
    assert 'region = "eu-west-1"' in text
    assert text.count('"https://127.0.0.1:4567"') == len(aws_endpoints.endpoints(None))
