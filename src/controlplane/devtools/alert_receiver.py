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

import datetime as dt
import json
import logging
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from controlplane.devtools import jsonl_server
from controlplane.devtools.jsonl_server import JsonHandler, JsonlServer, read_jsonl

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
    return read_jsonl(
        path,
        lambda r: (
            (status is None or r.get("status") == status)
            and (alertname is None or r.get("labels", {}).get("alertname") == alertname)
        ),
    )


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Handler(JsonHandler):
    log = log
    max_body = MAX_BODY

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
        body = self._read_body()
        if body is None:
            return
        try:
            records = alert_records(json.loads(body or b"null"), _now())
        except (ValueError, UnicodeDecodeError) as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        self.server.append(records)
        for r in records:
            log.info("%s %s %s", r["status"], r["labels"].get("alertname"), json.dumps(r["labels"], sort_keys=True))
        self._json(HTTPStatus.OK, {"received": len(records)})


def serve(host: str, port: int, out: Path) -> JsonlServer:
    """Bind the receiver (port 0 = any free port; read `.server_address`); call serve_forever() to run it."""
    return JsonlServer((host, port), Handler, out)


def main(argv: list[str] | None = None) -> int:
    return jsonl_server.main(
        argv,
        module="alert_receiver",
        description=__doc__.split("\n")[0],
        default_port=9094,
        out_help="JSON-lines file the alerts are appended to",
        what="Alertmanager webhook receiver",
        serve=serve,
        log=log,
    )


if __name__ == "__main__":
    raise SystemExit(main())
