"""Calls the emulator cannot serve: answered at once with an error that names the call and that no SDK retries.

moto raises `NotImplementedError` for an action it lacks (`GetParametersForImport`, `DeleteCacheSubnetGroup`, …) or a
feature of an action it has, and fails with an AttributeError on a service it does not know at all. Its server turns
both into an HTML 500, and a 500 is what the SDKs retry (botocore and the Go SDK v2 retry 500/502/503/504 and the
throttling codes): a Terraform apply hung 21 minutes on one such call. Here the answer is a 400 with the error code
`NotImplemented`, in the error shape of the service's protocol, so the SDK parses it, does not retry it and Terraform
prints the message: which service and action the emulator lacks.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

CODE = "NotImplemented"
STATUS = "400 Bad Request"
# The REST services whose errors are XML (botocore's `rest-xml` protocol), by SigV4 signing name; every other REST
# service answers JSON. tests/unit/test_emulator_patches.py derives this set from botocore's service models.
REST_XML_SIGNING_NAMES = frozenset({"cloudfront", "route53", "s3"})
_MOTO_ACTION = re.compile(r"The (\w+) action has not been implemented")


def protocol(environ: dict[str, Any], service: str) -> str:
    """The error shape a client of this request expects: `json`, `ec2`, `query`, `rest-xml` or `rest-json`."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    ctype = environ.get("CONTENT_TYPE", "")
    if ctype.startswith("application/x-www-form-urlencoded") or "Action" in parse_qs(environ.get("QUERY_STRING", "")):
        return "ec2" if service == "ec2" else "query"
    return "rest-xml" if service in REST_XML_SIGNING_NAMES else "rest-json"


def action_name(op: str, detail: str) -> str:
    """The action to name: moto's own (`The get_parameters_for_import action …` → GetParametersForImport), else the
    operation the request log names (an action of the POST protocols, `PUT ?requestPayment` for REST calls)."""
    found = _MOTO_ACTION.search(detail)
    if found:
        return "".join(part.capitalize() for part in found.group(1).split("_"))
    return op


def message(service: str, action: str, detail: str, moto_version: str) -> str:
    text = f"{service or 'this service'} {action} is not implemented by the AWS emulator (moto {moto_version})"
    if detail and not _MOTO_ACTION.search(detail):
        text += f": {detail}"
    return text + "; see docs/emulator.md"


def answer(environ: dict[str, Any], service: str, text: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status, headers, body) of a `NotImplemented` error in the request's protocol."""
    request_id = str(uuid.uuid4())
    kind = protocol(environ, service)
    headers = [("x-amzn-RequestId", request_id), ("x-amz-request-id", request_id)]
    if kind in ("json", "rest-json"):
        ctype = environ.get("CONTENT_TYPE", "")
        ctype = ctype if kind == "json" and ctype.startswith("application/x-amz-json") else "application/json"
        headers += [("Content-Type", ctype), ("x-amzn-ErrorType", CODE)]
        body = json.dumps({"__type": CODE, "code": CODE, "message": text, "Message": text}).encode()
    else:
        error = f"<Code>{CODE}</Code><Message>{escape(text)}</Message>"
        if kind == "ec2":
            xml = f"<Response><Errors><Error>{error}</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        elif kind == "rest-xml" and service == "s3":
            xml = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
        else:
            xml = (
                f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>"
            )
        headers.append(("Content-Type", "text/xml"))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
    headers.append(("Content-Length", str(len(body))))
    return STATUS, headers, body


def unknown_service_app(service: str, op: str, moto_version: str) -> Any:
    """A WSGI app answering every request of a service moto does not know with `NotImplemented`."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        text = message(service, op, "moto has no such service", moto_version)
        status, headers, body = answer(environ, service, text)
        start_response(status, headers)
        return [body]

    return app
