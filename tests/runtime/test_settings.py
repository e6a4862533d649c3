"""The environment contract: defaults, variable names in errors, auth prerequisites, entry-point exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from controlplane.errors import SettingsError
from controlplane.settings import S3Credentials, VaultAuth, env_name, load_settings

TOKEN = {"VAULT_TOKEN": "dev-root-token-123"}


def test_defaults_are_the_native_dev_stack_contract():
    s = load_settings(TOKEN)
    assert (s.db_host, s.db_port, s.db_name, s.db_user) == ("127.0.0.1", 5432, "controlplane", "controlplane")
    assert (s.temporal_address, s.temporal_namespace, s.task_queue) == (
        "127.0.0.1:7233",
        "default",
        "controlplane-runs",
    )
    assert (s.s3_region, s.evidence_bucket, s.s3_credentials) == (
        "eu-west-1",
        "controlplane-evidence",
        S3Credentials.VAULT,
    )
    assert s.s3_endpoint_url is None  # empty = AWS
    assert (s.vault_addr, s.vault_auth) == ("http://127.0.0.1:8200", VaultAuth.TOKEN)
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8080)


def test_variable_names_follow_the_contract():
    assert env_name("db_host") == "CONTROLPLANE_DB_HOST"
    assert env_name("vault_addr") == "VAULT_ADDR"
    assert env_name("vault_token") == "VAULT_TOKEN"
    assert env_name("otel_exporter_otlp_endpoint") == "OTEL_EXPORTER_OTLP_ENDPOINT"
    assert env_name("otel_service_name") == "OTEL_SERVICE_NAME"


def test_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("VAULT_TOKEN", "from-env-token")
    monkeypatch.setenv("VAULT_ADDR", "http://openbao:8200/")
    monkeypatch.setenv("CONTROLPLANE_S3_ENDPOINT_URL", "")
    monkeypatch.setenv("CONTROLPLANE_DB_PORT", "6543")
    s = load_settings()
    assert s.vault_token.get_secret_value() == "from-env-token"
    assert s.vault_addr == "http://openbao:8200"
    assert s.s3_endpoint_url is None and s.db_port == 6543
    assert "from-env-token" not in repr(s)


def test_every_wrong_variable_is_named_with_its_problem():
    with pytest.raises(SettingsError) as err:
        load_settings(
            TOKEN
            | {
                "CONTROLPLANE_DB_PORT": "abc",
                "CONTROLPLANE_TEMPORAL_ADDRESS": "temporal",
                "CONTROLPLANE_VAULT_AUTH": "ldap",
                "VAULT_ADDR": "openbao:8200",
                "CONTROLPLANE_LOG_LEVEL": "loud",
            }
        )
    text = err.value.render()
    assert text.splitlines()[0] == "invalid runtime settings (environment variables)"
    assert "CONTROLPLANE_DB_PORT: Input should be a valid integer" in text and "(got 'abc')" in text
    assert "CONTROLPLANE_TEMPORAL_ADDRESS: expected host:port, got 'temporal'" in text
    assert "CONTROLPLANE_VAULT_AUTH: Input should be 'token' or 'kubernetes' (got 'ldap')" in text
    assert "VAULT_ADDR: expected an http:// or https:// URL, got 'openbao:8200'" in text
    assert "CONTROLPLANE_LOG_LEVEL" in text


def test_auth_prerequisites():
    with pytest.raises(SettingsError) as err:
        load_settings({})
    assert err.value.details == ["VAULT_TOKEN is required when CONTROLPLANE_VAULT_AUTH=token"]
    with pytest.raises(SettingsError) as err:
        load_settings({"CONTROLPLANE_VAULT_AUTH": "kubernetes"})
    assert "CONTROLPLANE_VAULT_ROLE is required when CONTROLPLANE_VAULT_AUTH=kubernetes" in err.value.render()
    s = load_settings({"CONTROLPLANE_VAULT_AUTH": "kubernetes", "CONTROLPLANE_VAULT_ROLE": "controlplane"})
    assert s.vault_token is None and s.vault_role == "controlplane"


def test_the_vault_token_is_never_echoed_in_an_error():
    with pytest.raises(SettingsError) as err:
        load_settings(
            {"VAULT_TOKEN": "s.secret-token-value", "CONTROLPLANE_DB_PORT": "x", "CONTROLPLANE_API_PORT": "-1"}
        )
    assert "s.secret-token-value" not in err.value.render()
    assert "SecretStr('**********')" not in err.value.render()


@pytest.mark.parametrize("module", ["controlplane.api", "controlplane.worker", "controlplane.migrate"])
def test_entry_points_exit_3_with_the_variable_named(module):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLPLANE_", "VAULT_", "OTEL_"))}
    env |= {"VAULT_TOKEN": "x" * 12, "CONTROLPLANE_DB_PORT": "not-a-port"}
    done = subprocess.run([sys.executable, "-m", module], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert f"{module}: invalid runtime settings" in done.stderr
    assert "CONTROLPLANE_DB_PORT: Input should be a valid integer" in done.stderr
    assert "Traceback" not in done.stderr


def test_pool_bounds():
    with pytest.raises(SettingsError) as err:
        load_settings(TOKEN | {"CONTROLPLANE_DB_POOL_MAX": "1", "CONTROLPLANE_DB_POOL_MIN": "0"})
    assert "CONTROLPLANE_DB_POOL_MAX must be at least 2" in err.value.render()
    with pytest.raises(SettingsError, match="invalid runtime settings") as err:
        load_settings(TOKEN | {"CONTROLPLANE_DB_POOL_MIN": "5", "CONTROLPLANE_DB_POOL_MAX": "3"})
    assert "must not exceed" in err.value.render()


def test_request_limits_have_safe_defaults_and_bounds():
    s = load_settings(TOKEN)
    assert (s.max_body_bytes, s.idempotency_key_ttl) == (256 * 1024, 86_400.0)
    assert env_name("max_body_bytes") == "CONTROLPLANE_MAX_BODY_BYTES"
    assert env_name("idempotency_key_ttl") == "CONTROLPLANE_IDEMPOTENCY_KEY_TTL"
    with pytest.raises(SettingsError) as err:  # beyond what a workflow input can carry
        load_settings(TOKEN | {"CONTROLPLANE_MAX_BODY_BYTES": str(4 * 1024 * 1024)})
    assert "CONTROLPLANE_MAX_BODY_BYTES: Input should be less than or equal to 524288" in err.value.render()


def test_one_signals_export_can_be_turned_off_and_only_with_a_known_value():
    base = {"VAULT_TOKEN": "t", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}  # pragma: allowlist secret
    settings = load_settings(base | {"OTEL_LOGS_EXPORTER": "none"})
    assert (settings.otel_traces_exporter, settings.otel_logs_exporter) == ("otlp", "none")
    with pytest.raises(SettingsError) as raised:
        load_settings(base | {"OTEL_TRACES_EXPORTER": "zipkin"})
    assert any("OTEL_TRACES_EXPORTER" in line for line in raised.value.details), raised.value.details


def test_the_release_label_is_a_safe_header_token():
    assert load_settings(TOKEN).release == ""  # no header
    assert env_name("release") == "CONTROLPLANE_RELEASE"
    assert load_settings(TOKEN | {"CONTROLPLANE_RELEASE": "1.4.0-rc.1+canary_7"}).release == "1.4.0-rc.1+canary_7"
    assert load_settings(TOKEN | {"CONTROLPLANE_RELEASE": "r" * 128}).release == "r" * 128
    for bad in ("canary 2", "a\r\nSet-Cookie: x=1", "é", "r" * 129, "a;b", '"q"'):
        with pytest.raises(SettingsError) as err:
            load_settings(TOKEN | {"CONTROLPLANE_RELEASE": bad})
        assert err.value.details == [
            f"CONTROLPLANE_RELEASE: expected at most 128 letters, digits, '.', '_', '-' or '+' (got {bad!r})"
        ]
