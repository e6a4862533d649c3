"""Emulate mode never reads this machine's AWS configuration; without it, a missing profile is a ConfigError."""

from __future__ import annotations

import os

import pytest

from infractl.adapters import aws
from infractl.adapters.emulator import FAKE_ACCESS_KEY, FAKE_SECRET_KEY
from infractl.errors import ConfigError
from infractl.exit_codes import ExitCode


@pytest.fixture
def hostile_aws_setup(monkeypatch, tmp_path):
    """A machine whose AWS setup would break or redirect any SDK that reads it."""
    broken = tmp_path / "config"
    broken.write_text("[profile broken\nthis is not an ini file\n")
    monkeypatch.setenv("AWS_PROFILE", "doesnotexist")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(broken))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALKEYREALKEY00")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(tmp_path / "no-such-ca.pem"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://example.invalid")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "not-a-number")


def test_an_emulator_client_reads_no_profile_variable_or_file(hostile_aws_setup):
    target = aws.AwsTarget(
        region="eu-west-1",
        endpoint_url="https://127.0.0.1:1",
        access_key=FAKE_ACCESS_KEY,
        secret_key=FAKE_SECRET_KEY,
    )
    client = target.client("sts")
    credentials = client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == (FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    assert client.meta.endpoint_url == "https://127.0.0.1:1"
    assert client.meta.region_name == "eu-west-1"


def test_without_emulate_a_missing_profile_is_a_config_error_naming_it(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_PROFILE", "doesnotexist")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    with pytest.raises(ConfigError) as info:
        aws.AwsTarget(region="eu-west-1").client("sts")
    assert info.value.exit_code == ExitCode.CONFIG
    assert info.value.message.startswith("AWS profile 'doesnotexist' not found")
    assert "--emulate" in (info.value.hint or "")


def test_emulator_processes_get_no_aws_variable_of_this_machine():
    env = aws.emulator_env({"PATH": "/bin", "AWS_PROFILE": "x", "AWS_ACCESS_KEY_ID": "k", "AWS_ENDPOINT_URL_S3": "u"})
    assert env == {
        "PATH": "/bin",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_emulated_terraform_gets_no_aws_profile_variable_or_file(tmp_path):
    from infractl.services.stacks.workspace import runner

    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "AWS_PROFILE": "doesnotexist", "AWS_REGION": "x"}
    kwargs = {"terraform_bin": "terraform", "cli_config": tmp_path / "rc", "chdir": tmp_path, "data_dir": tmp_path}
    emulated = runner(environ, label=("dev", "kms"), emulated=True, **kwargs).env
    assert not {k for k in emulated if k.startswith("AWS_")} - set(aws.NO_LOCAL_AWS_CONFIG)
    assert emulated["AWS_CONFIG_FILE"] == emulated["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    real = runner(environ, label=("dev", "kms"), emulated=False, **kwargs).env
    assert real["AWS_PROFILE"] == "doesnotexist" and "AWS_CONFIG_FILE" not in real
