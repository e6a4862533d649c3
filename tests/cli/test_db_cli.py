"""`infractl db` wiring without a database: its commands, usage errors before anything connects, the dev stack
that --emulate needs, and the RDS path's endpoint (the data stack's outputs) as far as it can run here."""

from __future__ import annotations

import json

import pytest
from tests.conftest import REPO

from infractl.adapters.pg import PgServer
from infractl.models.db import Target
from infractl.services.db import connect, fanout, migrate


@pytest.fixture(autouse=True)
def _db_command(monkeypatch, tmp_path):
    """An empty work folder."""
    monkeypatch.setenv("INFRACTL_WORK_DIR", str(tmp_path / "work"))


def test_help_lists_the_commands(invoke):
    out = invoke("db", "--help").stdout
    for command in ("migrate", "status", "rollback", "lint"):
        assert command in out
    assert "--phase" in invoke("db", "migrate", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "migrate", "dev", "--phase", "sideways", "--emulate"], "--phase 'sideways': expand or contract"),
        (["db", "migrate", "dev", "--parallel", "0", "--emulate"], "--parallel"),
        (["db", "rollback", "dev", "--steps", "0", "--emulate"], "--steps"),
        (["db", "migrate", "qa", "--emulate"], "no environment named 'qa'"),
    ],
)
def test_bad_arguments_fail_before_connecting(invoke, args, message):
    result = invoke(*args, root=REPO, code=3 if "qa" in args else 2)
    assert message in result.stderr


def test_emulate_without_the_dev_stack_says_how_to_start_it(invoke):
    result = invoke("db", "status", "dev", "--emulate", root=REPO, code=2)
    assert "the dev stack is not running" in result.stderr and "infractl dev up" in result.stderr


def test_an_unreachable_database_is_a_clear_error(invoke, tmp_path, monkeypatch):
    from infractl.adapters.localservices import free_port
    from infractl.services.dev.statefile import dev_dir, save_state

    port = free_port()  # nothing listens there
    work = tmp_path / "work"
    dev_dir(work).mkdir(parents=True)
    save_state(
        dev_dir(work),
        {
            "version": 1,
            "mode": "native",
            "root_token": "dev-test-token",  # pragma: allowlist secret
            "ports": {"openbao": 1, "s3": 2},
            "services": {"postgres": {"extra": {"admin_url": f"postgresql://postgres@127.0.0.1:{port}/postgres"}}},
        },
    )
    result = invoke("db", "migrate", "dev", "--emulate", root=REPO, code=1)
    assert f"cannot connect to the dev stack's PostgreSQL at 127.0.0.1:{port}/controlplane" in result.stderr


def test_the_rds_path_reads_the_data_stacks_outputs(monkeypatch):
    """Without --emulate the endpoint is the data stack's applied outputs and the master secret (connect.py); the
    network path to RDS cannot run here, the wiring up to the endpoint can."""
    from infractl.services import context as context_service

    calls = {}

    class Secrets:
        def get_secret_value(self, SecretId):
            calls.setdefault("secrets", []).append(SecretId)
            return {
                "SecretString": json.dumps({"username": "master", "password": "s3cr3t"})
            }  # pragma: allowlist secret

    class Target_:
        def client(self, name):
            assert name == "secretsmanager"
            return Secrets()

    def applied_outputs(ctx, env, stacks, progress):
        calls["outputs"] = (env, stacks)
        return {
            "data": {
                "address": {"value": "db.example.internal"},
                "port": {"value": 5432},
                "master_user_secret_arn": {"value": "arn:shared"},
                "tenant_instances": {
                    "value": {
                        "cargo": {
                            "address": "cargo.internal",
                            "port": 5432,
                            "master_user_secret_arn": "arn:c",  # pragma: allowlist secret
                        }
                    }
                },
            }
        }

    monkeypatch.setattr("infractl.services.stacks.runs.applied_outputs", applied_outputs)
    monkeypatch.setattr(context_service.Context, "aws_target", lambda self, env, **kw: Target_())
    ctx = context_service.build(root=REPO)
    endpoint = connect.resolve(ctx, "staging")
    assert calls == {"outputs": ("staging", ["data"]), "secrets": ["arn:shared", "arn:c"]}
    assert endpoint.server.host == "db.example.internal" and endpoint.server.sslmode == "require"
    assert endpoint.server_for("cargo").host == "cargo.internal" and not endpoint.local
    assert "s3cr3t" not in repr(endpoint)  # never printed
    target = Target(name="cargo", kind="database", tenant="cargo", database="tenant_cargo", instance="cargo")
    assert migrate.target_role(endpoint, target) == "tenant_cargo"


def test_default_parallelism_is_bounded():
    assert 1 <= fanout.default_parallel() <= fanout.MAX_PARALLEL


def test_a_refused_connection_is_a_failed_target_not_a_crash():
    endpoint = connect.DbEndpoint(env="dev", server=PgServer(host="127.0.0.1", port=1, user="postgres"), local=True)
    target = Target(name="alpha", kind="schema", tenant="alpha", database="controlplane", schema_name="tenant_alpha")
    result = migrate.open_and_run(endpoint, target, goal_for=lambda _c: "head")
    assert result.status == "failed" and "cannot connect to postgres at 127.0.0.1:1/controlplane" in result.error
