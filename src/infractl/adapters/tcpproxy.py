"""A TCP proxy on loopback that can be cut (`blackhole`) and healed: the network partition of `infractl drill
faults` (docs/drills.md). An asyncio server in a background thread listens on a free port of 127.0.0.1 and forwards
every connection to its target.

How a partition is emulated: a real partition makes packets vanish, and TCP retransmits them until the path comes
back or a side gives up (a timeout, a keepalive). So `blackhole()` stops forwarding in both directions on every open
connection without closing it: bytes stay in the kernel's buffers, the senders' windows fill and they block, exactly
as they do while their segments are lost. A new connection is accepted and held the same way (with a real partition
the SYN would be retransmitted instead; either way the client's connect/startup timeout is what fires). `heal()`
resumes forwarding on every connection still open: what the peers sent meanwhile arrives late, as after a healed
partition; a connection that a side closed while cut is closed through once the proxy sees it. Nothing is dropped
or reset by the proxy itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from dataclasses import dataclass, field

HOST = "127.0.0.1"
CHUNK = 64 * 1024


@dataclass
class ProxyStats:
    accepted: int = 0  # connections accepted
    open: int = 0  # connections open now
    failed: int = 0  # connections whose target refused or failed
    bytes_forwarded: int = 0
    partitions: int = 0  # blackhole() calls


@dataclass
class TcpProxy:
    """A proxy to target_host:target_port; `start()` it (or use it as a context manager), read `port`."""

    target_host: str
    target_port: int
    name: str = "proxy"
    listen_host: str = HOST
    port: int = 0  # set by start()
    stats: ProxyStats = field(default_factory=ProxyStats)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    _server: asyncio.AbstractServer | None = field(default=None, repr=False)
    _open: asyncio.Event | None = field(default=None, repr=False)  # set: forwarding; clear: blackholed
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, repr=False)
    _writers: set[asyncio.StreamWriter] = field(default_factory=set, repr=False)

    # --- lifecycle (called from any thread) -------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> TcpProxy:
        if self._thread is not None:
            return self
        ready = threading.Event()
        errors: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._listen())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._shutdown())
                loop.close()

        self._thread = threading.Thread(target=main, name=f"tcpproxy-{self.name}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or errors:
            self._thread = None
            raise OSError(f"{self.name}: proxy did not start: {errors[0] if errors else 'timeout'}")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listener and every connection; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._loop = None

    def blackhole(self) -> None:
        """Cut: nothing is forwarded any more in either direction; connections stay open (see the module doc)."""
        self._call(self._cut)

    def heal(self) -> None:
        """Resume forwarding on every connection still open, and for new ones."""
        self._call(self._heal)

    @property
    def cut(self) -> bool:
        return self._open is not None and not self._open.is_set()

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- inside the loop ------------------------------------------------------------------------------------------

    def _call(self, fn: object) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"{self.name}: proxy is not running")
        done = threading.Event()

        def run() -> None:
            try:
                fn()  # type: ignore[operator]
            finally:
                done.set()

        loop.call_soon_threadsafe(run)
        done.wait(5)

    def _cut(self) -> None:
        assert self._open is not None
        if self._open.is_set():
            self.stats.partitions += 1
        self._open.clear()

    def _heal(self) -> None:
        assert self._open is not None
        self._open.set()

    async def _listen(self) -> None:
        self._open = asyncio.Event()
        self._open.set()
        self._server = await asyncio.start_server(self._accept, self.listen_host, self.port, reuse_address=True)
        sock: socket.socket = self._server.sockets[0]
        self.port = sock.getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        self.stats.open += 1
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            assert self._open is not None
            await self._open.wait()  # cut: accepted, held, never forwarded until healed
            try:
                up_reader, upstream_writer = await asyncio.open_connection(self.target_host, self.target_port)
            except OSError:
                self.stats.failed += 1
                return
            self._writers.add(upstream_writer)
            await asyncio.gather(self._pump(reader, upstream_writer), self._pump(up_reader, writer))
        except asyncio.CancelledError:  # stop(): the connection ends with the proxy (not an error of the server)
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self._writers.discard(w)
                    with contextlib.suppress(Exception):
                        w.close()
            self.stats.open -= 1
            if task is not None:
                self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._open is not None
        try:
            while True:
                await self._open.wait()  # cut: stop reading, so the sender's window fills
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self._open.wait()  # cut while this chunk was read: it waits, never dropped
                writer.write(data)
                await writer.drain()
                self.stats.bytes_forwarded += len(data)
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._writers):
            with contextlib.suppress(Exception):
                w.close()
        for t in list(self._tasks):
            t.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
