"""Temporal client adapter: connection with the OpenTelemetry TracingInterceptor, and the API's WorkflowStarter.

The interceptor on the client is inherited by a worker built from that client: the client's StartWorkflow span
(child of the HTTP request span) is the parent of the workflow's spans, whose StartActivity spans are the parents
of the activities' RunActivity spans, under which psycopg and botocore make their DB and S3 spans.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from controlplane.errors import DependencyError
from controlplane.settings import Settings

log = logging.getLogger(__name__)


async def connect(settings: Settings, *, lazy: bool = False) -> Any:
    from temporalio.client import Client
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        interceptors=[TracingInterceptor()],
        lazy=lazy,
    )


async def connect_with_retry(settings: Settings, stop: asyncio.Event, *, max_delay: float = 5.0) -> Any | None:
    """Connect, retrying with backoff while the server is not up yet; None when `stop` is set first."""
    delay = 0.2
    while not stop.is_set():
        try:
            return await connect(settings)
        except Exception as exc:  # the bridge raises RuntimeError("Failed client connect: ...")
            log.warning(
                "temporal at %s not reachable yet (%s); retrying in %.1fs",
                settings.temporal_address,
                type(exc).__name__,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, max_delay)
    return None


class TemporalWorkflows:
    """WorkflowStarter over a (lazy) Temporal client."""

    def __init__(self, client: Any, task_queue: str, *, rpc_timeout: float = 5.0) -> None:
        self.client = client
        self.task_queue = task_queue
        self.rpc_timeout = timedelta(seconds=rpc_timeout)

    async def start_run(self, workflow_id: str, payload: object) -> bool:
        from temporalio.common import WorkflowIDReusePolicy
        from temporalio.exceptions import WorkflowAlreadyStartedError

        from controlplane.workflows import WORKFLOW_NAME

        try:
            await self.client.start_workflow(
                WORKFLOW_NAME,
                payload,
                id=workflow_id,
                task_queue=self.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                rpc_timeout=self.rpc_timeout,
            )
        except WorkflowAlreadyStartedError:
            return False  # a replayed Idempotency-Key: the run's workflow exists (running or closed)
        except Exception as exc:
            raise DependencyError(f"workflow engine refused to start {workflow_id}: {_describe(exc)}") from None
        return True

    async def describe(self, workflow_id: str) -> str | None:
        from temporalio.service import RPCError, RPCStatusCode

        try:
            description = await self.client.get_workflow_handle(workflow_id).describe(rpc_timeout=self.rpc_timeout)
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                return None
            raise DependencyError(f"workflow engine: describe {workflow_id}: {_describe(exc)}") from None
        except Exception as exc:
            raise DependencyError(f"workflow engine: describe {workflow_id}: {_describe(exc)}") from None
        return description.status.name if description.status is not None else None

    async def ping(self) -> None:
        try:
            ok = await self.client.service_client.check_health(timeout=self.rpc_timeout)
        except Exception as exc:
            raise DependencyError(f"workflow engine unreachable: {_describe(exc)}") from None
        if not ok:
            raise DependencyError("workflow engine is not serving")


def _describe(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__
