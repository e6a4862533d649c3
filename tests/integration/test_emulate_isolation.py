"""`--emulate` does not touch this machine's AWS configuration: with a profile that does not exist and a config file
that does not parse, the emulator starts, the state backend bootstraps and Terraform plans on it. Without
`--emulate`, the same profile is a clear exit-3 error naming it."""

from __future__ import annotations

import pytest

from infractl.adapters import emulator


@pytest.fixture
def broken_aws_profile(monkeypatch, tmp_path):
    config = tmp_path / "aws-config"
    config.write_text("[profile broken\nthis is not an ini file\n")
    monkeypatch.setenv("AWS_PROFILE", "doesnotexist")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # and no ~/.aws of the real user either
    return "doesnotexist"


def test_emulate_commands_work_with_a_missing_profile(invoke, mirror, monkeypatch, tmp_path, broken_aws_profile):
    """A fresh work folder: the emulator is started by this command, under the broken profile (moto's own SDK
    sessions must not read it), then Terraform runs against it."""
    work = tmp_path / "work"
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(work))
    monkeypatch.setenv("INFRACTL_PROVIDER_MIRROR", mirror)
    monkeypatch.delenv("CI", raising=False)
    try:
        out = invoke("state", "bootstrap", "dev", "--emulate").stdout
        assert "(account 123456789012, emulator)" in out
        plan = invoke("plan", "dev", "--emulate", "--stack", "kms")
        assert "kms" in plan.stdout and "changes" in plan.stdout
    finally:
        emulator.stop(work / "emulator")


def test_without_emulate_the_missing_profile_is_named(invoke, monkeypatch, tmp_path, broken_aws_profile):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))  # a readable setup where the profile is missing
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for args in (("state", "bootstrap", "dev"), ("plan", "dev")):
        result = invoke(*args, code=3)
        first = next(ln for ln in result.stderr.splitlines() if not ln.startswith("evidence:"))  # state: queued
        assert first.startswith("error: AWS profile 'doesnotexist' not found"), result.stderr
        assert "Traceback" not in result.stderr
