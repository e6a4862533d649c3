"""The release header (docs/runtime.md#environment): with CONTROLPLANE_RELEASE set, every HTTP response of the api
carries `X-Controlplane-Release: <label>` — probes, errors and the 500 of an unhandled exception included — so a
client behind a traffic shifter (`infractl rollout`) sees which release answered it: locally the stable and the
canary api differ only by it.

`install` puts the middleware outside everything else, Starlette's ServerErrorMiddleware (which writes that 500)
and the OpenTelemetry middleware included: both live outside the stack `add_middleware` builds, so it wraps the
app's `build_middleware_stack` the way the OpenTelemetry instrumentation does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

HEADER = "X-Controlplane-Release"


class ReleaseHeader:
    """Pure ASGI middleware: adds the header to every HTTP response start (replacing one the app set)."""

    def __init__(self, app: Any, release: str) -> None:
        self.app = app
        self.value = release.encode("ascii")
        self.name = HEADER.lower().encode("ascii")

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_release(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != self.name]
                message = {**message, "headers": [*headers, (self.name, self.value)]}
            await send(message)

        await self.app(scope, receive, send_with_release)


def install(app: FastAPI, release: str) -> None:
    """Make ReleaseHeader the app's outermost middleware (call it after every other middleware is added)."""
    build = app.build_middleware_stack

    def build_middleware_stack() -> Any:
        return ReleaseHeader(build(), release)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
