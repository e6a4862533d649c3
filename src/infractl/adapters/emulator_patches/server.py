"""The server: one API call at a time, as AWS makes each call atomic; a retried call answered once; every call
written to a request log; a call moto cannot serve answered at once with an error no SDK retries."""

from __future__ import annotations

import contextlib
import io
import json
import os
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl

from infractl.adapters.emulator_patches import replace, unimplemented, wraps

# moto's backends are plain dicts and its server answers each request on its own thread, so two calls at once can
# interleave (an iteration over a dict another call is growing fails with a 500 after part of the call took effect).
_CALL = threading.RLock()
# Where each request is logged as one JSON line (the emulator adapter sets it to <data_dir>/requests.jsonl).
REQUEST_LOG_ENV = "INFRACTL_EMULATOR_REQUEST_LOG"
_MAX_FORM_BYTES = 1 << 20  # query-protocol bodies (Action=…) are small; larger bodies are S3 objects


def _scope(environ: dict[str, Any]) -> tuple[str, str]:
    """(service, region) from the SigV4 credential scope (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`); the
    access key itself is not kept."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    _, found, rest = auth.partition("Credential=")
    parts = rest.split(",")[0].split("/") if found else []
    return (parts[3], parts[2]) if len(parts) >= 5 else ("", "")


def _operation(environ: dict[str, Any]) -> str:
    """The operation of a request without keeping any value of it: the JSON protocols' X-Amz-Target, the query
    protocols' Action (in the query string or a form body, which is buffered and put back), else the REST method
    and the names of its query parameters (`PUT ?tagging`): the path holds names (buckets, keys) and is left out."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rpartition(".")[2]
    action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    ctype = environ.get("CONTENT_TYPE", "")
    if not action and environ.get("REQUEST_METHOD") == "POST" and ctype.startswith("application/x-www-form-urlencoded"):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if 0 < length <= _MAX_FORM_BYTES:
            body = environ["wsgi.input"].read(length)
            environ["wsgi.input"] = io.BytesIO(body)
            action = parse_qs(body.decode("utf-8", "replace")).get("Action")
    if action:
        return action[0]
    names = sorted({name for name, _ in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)})
    return f"{environ.get('REQUEST_METHOD')} {'?' + '&'.join(names) if names else '/'}"


def _attempt(environ: dict[str, Any]) -> int:
    """The SDK's attempt number (`amz-sdk-request: attempt=2; max=25` on a retry; Go SDK v2 and botocore send it)."""
    for part in environ.get("HTTP_AMZ_SDK_REQUEST", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            return int(value)
    return 1


class RequestLog:
    """One JSON line per request: when, how long, which operation, which SDK attempt, the HTTP status and, for an
    error, its code. Nothing of the request's or response's values is written (no parameters, no bodies)."""

    def __init__(self, path: str) -> None:
        self._fh = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open for the server's life
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            self._fh.write(line)


_LOG: dict[str, RequestLog | None] = {}
_LOG_OPEN = threading.Lock()


def _request_log() -> RequestLog | None:
    path = os.environ.get(REQUEST_LOG_ENV) or ""
    with _LOG_OPEN:  # the first requests arrive together: one file handle
        if path not in _LOG:
            _LOG[path] = RequestLog(path) if path else None
        return _LOG[path]


def _error_code(status: int, body: bytes) -> str | None:
    """The error's code from an XML (`<Code>X</Code>`) or JSON (`"__type": "X"`) error body."""
    if status < 400:
        return None
    text = body[:4096].decode("utf-8", "replace")
    start = text.find("<Code>")
    if start >= 0:
        end = text.find("</Code>", start)
        return text[start + 6 : end] if 0 <= end - start - 6 <= 128 else None
    try:
        return str(json.loads(text).get("__type", "")).rpartition("#")[2] or None
    except (ValueError, AttributeError):
        return None


class _Answers:
    """The answers to the latest mutating calls, by the SDK's invocation id (the same on every attempt of one call).

    AWS answers a call once; an emulator starved of CPU may answer after the client gave up on the connection (or
    the answer may be lost on it), and the SDK then sends the call again. Executing it twice turns one `CreateRole`
    into `EntityAlreadyExists` (the old intermittent failures). A retry whose call already ran gets that call's
    answer again instead. Reads (GET and HEAD, and the Describe/Get/List… operations of the POST protocols) and answers
    of 5xx are not kept: running a read twice changes nothing, and a call that failed must run again."""

    def __init__(self, size: int = 4096, max_body: int = 1 << 20) -> None:
        self._kept: OrderedDict[str, tuple[str, list[tuple[str, str]], bytes]] = OrderedDict()
        self._size, self._max_body = size, max_body

    def get(self, invocation: str | None) -> tuple[str, list[tuple[str, str]], bytes] | None:
        return self._kept.get(invocation) if invocation else None

    def keep(self, environ: dict[str, Any], op: str, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        """Keep a mutating call's answer unless it failed on the server's side (5xx: the retry must run again)."""
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID")
        if not invocation or len(body) > self._max_body or not status[:1].isdigit() or int(status[:3]) >= 500:
            return
        if environ.get("REQUEST_METHOD") in ("GET", "HEAD") or op.startswith(READ_PREFIXES):
            return
        self._kept[invocation] = (status, list(headers), body)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)


_ANSWERS = _Answers()
READ_PREFIXES = ("Describe", "Get", "List", "Head", "Lookup", "Search", "Check")  # reads of the POST protocols
HEALTH_PATH = "/moto-api/"  # the emulator's health probe: moto's dashboard, which reads no backend


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


def _not_implemented(environ: dict[str, Any], op: str, detail: str, start_response: Any) -> bytes:
    """Answer a call moto raised NotImplementedError for: a 400 `NotImplemented` naming it (see unimplemented)."""
    service = _scope(environ)[0]
    text = unimplemented.message(service, unimplemented.action_name(op, detail), detail, _moto_version())
    status, headers, body = unimplemented.answer(environ, service, text)
    start_response(status, headers)
    return body


def serialized(orig: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(orig)
    def __call__(self: Any, environ: Any, start_response: Any) -> Any:
        """Gap: moto is not thread-safe under its threaded server, and runs a retried call again. Each request runs
        alone, its body built inside the lock (moto renders it from backend state); a retry of a call that already
        ran gets its answer again (_Answers); every request is written to the request log. An action moto lacks
        (NotImplementedError, an HTML 500 the SDKs retry for tens of minutes) is answered with a 400
        `NotImplemented` naming it, which they do not retry."""
        log = _request_log()
        answer: list[Any] = []  # [status, headers] as the app set them

        def recording_start_response(code: str, headers: Any, exc_info: Any = None) -> Any:
            answer[:] = [code, headers]
            return start_response(code, headers, exc_info) if exc_info else start_response(code, headers)

        began = time.time()
        op = _operation(environ) if environ else ""
        health = bool(environ) and environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == HEALTH_PATH
        entry: dict[str, Any] = {}
        if log is not None and environ:
            service, region = _scope(environ)
            entry = {
                "ts": round(began, 3),
                "thread": threading.get_ident(),
                "service": service,
                "region": region,
                "op": op,
                "attempt": _attempt(environ),
                "invocation": environ.get("HTTP_AMZ_SDK_INVOCATION_ID"),
            }
        start = began
        chunks: list[bytes] = []
        replayed = False
        try:
            with contextlib.nullcontext() if health else _CALL:  # the health probe waits behind no call
                start = time.time()
                kept = _ANSWERS.get(environ.get("HTTP_AMZ_SDK_INVOCATION_ID")) if environ else None
                if kept is not None:
                    replayed = True
                    recording_start_response(kept[0], list(kept[1]))
                    chunks = [kept[2]]
                else:
                    try:
                        body = orig(self, environ, recording_start_response)
                        try:
                            chunks = [bytes(chunk) for chunk in body]
                        finally:
                            close = getattr(body, "close", None)
                            if close is not None:
                                close()
                    except NotImplementedError as exc:
                        chunks = [_not_implemented(environ, op, str(exc), recording_start_response)]
                    if answer and environ:
                        _ANSWERS.keep(environ, op, answer[0], answer[1], b"".join(chunks))
        finally:
            if log is not None and entry:
                code = int(answer[0].split()[0]) if answer else 0  # 0: the app raised (werkzeug answers 500)
                entry.update(
                    status=code,
                    error=_error_code(code, b"".join(chunks)) if code else "unhandled exception",
                    replayed=replayed,
                    wait_ms=round((start - began) * 1000),
                    ms=round((time.time() - start) * 1000),
                )
                log.write(entry)
        return chunks

    return __call__


class _HandshakeOnFirstRead(ssl.SSLContext):
    """A server context whose sockets do the TLS handshake on their first read, in the connection's own thread."""

    def wrap_socket(self, sock: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["do_handshake_on_connect"] = False
        return super().wrap_socket(sock, *args, **kwargs)


def lazy_handshake(orig: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(orig)
    def load_ssl_context(cert_file: str, pkey_file: str | None = None, protocol: int | None = None) -> Any:
        """Gap: werkzeug's server does each TLS handshake in its accept loop, so one client slow to greet (a
        Terraform provider descheduled on a busy machine) stalls every new connection until the SDKs' handshake
        timeouts fire and they retry. Here each connection's handshake runs in its own thread."""
        ctx = _HandshakeOnFirstRead(protocol if protocol is not None else ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_file, pkey_file)
        return ctx

    return load_ssl_context


def known_services_only(orig: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(orig)
    def get_application(self: Any, environ: dict[str, Any]) -> Any:
        """Gap: a request for a service moto does not know (the provider sends every service to the emulator)
        fails inside moto with an AttributeError, an HTML 500 that the SDKs retry: it gets `NotImplemented`."""
        try:
            return orig(self, environ)
        except Exception:
            host = self.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
            if host is not None and self.get_backend_for_host(host):
                raise
            service, op, method = _scope(environ)[0], _operation(environ), environ.get("REQUEST_METHOD", "")
            if op.startswith(f"{method} "):  # a REST call: its path names the operation
                op = f"{method} {environ.get('PATH_INFO', '/')}"
            return unimplemented.unknown_service_app(service, op, _moto_version())

    return get_application


def apply() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from werkzeug import serving

    replace(DomainDispatcherApplication, "__call__", serialized)
    replace(DomainDispatcherApplication, "get_application", known_services_only)
    replace(serving, "load_ssl_context", lazy_handshake)
