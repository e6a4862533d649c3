"""The request body limit, enforced before parsing (docs/runtime.md#request-bodies).

- A declared `Content-Length` above the limit is answered 413 at once: the app is not called, the body is not read.
- A body without `Content-Length` (chunked) is counted while the app reads it; the read that crosses the limit
  raises BodyTooLarge, so no more than the limit plus one chunk is ever buffered. FastAPI passes an HTTPException
  raised while it reads the body on to its handler: the answer is the same 413.
- Every 413 closes the connection (`Connection: close`): the unread rest of the body is never taken for a request.

Starlette's own RequestBodyLimitMiddleware was not used: it answers an oversized Content-Length with a text/plain
body that replaces the app's answer, and keeps the connection open.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers

CLOSE = (b"connection", b"close")


def _detail(limit: int) -> str:
    return f"request body larger than {limit} bytes (CONTROLPLANE_MAX_BODY_BYTES)"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, _detail(limit))


class BodyLimit:
    """Pure ASGI middleware: see the module docstring."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return

        received = 0
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def closing_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if message["status"] == 413:
                    message = {**message, "headers": [*message.get("headers", []), CLOSE]}
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        response = JSONResponse({"detail": _detail(self.limit)}, status_code=413, headers={"connection": "close"})
        await response(scope, receive, send)
