"""The Terraform runner's pure parts, tested without the binary."""

from pathlib import Path

import pytest

from infractl.adapters import terraform as tf


def test_init_args_reconfigure_with_backend_file():
    assert tf.build_init_args(backend_config=Path("/w/backend.hcl")) == [
        "init",
        "-input=false",
        "-no-color",
        "-reconfigure",
        "-backend-config=/w/backend.hcl",
    ]
    assert tf.build_init_args(backend=False)[-1] == "-backend=false"


def test_plan_args_are_machine_readable_and_never_wait_for_a_lock():
    args = tf.build_plan_args(tf.PlanOptions(var_files=[Path("/w/in.json")], out=Path("/w/p.tfplan")))
    assert args == [
        "plan",
        "-json",
        "-input=false",
        "-detailed-exitcode",
        "-lock-timeout=0s",
        "-var-file=/w/in.json",
        "-out=/w/p.tfplan",
    ]


def test_destroy_plan_and_no_refresh():
    args = tf.build_plan_args(tf.PlanOptions(destroy=True, refresh=False, lock_timeout="30s"))
    assert "-destroy" in args and "-refresh=false" in args and "-lock-timeout=30s" in args


def test_apply_of_a_saved_plan_passes_only_the_plan():
    args = tf.build_apply_args(tf.ApplyOptions(plan_file=Path("/w/p.tfplan")))
    assert args == ["apply", "-json", "-input=false", "-auto-approve", "-lock-timeout=0s", "/w/p.tfplan"]
    with pytest.raises(ValueError):
        tf.build_apply_args(tf.ApplyOptions(plan_file=Path("p"), var_files=[Path("v")]))


def test_destroy_never_uses_the_removed_force_flag():
    args = tf.build_apply_args(tf.ApplyOptions(destroy=True, var_files=[Path("v.json")]))
    assert "-destroy" in args and "-auto-approve" in args
    assert "-force" not in args  # what the unmaintained wrapper library emits; removed in Terraform 0.15


def test_output_and_unlock_args():
    assert tf.build_output_args() == ["output", "-json", "-no-color"]
    assert tf.build_force_unlock_args("abc") == ["force-unlock", "-force", "-no-color", "abc"]


def test_cli_config_uses_mirror_only_for_registry_providers(tmp_path):
    text = tf.cli_config_text(mirror=Path("/opt/mirror"), plugin_cache=tmp_path / "cache")
    assert 'path    = "/opt/mirror"' in text
    assert 'exclude = ["registry.terraform.io/*/*"]' in text
    assert f'plugin_cache_dir = "{tmp_path / "cache"}"' in text
    assert "provider_installation" not in tf.cli_config_text(mirror=None, plugin_cache=None)


def test_child_env_forces_automation_and_drops_secret_leaks(tmp_path):
    base = {
        "PATH": "/bin",
        "TF_LOG": "TRACE",
        "TF_LOG_PATH": "/tmp/x",
        "TF_VAR_db_password": "s3cret",
        "TF_CLI_ARGS_plan": "-target=x",
        "AWS_PROFILE": "prod",
    }
    env = tf.child_env(base, cli_config=tmp_path / "rc", data_dir=tmp_path / "data", drop_prefixes=("AWS_",))
    assert env["TF_IN_AUTOMATION"] == "1" and env["TF_INPUT"] == "0"
    assert env["TF_CLI_CONFIG_FILE"] == str(tmp_path / "rc") and env["TF_DATA_DIR"] == str(tmp_path / "data")
    assert not [k for k in env if k.startswith(("TF_LOG", "TF_VAR_", "TF_CLI_ARGS", "AWS_"))]
    assert env["PATH"] == "/bin"
    assert "AWS_PROFILE" in tf.child_env(base, cli_config=tmp_path / "rc", data_dir=tmp_path / "d")


def test_child_env_is_an_allowlist(tmp_path):
    """Only what Terraform and the aws provider need reaches Terraform: tokens and unknown variables never do."""
    base = {
        "PATH": "/bin",
        "HOME": "/home/u",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HTTPS_PROXY": "http://proxy:3128",
        "no_proxy": "localhost",
        "SSL_CERT_FILE": "/etc/ssl/ca.pem",
        "TF_PLUGIN_CACHE_DIR": "/cache",
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "session",
        "AWS_ENDPOINT_URL_S3": "https://s3.example",
        "VAULT_TOKEN": "hvs.secret",
        "BAO_TOKEN": "s.secret",
        "GITHUB_TOKEN": "ghp_secret",
        "TF_TOKEN_app_terraform_io": "tf-secret",
        "TF_VAR_db_password": "s3cret",
        "CONTROLPLANE_DATABASE_URL": "postgres://u:p@h/db",
        "SOME_UNKNOWN_VARIABLE": "x",
        "AWS_SOMETHING_NEW": "x",
    }
    env = tf.child_env(base, cli_config=tmp_path / "rc", data_dir=tmp_path / "data")
    passed = {
        "PATH",
        "HOME",
        "LANG",
        "LC_ALL",
        "HTTPS_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "TF_PLUGIN_CACHE_DIR",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL_S3",
    }
    set_by_infractl = {"TF_IN_AUTOMATION", "TF_INPUT", "CHECKPOINT_DISABLE", "TF_CLI_CONFIG_FILE", "TF_DATA_DIR"}
    assert set(env) == passed | set_by_infractl
    assert all(env[k] == base[k] for k in passed)
    # emulating: no AWS_* of this machine at all; infractl's own extra values (the emulator CA) still go through
    emulated = tf.child_env(
        base,
        cli_config=tmp_path / "rc",
        data_dir=tmp_path / "d",
        drop_prefixes=("AWS_",),
        extra={"AWS_CA_BUNDLE": "ca"},
    )
    assert {k for k in emulated if k.startswith("AWS_")} == {"AWS_CA_BUNDLE"}


LOCK_DETAIL = """Error acquiring the state lock

Error message: operation error S3: PutObject, https response error StatusCode: 412
Lock Info:
  ID:        3f6a2f1c-1111-2222-3333-444455556666
  Path:      infractl-tfstate/dev/network.tfstate
  Operation: OperationTypeApply
  Who:       ci@runner-7
  Version:   1.11.4
  Created:   2026-11-25 10:00:00.123 +0000 UTC
  Info:
"""


def test_lock_holder_is_parsed():
    assert tf.parse_lock_info(LOCK_DETAIL) == {
        "lock_id": "3f6a2f1c-1111-2222-3333-444455556666",
        "who": "ci@runner-7",
        "operation": "OperationTypeApply",
        "created": "2026-11-25 10:00:00.123 +0000 UTC",
    }
    assert tf.parse_lock_info("Error: something else") is None


def test_runner_turns_lock_diagnostic_into_state_locked_error():
    from infractl.errors import CommandError, StateLockedError

    runner = tf.Runner(binary="terraform", chdir=Path("."), env={}, label=("dev", "network"))
    runner._line(
        '{"type":"diagnostic","diagnostic":{"severity":"error","summary":"Error acquiring the state lock",'
        '"detail":' + __import__("json").dumps(LOCK_DETAIL.split("\n", 2)[2]) + "}}"
    )
    err = runner._failure("plan", CommandError(["terraform", "plan"], 1, ""))
    assert isinstance(err, StateLockedError)
    assert err.message.startswith("state of dev/network is locked by ci@runner-7 (OperationTypeApply")
    assert (
        err.hint == "if that run is gone, release the lock: infractl state unlock dev network "
        "3f6a2f1c-1111-2222-3333-444455556666"
    )


def test_runner_counts_changes_and_destroys_from_json_events():
    runner = tf.Runner(binary="terraform", chdir=Path("."), env={}, label=("dev", "network"))
    runner._summary, runner._destroyed = {}, []
    seen = []
    runner.on_event = seen.append
    for line in [
        '{"type":"planned_change","@message":"x: Plan to replace","change":{"resource":{"addr":"aws_vpc.this"},'
        '"action":"replace"}}',
        '{"type":"planned_change","change":{"resource":{"addr":"aws_subnet.a"},"action":"create"}}',
        '{"type":"change_summary","changes":{"add":2,"change":0,"remove":1,"operation":"plan"}}',
        "not json at all",
    ]:
        runner._line(line)
    assert runner._destroyed == ["aws_vpc.this"]
    assert runner._summary["remove"] == 1
    assert [e.kind for e in seen] == ["planned_change", "planned_change", "change_summary", ""]


def test_stage_root_module_mirrors_tree_without_touching_sources(tmp_path):
    tfroot = tmp_path / "terraform"
    (tfroot / "modules" / "aws" / "net").mkdir(parents=True)
    (tfroot / "modules" / "aws" / "net" / "main.tf").write_text("# module")
    stack = tfroot / "stacks" / "aws" / "network"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text('module "n" { source = "../../../modules/aws/net" }')
    (stack / ".terraform").mkdir()
    (tfroot / "stacks" / "stacks.yaml").write_text("stacks: {}")
    staged = tf.stage_root_module(tfroot, "aws/network", tmp_path / "ws" / "src", {"zz_override.tf": "# gen"})
    assert staged == tmp_path / "ws" / "src" / "stacks" / "aws" / "network"
    assert (staged / "main.tf").is_symlink() and not (staged / ".terraform").exists()
    assert (staged / "zz_override.tf").read_text() == "# gen"
    assert (staged / "../../../modules/aws/net/main.tf").resolve().read_text() == "# module"
    assert sorted(p.name for p in stack.iterdir()) == [".terraform", "main.tf"]  # sources untouched
    tf.stage_root_module(tfroot, "aws/network", tmp_path / "ws" / "src", {})  # re-staging replaces
    assert not (staged / "zz_override.tf").exists()


def test_provider_aliases(tmp_path):
    (tmp_path / "providers.tf").write_text(
        'provider "aws" {\n  region = var.region\n  default_tags { tags = var.tags }\n}\n'
        'provider "aws" {\n  alias  = "dr"\n  region = var.dr_region\n}\nprovider "google" {}\n'
    )
    assert tf.provider_aliases(tmp_path, "aws") == [None, "dr"]
    assert tf.provider_aliases(tmp_path, "azurerm") == []


def test_provider_aliases_with_nested_blocks(tmp_path):
    (tmp_path / "p.tf").write_text(
        'provider "aws" {\n  default_tags {\n    tags = { a = { b = "c" } }\n  }\n  alias = "east"\n}\n'
        'provider "aws" {\n  assume_role {\n    role_arn = "x"\n  }\n}\n'
    )
    assert tf.provider_aliases(tmp_path, "aws") == ["east", None]


def test_a_read_only_plan_takes_no_lock():
    assert "-lock=false" in tf.build_plan_args(tf.PlanOptions(lock=False))
    assert not [a for a in tf.build_plan_args(tf.PlanOptions(lock=False)) if a.startswith("-lock-timeout")]
    assert "-lock=false" not in tf.build_plan_args(tf.PlanOptions())


def test_the_runner_counts_what_an_apply_did_before_it_failed(tmp_path):
    """apply_complete messages count as they arrive (replacements as a delete and a create; reads not at all)."""
    import json

    runner = tf.Runner(binary="terraform", chdir=tmp_path, env={}, label=("dev", "data"))
    for action in ("create", "create", "update", "delete", "create", "read"):
        runner._line(json.dumps({"type": "apply_complete", "hook": {"action": action}, "@message": "x"}))
    assert (runner.applied.add, runner.applied.change, runner.applied.destroy) == (3, 1, 1)
