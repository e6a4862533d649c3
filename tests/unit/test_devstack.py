"""The pure parts of `infractl dev`: ports, the environment contract, the state file, compose parsing; the launcher's
error and stop semantics on tiny local processes."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest

from infractl.adapters import localservices as ls
from infractl.errors import ConfigError, ExternalToolError, UsageError
from infractl.models.dev import DevStatus
from infractl.services.dev import compose, contract, devstack, logs, native, statefile

# --- ports ---------------------------------------------------------------------------------------------------------


def _picker(start: int = 40000):
    ports = iter(range(start, start + 100))
    return lambda: next(ports)


def test_default_ports_when_free():
    ports, notes = contract.assign_ports(is_free=lambda p: True, pick_free=_picker())
    assert ports == contract.DEFAULT_PORTS
    assert notes == []


def test_port_offset_moves_every_port():
    ports, _ = contract.assign_ports(offset=10000, is_free=lambda p: True, pick_free=_picker())
    assert ports == {name: port + 10000 for name, port in contract.DEFAULT_PORTS.items()}


def test_taken_default_falls_back_to_a_free_port_with_a_note():
    ports, notes = contract.assign_ports(is_free=lambda p: p != 5432, pick_free=_picker())
    assert ports["postgres"] == 40000
    assert ports["api"] == 8080
    assert notes == ["postgres: port 5432 is taken, using 40000"]


def test_fallback_skips_ports_already_assigned():
    picks = iter([40000, 40000, *range(40001, 40001 + len(contract.DEFAULT_PORTS))])
    ports, _ = contract.assign_ports(is_free=lambda p: False, pick_free=lambda: next(picks))
    assert len(set(ports.values())) == len(ports)


def test_kept_ports_win_and_are_not_handed_out_again():
    ports, notes = contract.assign_ports(
        keep={"postgres": 41000, "temporal": 41001, "temporal_ui": 41002},
        is_free=lambda p: p not in (41000, 41001, 41002),
        pick_free=_picker(),
    )
    assert (ports["postgres"], ports["temporal"], ports["temporal_ui"]) == (41000, 41001, 41002)
    assert notes == []


def test_override_wins_and_a_taken_override_is_a_usage_error():
    ports, _ = contract.assign_ports(overrides={"api": 18080}, is_free=lambda p: True, pick_free=_picker())
    assert ports["api"] == 18080
    with pytest.raises(UsageError, match="api: port 18080 is already in use"):
        contract.assign_ports(overrides={"api": 18080}, is_free=lambda p: p != 18080, pick_free=_picker())


def test_unknown_service_and_out_of_range_ports_are_usage_errors():
    with pytest.raises(UsageError, match="unknown service in --port: mysql"):
        contract.assign_ports(overrides={"mysql": 3306}, is_free=lambda p: True)
    with pytest.raises(UsageError, match="out of range"):
        contract.assign_ports(offset=60000, is_free=lambda p: True)


def test_parse_port_overrides():
    assert contract.parse_port_overrides(["postgres=15432", " api = 18080"]) == {"postgres": 15432, "api": 18080}
    with pytest.raises(UsageError, match="SERVICE=PORT"):
        contract.parse_port_overrides(["postgres:15432"])


# --- the environment contract ----------------------------------------------------------------------------------------

CONTRACT_KEYS = {
    "CONTROLPLANE_DB_HOST",
    "CONTROLPLANE_DB_PORT",
    "CONTROLPLANE_DB_NAME",
    "CONTROLPLANE_DB_USER",
    "CONTROLPLANE_TEMPORAL_ADDRESS",
    "CONTROLPLANE_TEMPORAL_NAMESPACE",
    "CONTROLPLANE_TASK_QUEUE",
    "CONTROLPLANE_S3_ENDPOINT_URL",
    "CONTROLPLANE_S3_REGION",
    "CONTROLPLANE_S3_CREDENTIALS",
    "CONTROLPLANE_EVIDENCE_BUCKET",
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "CONTROLPLANE_VAULT_AUTH",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "CONTROLPLANE_API_HOST",
    "CONTROLPLANE_API_PORT",
}


def test_env_contract_defaults_match_the_spec():
    env = contract.env_contract(contract.DEFAULT_PORTS, "tok", service="api")
    assert set(env) == CONTRACT_KEYS | {"OTEL_SERVICE_NAME", "CONTROLPLANE_METRICS_HOST", "CONTROLPLANE_METRICS_PORT"}
    assert (env["CONTROLPLANE_METRICS_HOST"], env["CONTROLPLANE_METRICS_PORT"]) == ("127.0.0.1", "9464")
    assert env["CONTROLPLANE_DB_HOST"] == "127.0.0.1" and env["CONTROLPLANE_DB_PORT"] == "5432"
    assert env["CONTROLPLANE_DB_NAME"] == env["CONTROLPLANE_DB_USER"] == "controlplane"
    assert env["CONTROLPLANE_TEMPORAL_ADDRESS"] == "127.0.0.1:7233"
    assert env["CONTROLPLANE_TEMPORAL_NAMESPACE"] == "default"
    assert env["CONTROLPLANE_TASK_QUEUE"] == "controlplane-runs"
    assert env["CONTROLPLANE_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert env["CONTROLPLANE_S3_REGION"] == "eu-west-1"
    assert env["CONTROLPLANE_S3_CREDENTIALS"] == "vault"
    assert env["CONTROLPLANE_EVIDENCE_BUCKET"] == "controlplane-evidence"
    assert env["VAULT_ADDR"] == "http://127.0.0.1:8200" and env["VAULT_TOKEN"] == "tok"
    assert env["CONTROLPLANE_VAULT_AUTH"] == "token"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4318"
    assert env["OTEL_SERVICE_NAME"] == "controlplane-api"
    assert (env["CONTROLPLANE_API_HOST"], env["CONTROLPLANE_API_PORT"]) == ("127.0.0.1", "8080")
    assert not any("PASSWORD" in k or "SECRET" in k or "ACCESS_KEY" in k for k in env)


def test_env_contract_follows_the_assigned_ports():
    ports = {name: port + 1 for name, port in contract.DEFAULT_PORTS.items()}
    env = contract.env_contract(ports, "tok")
    assert env["CONTROLPLANE_DB_PORT"] == "5433"
    assert env["CONTROLPLANE_TEMPORAL_ADDRESS"] == "127.0.0.1:7234"
    assert env["CONTROLPLANE_S3_ENDPOINT_URL"] == "http://127.0.0.1:9001"
    assert env["VAULT_ADDR"] == "http://127.0.0.1:8201"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://127.0.0.1:4319"
    assert env["CONTROLPLANE_API_PORT"] == "8081"
    assert "OTEL_SERVICE_NAME" not in env


def test_mask_hides_the_token_unless_asked():
    env = contract.env_contract(contract.DEFAULT_PORTS, "s3cr3t-token")
    shown, masked = contract.mask(env)
    assert shown["VAULT_TOKEN"] == contract.MASK and masked == ["VAULT_TOKEN"]
    assert "s3cr3t-token" not in json.dumps(shown)
    shown, masked = contract.mask(env, show_secrets=True)
    assert shown["VAULT_TOKEN"] == "s3cr3t-token" and masked == []


def test_process_env_drops_stale_variables_and_adds_the_contract():
    base = {"PATH": "/bin", "CONTROLPLANE_DB_PASSWORD": "x", "AWS_SECRET_ACCESS_KEY": "y", "VAULT_TOKEN": "old"}
    env = contract.process_env({"VAULT_TOKEN": "new", "CONTROLPLANE_DB_PORT": "5432"}, base)
    assert env["PATH"] == "/bin" and env["VAULT_TOKEN"] == "new" and env["CONTROLPLANE_DB_PORT"] == "5432"
    assert "CONTROLPLANE_DB_PASSWORD" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "127.0.0.1" in env["NO_PROXY"] and env["PYTHONUNBUFFERED"] == "1"


# --- state -----------------------------------------------------------------------------------------------------------


def test_state_round_trip_is_private(tmp_path: Path):
    r = ls.Running("s3", 123, "127.0.0.1", 9000, tmp_path / "s3.log", {"health": "http", "started": "42"})
    state = {**statefile.empty_state(), "mode": "native", "services": {"s3": statefile.record(r)}}
    statefile.save_state(tmp_path, state)
    path = statefile.state_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = statefile.load_state(tmp_path)
    assert ls.Running.from_dict(loaded["services"]["s3"]) == r
    assert loaded["services"]["s3"]["started_by_us"] is True


def test_missing_state_is_empty_and_a_corrupt_one_is_a_config_error(tmp_path: Path):
    assert statefile.load_state(tmp_path) == statefile.empty_state()
    statefile.state_path(tmp_path).write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        statefile.load_state(tmp_path)
    statefile.state_path(tmp_path).write_text('{"version": 99}')
    with pytest.raises(ConfigError, match="unknown state format"):
        statefile.load_state(tmp_path)


def test_running_round_trips_through_json(tmp_path: Path):
    r = ls.Running("openbao", 7, "127.0.0.1", 8200, tmp_path / "openbao.log", {"root_token": "t"})
    assert ls.Running.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    assert r.url == "http://127.0.0.1:8200" and r.address == "127.0.0.1:8200"


def test_status_never_shows_a_token(tmp_path: Path):
    r = ls.Running("openbao", 7, "127.0.0.1", 8200, tmp_path / "l", {"root_token": "t0k", "addr": "http://x"})
    assert native.public_details(r) == {"addr": "http://x"}


# --- mode and compose ------------------------------------------------------------------------------------------------


def test_choose_mode():
    assert devstack.choose_mode(False, engine_available=lambda: True) == "native"
    assert devstack.choose_mode(None, engine_available=lambda: False) == "native"
    assert devstack.choose_mode(None, engine_available=lambda: True) == "docker"
    assert devstack.choose_mode(True, engine_available=lambda: True) == "docker"
    with pytest.raises(ExternalToolError, match="no Docker engine"):
        devstack.choose_mode(True, engine_available=lambda: False)


def test_compose_argv(tmp_path: Path):
    assert compose.compose_base_argv(["docker", "compose"], tmp_path) == [
        "docker",
        "compose",
        "-f",
        str(tmp_path / "compose.yaml"),
        "--project-directory",
        str(tmp_path),
    ]


ROW_API = {
    "Service": "api",
    "Name": "cp-api-1",
    "State": "running",
    "Health": "healthy",
    "Status": "Up 5 seconds (healthy)",
    "Publishers": [{"URL": "0.0.0.0", "TargetPort": 8080, "PublishedPort": 8080, "Protocol": "tcp"}],
}
ROW_PG = {"Service": "postgres", "Name": "cp-postgres-1", "State": "running", "Health": "starting", "Publishers": []}
ROW_MIGRATE = {"Service": "migrate", "State": "exited", "ExitCode": 0, "Health": "", "Publishers": None}
ROW_SEED = {"Service": "seed", "Name": "cp-seed-1", "State": "exited", "ExitCode": 1, "Health": ""}


@pytest.mark.parametrize("as_lines", [True, False], ids=["json-lines", "json-array"])
def test_parse_compose_ps(as_lines: bool):
    rows = [ROW_API, ROW_PG, ROW_MIGRATE, ROW_SEED]
    text = "\n".join(json.dumps(r) for r in rows) if as_lines else json.dumps(rows)
    items = {s.name: s for s in compose.parse_compose_ps(text)}
    assert items["api"].health == "healthy" and items["api"].address == "127.0.0.1:8080"
    assert items["postgres"].health == "unhealthy"
    assert items["migrate"].health == "completed"
    assert items["seed"].health == "stopped"
    done = DevStatus(mode="docker", work_dir="w", services=[items["api"], items["migrate"]])
    assert done.healthy
    assert compose.parse_compose_ps("") == []


# --- commands with nothing running ---------------------------------------------------------------------------------


def test_down_and_status_with_nothing_running(tmp_path: Path):
    assert devstack.down(tmp_path, tmp_path).nothing_to_do
    result = devstack.status(tmp_path, tmp_path)
    assert result.mode == "none" and not result.running and not result.healthy


def test_cli_with_nothing_running(invoke, monkeypatch, tmp_path: Path):
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path))
    assert json.loads(invoke("dev", "status", "--json").stdout)["mode"] == "none"
    assert json.loads(invoke("dev", "down", "--json").stdout)["nothing_to_do"] is True
    assert "not running" in invoke("dev", "down").stdout
    assert "not running" in invoke("dev", "env", code=2).stderr
    assert "unknown service 'mysql'" in invoke("dev", "logs", "mysql", code=2).stderr
    assert "--port-offset" in invoke("dev", "up", "--help").stdout


def test_log_tail_strips_colour_codes(tmp_path: Path):
    log = tmp_path / "s3.log"
    log.write_text('one\n\x1b[31m\x1b[1mPUT /b HTTP/1.1\x1b[0m" 409\n')
    assert list(logs.tail({"s3": log}, 1)) == [("s3", 'PUT /b HTTP/1.1" 409')]


# --- the launcher, on tiny processes -----------------------------------------------------------------------------


def test_a_service_that_exits_is_an_error_naming_it_with_its_log_tail(tmp_path: Path):
    argv = [sys.executable, "-c", "import sys; print('boom: no config'); sys.exit(3)"]
    r = ls.start_process("api", argv, dict(os.environ), tmp_path, ls.free_port(), None, wait=None)
    with pytest.raises(ExternalToolError) as info:
        ls.wait_healthy(r, 10)
    assert info.value.message.startswith("api exited with 3")
    assert any("boom: no config" in line for line in info.value.details)
    with pytest.raises(ExternalToolError, match=r"^api "):  # waiting inside the launcher says the same
        ls.start_process("api", argv, dict(os.environ), tmp_path, ls.free_port(), None, wait=10)


def test_a_service_that_never_answers_times_out_and_is_stopped(tmp_path: Path):
    argv = [sys.executable, "-c", "import time; print('listening nowhere', flush=True); time.sleep(60)"]
    with pytest.raises(ExternalToolError, match="s3 did not become healthy within 1 s") as info:
        ls.start_process("s3", argv, dict(os.environ), tmp_path, ls.free_port(), None, wait=1)
    assert any("listening nowhere" in line for line in info.value.details)
    assert not (tmp_path / "s3.pid").exists()  # stopped again, its pid file gone


def test_stop_ends_the_whole_process_group(tmp_path: Path):
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    r = ls.start_process("worker", [sys.executable, "-c", script], dict(os.environ), tmp_path, 0, None, wait=5)
    assert ls.is_healthy(r)
    deadline = time.monotonic() + 5
    while len(ls.survivors(r)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(ls.survivors(r)) == 2
    ls.stop(r, timeout=5)
    assert ls.survivors(r) == []
    assert not ls.is_healthy(r)
    assert not (tmp_path / "worker.pid").exists()
    ls.stop(r)  # idempotent


def test_stop_leaves_a_recycled_pid_alone(tmp_path: Path):
    me = ls.Running("x", os.getpid(), "127.0.0.1", 0, tmp_path / "x.log", {"started": "1", "pgid": str(os.getpgid(0))})
    assert not ls.is_healthy(me)
    assert ls.survivors(me) == []
    ls.stop(me)  # would kill this test process (and its group) if it trusted the pid alone
