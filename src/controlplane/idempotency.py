"""The Idempotency-Key contract of POST /v1/tenants/{tenant}/runs (docs/runtime.md#idempotency-key).

A client that may send a request twice (a retry after a timeout, a replayed queue message) sends the same
`Idempotency-Key` with it. The first request binds the key, per tenant, to its run id and to a SHA-256 of its body
(`idempotency_keys`, PostgreSQL, claimed with INSERT ... ON CONFLICT); every request with that key until the record
expires answers with that same run, and a different body under the key is refused with 422.
"""

from __future__ import annotations

import hashlib
import json

from fastapi.exceptions import RequestValidationError

from controlplane.models import StartRunRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"  # "true" on an answer that repeats an earlier request's run
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # 1-255 visible ASCII characters (a UUID is a good key)
HEADER_DESCRIPTION = (
    "Makes the request safe to retry. The first request with a key binds it, for this tenant, to its run and its body "
    "for CONTROLPLANE_IDEMPOTENCY_KEY_TTL (24 h by default); any request with the same key and the same body (also "
    "concurrent ones) answers 202 with that run and `Idempotent-Replayed: true`, and starts nothing. The same key with "
    "a different body is a 422 (`type` `idempotency_key_reused`). 1-255 visible ASCII characters."
)


def fingerprint(body: StartRunRequest) -> str:
    """SHA-256 of the request's canonical JSON (defaults applied, sorted keys): key order and spacing do not count."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def reused(key: str) -> RequestValidationError:
    """The 422 for a key first used with another body, shaped like FastAPI's own validation errors."""
    return RequestValidationError(
        [
            {
                "type": "idempotency_key_reused",
                "loc": ("header", HEADER),
                "msg": (
                    f"{HEADER} {key!r} was already used with a different request body for this tenant; "
                    "send the original body to get its run, or use a new key for a new run"
                ),
                "input": key,
            }
        ]
    )
