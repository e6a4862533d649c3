"""`python -m controlplane.worker`: the Temporal worker (run workflow + activities), the outbox relay, the evidence
chain check (controlplane.chaincheck), and GET /metrics on CONTROLPLANE_METRICS_PORT (controlplane.metrics).

SIGTERM/SIGINT stop polling for new tasks, let running activities finish (up to 10 s), stop the relay and the chain
check, close the pool, stop the metrics server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import timedelta

from controlplane import heartbeat, metrics, runtime
from controlplane._entry import run, settings_or_exit
from controlplane.activities import AfterCommit, RunActivities
from controlplane.adapters import temporal
from controlplane.adapters.postgres import PostgresEventSink, PostgresOutbox
from controlplane.chaincheck import ChainCheck
from controlplane.relay import OutboxRelay
from controlplane.settings import Settings
from controlplane.telemetry import configure_logging, configure_telemetry
from controlplane.workflows import WORKFLOW_NAME, RunWorkflow

log = logging.getLogger("controlplane.worker")


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    started: Callable[[], None] | None = None,
    after_commit: AfterCommit | None = None,
    worker_metrics: metrics.WorkerMetrics | None = None,
) -> None:
    """Serve the task queue, relay the outbox and check the evidence chain until `stop` is set. `started` is called
    once they run. `worker_metrics`: where the worker's metrics go (None: no metrics are recorded)."""
    from temporalio.worker import Worker

    components = runtime.build(settings, application_name="controlplane-worker")
    await components.open()
    beat = heartbeat.start(components.pool, "worker", settings.heartbeat_seconds)
    try:
        client = await temporal.connect_with_retry(settings, stop)
        if client is None:
            return
        activities = RunActivities(
            components.store,
            components.objects,
            components.ids,
            components.ledger,
            retention=components.ledger.retention,
            after_commit=after_commit,
            metrics=worker_metrics,
        )
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[RunWorkflow],
            activities=activities.all(),
            max_concurrent_activities=settings.db_pool_max,  # no more activities than DB connections
            graceful_shutdown_timeout=timedelta(seconds=10),
            interceptors=[metrics.ActivityMetricsInterceptor(worker_metrics)] if worker_metrics else [],
        )
        outbox = PostgresOutbox(components.pool, on_published=_count_published(worker_metrics))
        relay = OutboxRelay(
            outbox, PostgresEventSink(components.pool), interval=settings.relay_interval, batch=settings.relay_batch
        )
        async with worker:
            tasks = [asyncio.create_task(relay.run(stop), name="outbox-relay")]
            if settings.evidence_verify_interval_s:
                check = ChainCheck(components.pool, worker_metrics)
                tasks.append(
                    asyncio.create_task(check.run(settings.evidence_verify_interval_s, stop), name="evidence-check")
                )
            log.info("worker serving task queue %s on %s", settings.task_queue, settings.temporal_address)
            if started is not None:
                started()
            await stop.wait()
            await asyncio.gather(*tasks)
        log.info("worker stopped")
    finally:
        await beat.stop()
        await components.close()


def _count_published(worker_metrics: metrics.WorkerMetrics | None) -> Callable[[object, bool], None] | None:
    if worker_metrics is None:
        return None
    counter = worker_metrics.outbox_published

    def published(_event: object, _new: bool) -> None:
        counter.inc()

    return published


def main() -> int:
    settings = settings_or_exit("controlplane.worker")
    configure_logging(settings.log_level)
    telemetry = configure_telemetry(settings, "controlplane-worker")
    worker_metrics = metrics.WorkerMetrics(workflows=[WORKFLOW_NAME]) if settings.metrics_port else None

    async def _serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop, worker_metrics=worker_metrics)

    def body() -> int:
        server = None
        try:
            if worker_metrics is not None:
                server = metrics.serve(worker_metrics.registry, settings.metrics_host, settings.metrics_port)
                log.info("metrics on http://%s:%s/metrics", settings.metrics_host, server.port)
            asyncio.run(_serve())
        finally:
            if server is not None:
                server.stop()
            telemetry.shutdown()
        return 0

    return run("controlplane.worker", body, hard_exit=True)


if __name__ == "__main__":
    raise SystemExit(main())
