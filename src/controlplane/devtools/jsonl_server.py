"""What the local receivers share (otlp_receiver, alert_receiver): a threaded HTTP server that appends JSON records
to a JSON-lines file, its JSON handler, reading the file back, and the `python -m` entry point. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def read_jsonl(path: Path, keep: Callable[[dict[str, Any]], bool] | None = None) -> list[dict[str, Any]]:
    """The records a receiver wrote to `path`, oldest first (only those `keep` accepts); a torn last line is
    skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if keep is None or keep(record):
            out.append(record)
    return out


class JsonlServer(ThreadingHTTPServer):
    """Appends records to `out`, one JSON line each, from any handler thread."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], out: Path) -> None:
        super().__init__(address, handler)
        self.out = out
        self.lock = threading.Lock()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch()

    def append(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        data = "".join(json.dumps(r, separators=(",", ":"), sort_keys=True, default=str) + "\n" for r in records)
        with self.lock, self.out.open("a", encoding="utf-8") as fh:
            fh.write(data)


class JsonHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 with JSON answers; request lines logged at DEBUG on the class's `log`."""

    server: JsonlServer
    protocol_version = "HTTP/1.1"
    log = logging.getLogger("controlplane.devtools")
    max_body = 64 * 1024 * 1024

    def log_message(self, format: str, *args: Any) -> None:
        self.log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload, indent=1).encode())

    def _read_body(self) -> bytes | None:
        """The request body; None (after answering 413) when it is over max_body."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > self.max_body:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return None
        return self.rfile.read(length)


def main(
    argv: list[str] | None,
    *,
    module: str,
    description: str,
    default_port: int,
    out_help: str,
    what: str,
    serve: Callable[[str, int, Path], JsonlServer],
    log: logging.Logger,
) -> int:
    """`python -m controlplane.devtools.<module> --host H --port P --out FILE`: serve until interrupted."""
    parser = argparse.ArgumentParser(prog=f"python -m controlplane.devtools.{module}", description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--out", type=Path, required=True, help=out_help)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        server = serve(args.host, args.port, args.out)
    except OSError as exc:
        print(f"{module}: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    log.info("%s listening on http://%s:%s, writing %s", what, host, port, args.out)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
