"""A small Alertmanager webhook receiver for local development and tests (where a team would route to a pager).

    python -m controlplane.devtools.alert_receiver --host 127.0.0.1 --port 9094 --out alerts.jsonl

- POST / (any path): an Alertmanager webhook payload (version 4). Each alert in it becomes one JSON line appended to
  --out: `status` (firing | resolved), `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`,
  plus the notification's `receiver` and `groupKey` and the time it arrived, `receivedAt` (UTC, ISO 8601).
- GET /alerts: the lines received, oldest first; `?status=firing` and `?alertname=NAME` narrow them down.
  `curl -s 127.0.0.1:9094/alerts | python -m json.tool`
- GET /healthz: 200 `{"status": "ok"}`.

Standard library only: it runs from the api image in compose and from the project's venv natively.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger("controlplane.alert_receiver")

MAX_BODY = 8 * 1024 * 1024
ALERT_FIELDS = ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")


def alert_records(payload: Any, received_at: str) -> list[dict[str, Any]]:
    """The alerts of one webhook payload as records; raises ValueError on a body that is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("alerts"), list):
        raise ValueError("not an Alertmanager webhook payload: no `alerts` list")
    out = []
    for alert in payload["alerts"]:
        if not isinstance(alert, dict):
            raise ValueError("an alert is not an object")
        record = {key: alert.get(key) for key in ALERT_FIELDS}
        record["labels"] = record["labels"] or {}
        record["annotations"] = record["annotations"] or {}
        record.update(receiver=payload.get("receiver"), groupKey=payload.get("groupKey"), receivedAt=received_at)
        out.append(record)
    return out


def read_alerts(path: Path, *, status: str | None = None, alertname: str | None = None) -> list[dict[str, Any]]:
    """The records a receiver wrote to `path`, oldest first, optionally only one status / alert name; a torn last
    line is skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if status and record.get("status") != status:
            continue
        if alertname and record.get("labels", {}).get("alertname") != alertname:
            continue
        out.append(record)
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], out: Path) -> None:
        super().__init__(address, Handler)
        self.out = out
        self.lock = threading.Lock()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch()

    def append(self, records: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(r, separators=(",", ":"), sort_keys=True) + "\n" for r in records)
        with self.lock, self.out.open("a", encoding="utf-8") as fh:
            fh.write(data)


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, indent=1).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        path = url.path.rstrip("/")
        if path == "/healthz":
            self._json(HTTPStatus.OK, {"status": "ok"})
        elif path == "/alerts":
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            alerts = read_alerts(self.server.out, status=query.get("status"), alertname=query.get("alertname"))
            self._json(HTTPStatus.OK, alerts)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no route {path}"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        body = self.rfile.read(length)
        try:
            records = alert_records(json.loads(body or b"null"), _now())
        except (ValueError, UnicodeDecodeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.server.append(records)
        for r in records:
            log.info("%s %s %s", r["status"], r["labels"].get("alertname"), json.dumps(r["labels"], sort_keys=True))
        self._json(HTTPStatus.OK, {"received": len(records)})


def serve(host: str, port: int, out: Path) -> Receiver:
    """Bind the receiver (port 0 = any free port; read `.server_address`); call serve_forever() to run it."""
    return Receiver((host, port), out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m controlplane.devtools.alert_receiver", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9094)
    parser.add_argument("--out", type=Path, required=True, help="JSON-lines file the alerts are appended to")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        server = serve(args.host, args.port, args.out)
    except OSError as exc:
        print(f"alert_receiver: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    log.info("Alertmanager webhook receiver listening on http://%s:%s, writing %s", host, port, args.out)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
