"""The runtime's real stack for tests: PostgreSQL, Temporal dev server, OpenBao, moto S3 and the OTLP receiver on
free loopback ports, started through infractl.adapters.localservices (the launchers `infractl dev up` uses); the API
(uvicorn in a thread) and the worker (asyncio loop in a thread) run inside this long-lived test process, so the
Temporal clients never live in a short process (temporalio/sdk-python#300, /work/shared/ENVIRONMENT.md).

Each in-process role has its own metrics registry, served on its own free port as the entry points serve it
(controlplane.metrics.serve): `stack.scrape("api" | "worker")` reads it as Prometheus does (OpenMetrics). The API has
its fault switch installed (`stack.faults_file`, absent = no fault) and the worker checks the evidence chain every
half second.

Only the tests that need the real services ask for `stack`: the unit tests of this folder start nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

WAIT_S = 30.0


class CapturedLogs(logging.Handler):
    """Every log record of the process (DEBUG and up), formatted as the runtime's handler would."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self._lock2 = threading.Lock()
        from controlplane.telemetry import LOG_FORMAT, TraceContextFilter

        self.addFilter(TraceContextFilter())
        self.setFormatter(logging.Formatter(LOG_FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a library's broken log call must not break the test
            line = f"{record.name}: <unformattable record>"
        with self._lock2:
            self.lines.append(line)

    def text(self) -> str:
        with self._lock2:
            return "\n".join(self.lines)


class Faults:
    """The worker's after-commit hook: arm("record_run") makes that activity's next first attempt fail after its
    transaction committed, as if the worker died before reporting the result to Temporal."""

    def __init__(self) -> None:
        self.armed: set[str] = set()
        self.permanent: set[str] = set()
        self.calls: list[tuple[str, int]] = []
        self.injected: list[str] = []

    def arm(self, activity: str) -> None:
        self.armed.add(activity)

    def arm_permanent(self, activity: str) -> None:
        """The activity's next call fails with a non-retryable error: the workflow takes its failure path."""
        self.permanent.add(activity)

    def __call__(self, activity: str, attempt: int) -> None:
        from temporalio.exceptions import ApplicationError

        self.calls.append((activity, attempt))
        if activity in self.permanent:
            self.permanent.discard(activity)
            self.injected.append(activity)
            raise ApplicationError(f"injected permanent failure in {activity}", non_retryable=True)
        if activity in self.armed and attempt == 1:
            self.armed.discard(activity)
            self.injected.append(activity)
            raise RuntimeError(f"injected failure after {activity} committed")


@dataclass
class InProcess:
    """A thread running an asyncio loop (the worker) or a uvicorn server (the API)."""

    thread: threading.Thread
    stop: Any
    error: list[BaseException] = field(default_factory=list)


@dataclass
class PostgresServer:
    """The session's PostgreSQL; `running` is replaced when a test restarts it (start(): same data, same port)."""

    base: Path
    running: Any  # localservices.Running

    @property
    def admin_url(self) -> str:
        return self.running.extra["admin_url"]

    def start(self) -> Any:
        from infractl.adapters import localservices as ls

        self.running = ls.start_postgres(self.base, self.running.port)
        return self.running


@dataclass
class Stack:
    base: Path
    services: dict[str, Any]
    env: dict[str, str]
    settings: Any
    api_url: str
    admin_url: str
    canaries: dict[str, str]
    receiver_out: Path
    logs: CapturedLogs
    faults: Faults
    telemetry: Any
    root_token: str
    postgres: PostgresServer
    metrics_urls: dict[str, str]  # "api" | "worker" -> http://127.0.0.1:<port>/metrics
    faults_file: Path
    api_responses: list[str] = field(default_factory=list)

    # -- helpers used by the tests

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, timeout=10, trust_env=False, event_hooks={"response": [self._keep]})

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.api_responses.append(f"{response.status_code} {dict(response.headers)} {response.text}")

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        url = self.admin_url.rsplit("/", 1)[0] + "/" + self.settings.db_name
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def s3(self) -> Any:
        from controlplane.adapters.s3 import make_client

        return make_client(self.settings, (self.canaries["s3_access_key_id"], self.canaries["s3_secret_access_key"]))

    def reseed_vault(self) -> None:
        from controlplane.devtools.seed import seed

        seed(
            self.settings,
            admin_url=None,
            db_password=self.canaries["db_password"],
            s3_access_key_id=self.canaries["s3_access_key_id"],
            s3_secret_access_key=self.canaries["s3_secret_access_key"],
            wait=10,
            skip_db=True,
            skip_bucket=True,
        )

    def wait_run(self, client: httpx.Client, url: str, status: str = "completed", timeout: float = 20) -> dict:
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            response = client.get(url)
            if response.status_code == 200:
                body = response.json()
                if body["status"] == status:
                    return body
            time.sleep(0.1)
        raise AssertionError(f"run {url} did not reach {status} within {timeout}s; last: {body}")

    def spans(self) -> list[dict[str, Any]]:
        from controlplane.devtools.otlp_receiver import read_jsonl

        return read_jsonl(self.receiver_out, "span")

    def exported_logs(self) -> list[dict[str, Any]]:
        from controlplane.devtools.otlp_receiver import read_jsonl

        return read_jsonl(self.receiver_out, "log")

    def scrape_text(self, role: str) -> str:
        """GET /metrics of the api or the worker as Prometheus asks for it (OpenMetrics: exemplars included)."""
        response = httpx.get(self.metrics_urls[role], headers={"Accept": OPENMETRICS}, timeout=5, trust_env=False)
        response.raise_for_status()
        assert response.headers["content-type"].startswith("application/openmetrics-text"), response.headers
        return response.text

    def scrape(self, role: str) -> dict[str, Any]:
        """The role's metric families by name (prometheus_client's OpenMetrics parser)."""
        from prometheus_client.openmetrics.parser import text_string_to_metric_families

        return {f.name: f for f in text_string_to_metric_families(self.scrape_text(role))}

    def sample(self, role: str, name: str, **labels: str) -> float:
        """The value of one sample (0 when absent), e.g. sample("worker", "controlplane_outbox_published_total")."""
        for family in self.scrape(role).values():
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return 0.0


OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"  # Prometheus' Accept


def _start_worker(settings: Any, faults: Faults, metrics: Any) -> InProcess:
    from controlplane.worker import run_worker

    loop = asyncio.new_event_loop()
    stop_event: dict[str, asyncio.Event] = {}
    started = threading.Event()
    proc = InProcess(thread=threading.Thread(), stop=None)

    def target() -> None:
        asyncio.set_event_loop(loop)

        async def main() -> None:
            stop_event["e"] = asyncio.Event()
            await run_worker(
                settings, stop_event["e"], started=started.set, after_commit=faults, worker_metrics=metrics
            )

        try:
            loop.run_until_complete(main())
        except BaseException as exc:  # surfaced by the fixture
            proc.error.append(exc)
            started.set()
        finally:
            loop.close()

    proc.thread = threading.Thread(target=target, name="controlplane-worker", daemon=True)
    proc.stop = lambda: loop.call_soon_threadsafe(stop_event["e"].set) if "e" in stop_event else None
    proc.thread.start()
    if not started.wait(WAIT_S) or proc.error:
        raise RuntimeError(f"the in-process worker did not start: {proc.error}")
    return proc


def _start_api(settings: Any, metrics: Any) -> tuple[InProcess, str]:
    import uvicorn

    from controlplane.app import create_app
    from infractl.adapters.localservices import free_port

    port = free_port()
    app = create_app(settings, metrics=metrics)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    proc = InProcess(thread=threading.Thread(target=server.run, name="controlplane-api", daemon=True), stop=None)

    def stop() -> None:
        server.should_exit = True

    proc.stop = stop
    proc.thread.start()
    deadline = time.monotonic() + WAIT_S
    while not server.started:
        if time.monotonic() > deadline or not proc.thread.is_alive():
            raise RuntimeError("the in-process API did not start")
        time.sleep(0.02)
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One PostgreSQL for the session (the stack's too): tests that need only a database make their own in it.
    Started without waiting (the stack starts its other services meanwhile): wait with ls.wait_healthy."""
    from infractl.adapters import localservices as ls

    base = tmp_path_factory.mktemp("runtime-postgres")
    server = PostgresServer(base, ls.start_postgres(base, ls.free_port(), wait=None))
    try:
        yield server
    finally:
        ls.stop(server.running)
        ls.remove_postgres_data(server.running)


def create_database(admin_url: str, prefix: str, owner: str | None = None) -> str:
    """A new, empty database (named prefix_<random>) on the server of admin_url; its name."""
    import psycopg

    name = f"{prefix}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else ""))
    return name


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, postgres_server: PostgresServer) -> Iterator[Stack]:
    from controlplane import metrics
    from controlplane.devtools.seed import seed
    from controlplane.migrate import migrate
    from controlplane.redaction import install_log_redaction
    from controlplane.settings import load_settings
    from controlplane.telemetry import configure_telemetry
    from controlplane.workflows import WORKFLOW_NAME
    from infractl.adapters import localservices as ls

    t0 = time.monotonic()
    base = tmp_path_factory.mktemp("runtime-stack")
    root_token = "cp-root-" + secrets.token_hex(12)
    ports = {name: ls.free_port() for name in ("temporal", "temporal_ui", "openbao", "s3", "otlp")}
    ports["postgres"] = postgres_server.running.port
    services: dict[str, Any] = {"postgres": postgres_server.running}  # stopped by its own fixture
    api = worker = None
    metrics_servers: list[Any] = []
    root = logging.getLogger()
    logs = CapturedLogs()
    previous_level = root.level
    try:
        services["temporal"] = ls.start_temporal(base, ports["temporal"], ports["temporal_ui"], wait=None)
        services["openbao"] = ls.start_openbao(base, ports["openbao"], root_token, wait=None)
        services["s3"] = ls.start_moto_s3(base, ports["s3"], wait=None)
        services["otlp"] = ls.start_otlp_receiver(base, ports["otlp"], wait=None)
        for running in services.values():
            ls.wait_healthy(running, WAIT_S)

        # canary secrets: they travel through OpenBao to the DB login and the S3 signer, and must show up nowhere
        canaries = {
            "db_password": "canary-db-" + secrets.token_hex(16),
            "s3_access_key_id": "CANARYKEY" + secrets.token_hex(6).upper(),
            "s3_secret_access_key": "canary-s3-" + secrets.token_hex(16),
        }
        env = {
            "CONTROLPLANE_DB_HOST": "127.0.0.1",
            "CONTROLPLANE_DB_PORT": str(ports["postgres"]),
            "CONTROLPLANE_TEMPORAL_ADDRESS": f"127.0.0.1:{ports['temporal']}",
            "CONTROLPLANE_S3_ENDPOINT_URL": f"http://127.0.0.1:{ports['s3']}",
            "VAULT_ADDR": f"http://127.0.0.1:{ports['openbao']}",
            "VAULT_TOKEN": root_token,
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{ports['otlp']}",
            "OTEL_SERVICE_NAME": "controlplane-tests",
            "CONTROLPLANE_FAULTS_FILE": str(base / "faults.json"),  # absent until a test writes it
            "CONTROLPLANE_EVIDENCE_VERIFY_INTERVAL_S": "0.5",
            "CONTROLPLANE_READY_TIMEOUT": "5",  # per check: a loaded 2-core runner can need >1.5 s
            "CONTROLPLANE_RELAY_INTERVAL": "0.1",
            "CONTROLPLANE_ACTIVITY_INITIAL_RETRY": "0.2",
            "CONTROLPLANE_SECRET_CACHE_SECONDS": "300",
            "CONTROLPLANE_DB_CONNECT_TIMEOUT": "2",
            "CONTROLPLANE_LOG_LEVEL": "DEBUG",
        }
        settings = load_settings(env)

        # every record of this process, DEBUG included, is captured for the canary test
        install_log_redaction()
        root.addHandler(logs)
        root.setLevel(logging.DEBUG)
        for noisy in ("asyncio", "moto", "werkzeug", "httpcore", "hpack"):
            logging.getLogger(noisy).setLevel(logging.INFO)

        admin_url = services["postgres"].extra["admin_url"]
        seed(
            settings,
            admin_url=admin_url,
            db_password=canaries["db_password"],
            s3_access_key_id=canaries["s3_access_key_id"],
            s3_secret_access_key=canaries["s3_secret_access_key"],
            wait=WAIT_S,
        )
        asyncio.run(migrate(settings, wait=WAIT_S))
        # the ledger's tables (0005) come after the contract revision 0004: nothing older runs here yet
        asyncio.run(migrate(settings, wait=WAIT_S, phase="contract"))
        telemetry = configure_telemetry(settings, "controlplane-tests")
        faults = Faults()
        api_metrics, worker_metrics = metrics.ApiMetrics(), metrics.WorkerMetrics(workflows=[WORKFLOW_NAME])
        metrics_servers = [metrics.serve(m.registry, "127.0.0.1", 0) for m in (api_metrics, worker_metrics)]
        worker = _start_worker(settings, faults, worker_metrics)
        api, api_url = _start_api(settings, api_metrics)
        stack = Stack(
            base=base,
            services=services,
            env=env,
            settings=settings,
            api_url=api_url,
            admin_url=admin_url,
            canaries=canaries,
            receiver_out=Path(services["otlp"].extra["out"]),
            logs=logs,
            faults=faults,
            telemetry=telemetry,
            root_token=root_token,
            postgres=postgres_server,
            metrics_urls={
                role: f"http://127.0.0.1:{server.port}/metrics"
                for role, server in zip(("api", "worker"), metrics_servers, strict=True)
            },
            faults_file=base / "faults.json",
        )
        logging.getLogger("tests.runtime").info("stack up in %.1fs", time.monotonic() - t0)
        yield stack
    finally:
        for proc in (api, worker):
            if proc is not None:
                proc.stop()
                proc.thread.join(15)
        for server in metrics_servers:
            server.stop()
        with contextlib.suppress(Exception):
            from controlplane import telemetry as tm

            if tm._telemetry is not None:  # export what is left while the receiver still runs
                tm._telemetry.shutdown()
            tm.uninstrument_libraries()  # leave psycopg and botocore as other suites in this process expect them
        root.removeHandler(logs)
        root.setLevel(previous_level)
        for name, running in reversed(list(services.items())):
            if name != "postgres":
                ls.stop(running)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll `predicate` until it returns something true (returned), or fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)
