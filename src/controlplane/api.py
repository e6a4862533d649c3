"""`python -m controlplane.api`: the HTTP API under uvicorn on CONTROLPLANE_API_HOST:CONTROLPLANE_API_PORT, and its
GET /metrics on CONTROLPLANE_METRICS_HOST:CONTROLPLANE_METRICS_PORT (controlplane.metrics; port 0 = no metrics)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from controlplane import metrics
from controlplane._entry import run, settings_or_exit
from controlplane.app import create_app
from controlplane.telemetry import configure_logging, configure_telemetry

log = logging.getLogger("controlplane.api")


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn re-raises the SIGTERM/SIGINT it handled once it has stopped, which kills the process before the
        last spans and metrics are exported. Here a signal is a normal stop: flush, then exit 0."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                yield
                self._captured_signals.clear()

    return Server


def main() -> int:
    settings = settings_or_exit("controlplane.api")
    configure_logging(settings.log_level)
    telemetry = configure_telemetry(settings, "controlplane-api")
    api_metrics = metrics.ApiMetrics() if settings.metrics_port else None

    def body() -> int:
        import uvicorn

        config = uvicorn.Config(
            create_app(settings, metrics=api_metrics),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # keep our handler (trace ids, redaction)
            proxy_headers=True,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
        server = _server_class()(config)
        metrics_server = None
        try:
            if api_metrics is not None:
                metrics_server = metrics.serve(api_metrics.registry, settings.metrics_host, settings.metrics_port)
                log.info("metrics on http://%s:%s/metrics", settings.metrics_host, metrics_server.port)
            server.run()
        finally:
            if metrics_server is not None:
                metrics_server.stop()
            telemetry.shutdown()
        return 0 if server.started else 1

    return run("controlplane.api", body, hard_exit=True)


if __name__ == "__main__":
    raise SystemExit(main())
