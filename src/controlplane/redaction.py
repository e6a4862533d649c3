"""Keep secret values out of logs and spans (docs/runtime.md#secrets).

The secret store registers every value it reads (and the Vault token it logs in with) in the process-wide
`SECRETS` registry. Three guards use it:

- `install_log_redaction()` wraps the logging record factory: every record, whatever handler later receives it,
  is formatted once at creation and any registered value in its message or traceback becomes `[REDACTED]`.
- `RedactingSpanExporter` (telemetry.py) scrubs span names, attributes, events and status messages before export.
- `OtlpLogHandler` (telemetry.py) redacts every exported log record's body and exception texts again at export
  (a value registered after the record was made is masked there too).

They are a second line: the code never puts a secret in a log call, a span attribute, an exception message or an
API response in the first place, and the DB instrumentation never records SQL parameters.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

MASK = "[REDACTED]"
MIN_LENGTH = 6  # shorter values would mask ordinary words; secrets that short are not worth the name


class SecretRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()

    def add(self, *values: object) -> None:
        new = {str(v) for v in values if v is not None and len(str(v)) >= MIN_LENGTH}
        if not new - set(self._values):
            return
        with self._lock:
            # longest first, so a secret that contains another one is masked whole
            self._values = tuple(sorted(set(self._values) | new, key=len, reverse=True))

    def add_mapping(self, data: dict[str, Any]) -> None:
        self.add(*(v for v in data.values() if isinstance(v, str | int)))

    def clear(self) -> None:
        with self._lock:
            self._values = ()

    def __contains__(self, value: object) -> bool:
        return str(value) in self._values

    def __len__(self) -> int:
        return len(self._values)

    def redact(self, text: str) -> str:
        values = self._values
        if not values or not text:
            return text
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    def redact_any(self, value: Any) -> Any:
        """Redact a str, or the strings inside a list/tuple (span attribute values); other values unchanged."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list | tuple):
            return type(value)(self.redact(v) if isinstance(v, str) else v for v in value)
        return value

    def contains_secret(self, text: str) -> bool:
        return any(v in text for v in self._values)


SECRETS = SecretRegistry()

_installed = False
_install_lock = threading.Lock()


def _redact_record(record: logging.LogRecord, registry: SecretRegistry) -> logging.LogRecord:
    if not len(registry):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: leave it to the handler to report
        return record
    redacted = registry.redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = registry.redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = registry.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = registry.redact(record.stack_info)
    return record


def install_log_redaction(registry: SecretRegistry = SECRETS) -> None:
    """Redact registered secret values from every log record created from now on (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return _redact_record(previous(*args, **kwargs), registry)

        logging.setLogRecordFactory(factory)
        _installed = True


class RedactingFilter(logging.Filter):
    """The same redaction as a handler filter, for handlers that receive records made elsewhere (e.g. a queue)."""

    def __init__(self, registry: SecretRegistry = SECRETS) -> None:
        super().__init__()
        self.registry = registry

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record, self.registry)
        return True


def redact_all(texts: Iterable[str], registry: SecretRegistry = SECRETS) -> list[str]:
    return [registry.redact(t) for t in texts]
