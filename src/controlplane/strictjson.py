"""Strict JSON request bodies (docs/runtime.md#request-bodies).

Python's `json.loads` accepts what JSON (RFC 8259) does not, and what the rest of the runtime cannot carry:
`NaN`/`Infinity`/`-Infinity` literals, numbers too large for a double (`1e400` becomes `inf`), duplicate keys (the
last one silently wins) and escaped lone surrogates (`"\\ud800"`, a `str` that cannot be encoded as UTF-8, so the
evidence document fails in the worker). `loads` refuses all of them while parsing, and `StrictJSONRoute` makes
FastAPI parse every JSON body with it, so nothing invalid reaches a workflow, the object store or the database.

A refused body is a 400 with one problem line (`{"detail": "invalid JSON body: ..."}`); a body that is valid JSON
but not a valid request stays FastAPI's 422.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

MAX_DEPTH = 64  # objects and arrays nested deeper than this are refused (no RecursionError anywhere downstream)


class StrictJSONError(ValueError):
    """The body is not strict JSON; the message is one line for the API's problem answer."""


def _constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise StrictJSONError(f"number {text[:40]} is out of range (not representable as a finite double)")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise StrictJSONError(f"duplicate key {_show(key)} in an object")
        result[key] = value
    return result


def _show(text: str) -> str:
    """A string for a message: escaped (a lone surrogate prints as \\ud800), quoted, cut at 60 characters."""
    shown = json.dumps(text[:60], ensure_ascii=True)
    return shown if len(text) <= 60 else shown[:-1] + '..."'


def _pointer(path: list[str | int]) -> str:
    """RFC 6901 JSON pointer of a location in the document ('' is the whole document)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path) or "/"


def _check(value: Any, path: list[str | int]) -> None:
    """Every string (keys included) is encodable as UTF-8 and the nesting is bounded; iterative, no recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            _utf8(item, where)
        elif isinstance(item, dict | list):
            if len(where) >= MAX_DEPTH:
                raise StrictJSONError(f"nested deeper than {MAX_DEPTH} levels at {_pointer(where)}")
            if isinstance(item, dict):
                for key, child in item.items():
                    _utf8(key, where, key=True)
                    stack.append((child, [*where, key]))
            else:
                stack.extend((child, [*where, i]) for i, child in enumerate(item))


def _utf8(text: str, where: list[str | int], *, key: bool = False) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = f"\\u{ord(text[exc.start]):04x}"
        what = f"key {_show(text)} in the object at {_pointer(where)}" if key else f"string at {_pointer(where)}"
        raise StrictJSONError(f"lone surrogate {bad} in the {what}: strings must be valid Unicode") from None


def loads(body: bytes | str) -> Any:
    """Parse strict JSON: UTF-8, no NaN/Infinity, finite numbers, unique keys, no lone surrogates, bounded depth.

    Raises StrictJSONError (a ValueError) with a one-line reason.
    """
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictJSONError(f"not UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})") from None
    else:
        text = body
    if text.startswith("\ufeff"):
        raise StrictJSONError("starts with a byte order mark")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, object_pairs_hook=_object)
    except StrictJSONError:
        raise
    except json.JSONDecodeError as exc:
        raise StrictJSONError(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise StrictJSONError(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise StrictJSONError(str(exc).splitlines()[0][:200]) from None
    _check(value, [])
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = loads(body)
            except StrictJSONError as exc:
                raise HTTPException(400, f"invalid JSON body: {exc}") from None
        return self._json


class StrictJSONRoute(APIRoute):
    """An APIRoute whose request body is parsed by `loads` (FastAPI's documented custom Request/APIRoute pattern)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
