"""The server: one API call at a time, as AWS makes each call atomic."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from infractl.adapters.emulator_patches import replace, wraps

# moto's backends are plain dicts and its server answers each request on its own thread, so two calls at once can
# interleave (an iteration over a dict another call is growing fails with a 500 after part of the call took effect).
_CALL = threading.RLock()


def serialized(orig: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(orig)
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        """Gap: moto is not thread-safe under its threaded server. Each request runs alone, its body built inside
        the lock (moto renders it from backend state)."""
        with _CALL:
            body = orig(self, environ, start_response)
            try:
                return [bytes(chunk) for chunk in body]
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

    return __call__


def apply() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    replace(DomainDispatcherApplication, "__call__", serialized)
