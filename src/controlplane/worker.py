"""`python -m controlplane.worker`: the Temporal worker (run workflow + activities) and the outbox relay.

SIGTERM/SIGINT stop polling for new tasks, let running activities finish (up to 10 s), stop the relay, close the pool.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import timedelta

from controlplane import heartbeat, runtime
from controlplane._entry import run, settings_or_exit
from controlplane.activities import AfterCommit, RunActivities
from controlplane.adapters import temporal
from controlplane.adapters.postgres import PostgresEventSink, PostgresOutbox
from controlplane.relay import OutboxRelay
from controlplane.settings import Settings
from controlplane.telemetry import configure_logging, configure_telemetry, instruments
from controlplane.workflows import RunWorkflow

log = logging.getLogger("controlplane.worker")


async def run_worker(
    settings: Settings,
    stop: asyncio.Event,
    *,
    started: Callable[[], None] | None = None,
    after_commit: AfterCommit | None = None,
) -> None:
    """Serve the task queue and relay the outbox until `stop` is set. `started` is called once both run."""
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
        )
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=[RunWorkflow],
            activities=activities.all(),
            max_concurrent_activities=settings.db_pool_max,  # no more activities than DB connections
            graceful_shutdown_timeout=timedelta(seconds=10),
        )
        published = instruments().outbox_published
        outbox = PostgresOutbox(
            components.pool,
            on_published=lambda event, new: published.add(1, {"event.type": event.event_type, "duplicate": not new}),
        )
        relay = OutboxRelay(
            outbox, PostgresEventSink(components.pool), interval=settings.relay_interval, batch=settings.relay_batch
        )
        async with worker:
            relay_task = asyncio.create_task(relay.run(stop), name="outbox-relay")
            log.info("worker serving task queue %s on %s", settings.task_queue, settings.temporal_address)
            if started is not None:
                started()
            await stop.wait()
            await relay_task
        log.info("worker stopped")
    finally:
        await beat.stop()
        await components.close()


def main() -> int:
    settings = settings_or_exit("controlplane.worker")
    configure_logging(settings.log_level)
    telemetry = configure_telemetry(settings, "controlplane-worker")

    async def _serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(settings, stop)

    def body() -> int:
        try:
            asyncio.run(_serve())
        finally:
            telemetry.shutdown()
        return 0

    return run("controlplane.worker", body, hard_exit=True)


if __name__ == "__main__":
    raise SystemExit(main())
