"""Prometheus' HTTP query API (instant queries, raw samples of a range selector), over urllib: the rollout's analysis
asks the dev stack's Prometheus (docs/delivery.md#analysis). Never through an HTTP proxy (loopback)."""

from __future__ import annotations

import http.client
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from infractl.errors import ExternalToolError

TIMEOUT_S = 10.0


def _get(base_url: str, path: str, params: dict[str, str], timeout: float) -> Any:
    url = f"{base_url.rstrip('/')}{path}?{urllib.parse.urlencode(params)}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        raise ExternalToolError(f"Prometheus at {base_url} refused the query ({exc.code}): {detail}") from None
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise ExternalToolError(
            f"Prometheus at {base_url} did not answer: {exc}", hint="is the dev stack up? infractl dev status"
        ) from None
    if body.get("status") != "success":
        raise ExternalToolError(f"Prometheus at {base_url}: {body.get('errorType')}: {body.get('error')}")
    return body["data"]


def scalar(base_url: str, expr: str, *, timeout: float = TIMEOUT_S) -> float | None:
    """The value of an instant query that yields at most one series; None for no series or NaN (no data)."""
    data = _get(base_url, "/api/v1/query", {"query": expr}, timeout)
    result = data.get("result") or []
    if data.get("resultType") == "scalar":
        result = [{"value": result}]
    if not result:
        return None
    if len(result) > 1:
        raise ExternalToolError(f"Prometheus: {expr} gave {len(result)} series, expected one")
    value = float(result[0]["value"][1])
    return None if math.isnan(value) else value


def samples(base_url: str, selector: str, window: str, *, timeout: float = TIMEOUT_S) -> list[tuple[datetime, float]]:
    """The raw samples of `selector[window]` (every series, merged, by time)."""
    data = _get(base_url, "/api/v1/query", {"query": f"{selector}[{window}]"}, timeout)
    points = [(float(t), float(v)) for series in data.get("result") or [] for t, v in series.get("values") or []]
    return [(datetime.fromtimestamp(t, UTC), v) for t, v in sorted(points)]


def series(
    base_url: str, expr: str, start: datetime, end: datetime, step_s: float, *, timeout: float = TIMEOUT_S
) -> list[tuple[datetime, float]]:
    """A range query of an expression that yields at most one series: its (time, value) points, NaN left out."""
    params = {
        "query": expr,
        "start": f"{start.timestamp():.3f}",
        "end": f"{end.timestamp():.3f}",
        "step": f"{step_s:g}",
    }
    data = _get(base_url, "/api/v1/query_range", params, timeout)
    out = []
    for item in data.get("result") or []:
        for t, v in item.get("values") or []:
            if not math.isnan(float(v)):
                out.append((datetime.fromtimestamp(float(t), UTC), float(v)))
    return sorted(out)
