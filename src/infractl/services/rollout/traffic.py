"""Probe traffic for a local rollout (docs/delivery.md#locally): a thread sending GETs at a steady rate through the
endpoint (or straight to a blue-green candidate to warm it), counting each answer by the release that served it (the
X-Controlplane-Release header) and every connection error. The request is a read of a run that does not exist: a 404,
counted by the SLIs like any request, with no side effect."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

PROBE_PATH = "/v1/tenants/rollout-probe/runs/00000000-0000-0000-0000-000000000000"
RELEASE_HEADER = "X-Controlplane-Release"
TIMEOUT_S = 10.0


@dataclass
class Tally:
    by_release: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)  # connection errors, one line each

    @property
    def sent(self) -> int:
        return sum(self.by_status.values()) + len(self.errors)

    @property
    def server_errors(self) -> int:
        return sum(n for code, n in self.by_status.items() if code >= 500)


class Client:
    """One keep-alive connection; a request on a connection the server closed is sent again on a new one only when
    nothing was received (http.client raises before the status line: RemoteDisconnected on a reused connection)."""

    def __init__(self, base_url: str) -> None:
        url = urllib.parse.urlsplit(base_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, str]:
        for attempt in (1, 2):
            fresh = self.conn is None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                response.read()
                return response.status, response.getheader(RELEASE_HEADER) or ""
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()
                if fresh or attempt == 2:  # a new connection failed: a real error
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def burst(base_url: str, n: int, path: str = PROBE_PATH) -> Tally:
    """n requests, one after the other, on one keep-alive connection."""
    tally, client = Tally(), Client(base_url)
    try:
        for _ in range(n):
            _one(client, path, tally)
    finally:
        client.close()
    return tally


def _one(client: Client, path: str, tally: Tally) -> None:
    try:
        status, release = client.get(path)
    except (OSError, http.client.HTTPException) as exc:  # http.client's errors are one or the other
        tally.errors.append(f"{type(exc).__name__}: {exc}")
        client.close()
        return
    tally.by_status[status] += 1
    tally.by_release[release] += 1


class Load:
    """`rps` requests per second to base_url from a background thread until stop(); `with Load(...) as load:`."""

    def __init__(self, base_url: str, rps: int, path: str = PROBE_PATH) -> None:
        self.base_url, self.rps, self.path = base_url, rps, path
        self.tally = Tally()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rollout-load", daemon=True)
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        if self.rps > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(TIMEOUT_S + 1)

    def snapshot(self) -> Tally:
        with self._lock:
            return Tally(Counter(self.tally.by_release), Counter(self.tally.by_status), list(self.tally.errors))

    def _run(self) -> None:
        client, period = Client(self.base_url), 1.0 / self.rps
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                local = Tally()
                _one(client, self.path, local)
                with self._lock:
                    self.tally.by_status.update(local.by_status)
                    self.tally.by_release.update(local.by_release)
                    self.tally.errors.extend(local.errors)
                next_at += period
                self._stop.wait(max(0.0, next_at - time.monotonic()))
                next_at = max(next_at, time.monotonic() - period)  # late: do not burst to catch up
        finally:
            client.close()
