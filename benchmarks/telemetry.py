"""Benchmark: the API's request latency with its telemetry on vs off, same runtime, same run, as p50 and p99 ratios
(issue 18; goal <= 1.10x for both).

Run with `make bench` (or `python benchmarks/telemetry.py`; BENCH_TELEMETRY_REQUESTS / _ROUNDS to change the size).
It starts its own PostgreSQL, OpenBao and the OTLP receiver on free loopback ports, seeds and migrates, records runs,
then starts three `python -m controlplane.api` processes from the same code:

- on:  OTEL_EXPORTER_OTLP_ENDPOINT = the local receiver (every span and every log record exported over OTLP/HTTP),
       CONTROLPLANE_METRICS_PORT set (request counter and latency histogram with the request span as exemplar), and
       /metrics scraped in OpenMetrics every second while it is measured (Prometheus scrapes every 15-30 s);
- off: no endpoint, metrics port 0 (nothing exported, no metrics recorded: the runtime's state when unconfigured;
       spans are still made, unexported, as the runtime always does);
- metrics: a third process, metrics and exemplars only (scraped the same way), no export: what the metrics cost
  alone, apart from the OpenTelemetry SDK's span and log export;
- spans: a fourth, spans exported and nothing else (OTEL_LOGS_EXPORTER=none, no metrics): the runtime as it was
  before metrics, exemplars and log export came. "on" against it is what those three add (the issue's goal).

The same sequential `GET /v1/tenants/{tenant}/runs/{id}` (a run read from PostgreSQL, the API's common read) goes
to each in turn in blocks of 25 (rotating which goes first), each on its keep-alive connection, after a warm-up:
all see the same load of the machine (the receiver's work included), so the ratios hold on a busy runner.
The latency is the client's, per request. Both processes log at INFO (uvicorn's access line per request) to
/dev/null. The CPU time each API process used over the measured requests (all its threads, the exporters' too) is
printed per request as well: it moves much less with the machine's other load than latency percentiles do.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO))

REQUESTS = int(os.environ.get("BENCH_TELEMETRY_REQUESTS", "2000"))  # per variant
BLOCK = 25  # requests to one variant, then the same to the other (alternating which goes first)
WARMUP = 200
RUNS = 50
GOAL = 1.10
VARIANTS = ("on", "metrics", "spans", "off")
OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (the exporters' included), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spawn_api(env: dict[str, str], port: int, extra: dict[str, str]) -> subprocess.Popen:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("CONTROLPLANE_", "VAULT_", "OTEL_"))}
    full |= env | {"CONTROLPLANE_API_PORT": str(port), "PYTHONPATH": f"{REPO / 'src'}"} | extra
    return subprocess.Popen(
        [sys.executable, "-m", "controlplane.api"],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_ready(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API at {url} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/livez", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the API at {url} did not start within {timeout}s")


def measure(client, paths: list[str], n: int) -> list[float]:
    samples = []
    for i in range(n):
        path = paths[i % len(paths)]
        began = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.text[:200]}")
    return samples


class Scraper(threading.Thread):
    """GET /metrics as Prometheus does (OpenMetrics), every `interval` seconds until stopped."""

    def __init__(self, url: str, interval: float = 1.0) -> None:
        super().__init__(daemon=True, name="scraper")
        self.url, self.interval = url, interval
        self.halt = threading.Event()
        self.scrapes = 0
        self.last = ""

    def run(self) -> None:
        import httpx

        while not self.halt.wait(self.interval):
            self.last = httpx.get(self.url, headers={"Accept": OPENMETRICS}, timeout=5, trust_env=False).text
            self.scrapes += 1


def main() -> None:
    import httpx
    import psycopg

    from controlplane.devtools.otlp_receiver import read_jsonl
    from controlplane.devtools.seed import seed
    from controlplane.migrate import migrate
    from controlplane.settings import load_settings
    from infractl.adapters import localservices as ls

    with tempfile.TemporaryDirectory(prefix="infractl-bench-telemetry-") as tmp:
        base = Path(tmp)
        token = "bench-" + secrets.token_hex(8)
        services = []
        procs: dict[str, subprocess.Popen] = {}
        try:
            pg = ls.start_postgres(base, ls.free_port())
            services.append(pg)
            services.append(ls.start_openbao(base, ls.free_port(), token))
            otlp = ls.start_otlp_receiver(base, ls.free_port())
            services.append(otlp)
            env = {
                "CONTROLPLANE_DB_PORT": str(pg.port),
                "VAULT_ADDR": services[1].extra["addr"],
                "VAULT_TOKEN": token,
                "CONTROLPLANE_TEMPORAL_ADDRESS": f"127.0.0.1:{ls.free_port()}",  # not used by a run read
                "CONTROLPLANE_LOG_LEVEL": "INFO",
            }
            settings = load_settings(env)
            seed(settings, admin_url=pg.extra["admin_url"], wait=30, skip_bucket=True, skip_transit=True)
            asyncio.run(migrate(settings, wait=30, phase="contract"))
            run_ids = [uuid.uuid4() for _ in range(RUNS)]
            db_url = pg.extra["admin_url"].rsplit("/", 1)[0] + "/" + settings.db_name
            with psycopg.connect(db_url, autocommit=True) as conn:
                now = datetime.now(UTC)
                for run_id in run_ids:
                    conn.execute(
                        "INSERT INTO runs (id, tenant, kind, status, workflow_id, created_at, updated_at,"
                        " completed_at) VALUES (%s, 'acme', 'evidence', 'completed', %s, %s, %s, %s)",
                        (run_id, f"run-acme-{run_id}", now, now, now),
                    )
            paths = [f"/v1/tenants/acme/runs/{r}" for r in run_ids]

            ports = {name: ls.free_port() for name in VARIANTS}
            metrics_ports = {"on": ls.free_port(), "metrics": ls.free_port()}
            scraped = {"CONTROLPLANE_METRICS_HOST": "127.0.0.1"}
            extra = {
                "on": scraped
                | {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.extra["endpoint"],
                    "OTEL_SERVICE_NAME": "controlplane-api-bench",
                    "CONTROLPLANE_METRICS_PORT": str(metrics_ports["on"]),
                },
                "metrics": scraped
                | {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "CONTROLPLANE_METRICS_PORT": str(metrics_ports["metrics"])},
                "spans": {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.extra["endpoint"],
                    "OTEL_SERVICE_NAME": "controlplane-api-bench-spans",
                    "OTEL_LOGS_EXPORTER": "none",
                    "CONTROLPLANE_METRICS_PORT": "0",
                },
                "off": {"OTEL_EXPORTER_OTLP_ENDPOINT": "", "CONTROLPLANE_METRICS_PORT": "0"},
            }
            procs = {name: spawn_api(env, ports[name], extra[name]) for name in VARIANTS}
            for name, proc in procs.items():
                wait_ready(f"http://127.0.0.1:{ports[name]}", proc)

            samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
            scrapers = {n: Scraper(f"http://127.0.0.1:{port}/metrics") for n, port in metrics_ports.items()}
            clients = {n: httpx.Client(base_url=f"http://127.0.0.1:{p}", trust_env=False) for n, p in ports.items()}
            try:
                for name in VARIANTS:
                    measure(clients[name], paths, WARMUP)
                for scraper in scrapers.values():
                    scraper.start()
                cpu_before = {n: cpu_seconds(p.pid) for n, p in procs.items()}
                for block in range(REQUESTS // BLOCK):
                    shift = block % len(VARIANTS)  # each variant goes first, second, third in turn
                    for name in VARIANTS[shift:] + VARIANTS[:shift]:
                        samples[name] += measure(clients[name], paths, BLOCK)
                cpu = {n: cpu_seconds(p.pid) - cpu_before[n] for n, p in procs.items()}
            finally:
                for scraper in scrapers.values():
                    scraper.halt.set()
                    scraper.join(10)
                for c in clients.values():
                    c.close()

            # the telemetry really was on: exemplars on the histogram, spans and log records at the receiver
            def exported(signal: str) -> int:
                records = read_jsonl(Path(otlp.extra["out"]), signal)
                return sum(1 for x in records if x["service"] == "controlplane-api-bench")

            deadline = time.monotonic() + 15
            while exported("log") < WARMUP + REQUESTS and time.monotonic() < deadline:  # an access line each
                time.sleep(0.2)
            spans, logs = exported("span"), exported("log")
            exemplars = scrapers["on"].last.count(" # {")
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for running in reversed(services):
                ls.stop(running)
            if services:
                ls.remove_postgres_data(services[0])

    n = len(samples["on"])
    print(f"telemetry: {n} requests per variant (interleaved in blocks of {BLOCK}), GET a run from PostgreSQL")
    print(
        f"telemetry on: {spans} spans and {logs} log records exported, {scrapers['on'].scrapes} OpenMetrics scrapes, "
        f"{exemplars} exemplars in the last scrape"
    )
    per = {name: cpu[name] / n * 1000 for name in cpu}  # CPU ms per request: the cost itself, whatever the load
    comparisons = (
        ("on", "spans", "metrics + exemplars + log export (the goal)", "spans exported only"),
        ("on", "off", "all telemetry, spans exported too", "off"),
        ("metrics", "off", "metrics + exemplars only", "off"),
    )
    for name, base, what, against in comparisons:
        for label, q in (("p50", 0.50), ("p99", 0.99)):
            on, off = percentile(samples[name], q), percentile(samples[base], q)
            verdict = "met" if on / off <= GOAL else "NOT met"
            print(
                f"API latency {label}, {what}: {on * 1000:6.2f} ms vs {against} {off * 1000:6.2f} ms = "
                f"{on / off:.2f}x ({verdict}: goal <= {GOAL:.2f}x)"
            )
        mean, mean_off = statistics.fmean(samples[name]), statistics.fmean(samples[base])
        print(
            f"API latency mean, {what}: {mean * 1000:6.2f} ms vs {against} {mean_off * 1000:6.2f} ms = "
            f"{mean / mean_off:.2f}x; CPU per request {per[name]:.2f} ms vs {per[base]:.2f} ms = "
            f"{per[name] / per[base]:.2f}x"
        )
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end of the run)")


if __name__ == "__main__":
    main()
