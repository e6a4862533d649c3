"""/readyz: every dependency probed in parallel, each under its own timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from controlplane.models import CheckResult, Readiness
from controlplane.redaction import SECRETS

Check = Callable[[], Awaitable[None]]


async def _run(check: Check, timeout: float) -> CheckResult:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return CheckResult(status="error", latency_ms=_ms(started), error=f"no answer within {timeout:g}s")
    except Exception as exc:
        return CheckResult(status="error", latency_ms=_ms(started), error=SECRETS.redact(describe(exc))[:300])
    return CheckResult(status="ok", latency_ms=_ms(started))


def describe(exc: BaseException) -> str:
    """One line: the error's own message (ControlPlaneError.message) or first line, else its class name."""
    text = getattr(exc, "message", None) or (str(exc).splitlines() or [""])[0]
    return str(text) if text else type(exc).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


async def check_all(checks: Mapping[str, Check], timeout: float) -> Readiness:
    names = list(checks)
    results = await asyncio.gather(*(_run(checks[n], timeout) for n in names))
    by_name = dict(zip(names, results, strict=True))
    ready = all(r.status == "ok" for r in results)
    return Readiness(status="ready" if ready else "unready", checks=by_name)
