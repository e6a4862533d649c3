"""Every infractl command is one span and two metric points (docs/observability.md#infractl): the span
`infractl <command path>` with the command and the exit code; the histogram
`infractl.command.duration` and the counter `infractl.command.invocations`. Exported over OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set; nothing is made otherwise.

Only the command path is recorded: arguments and option values never are (they may carry secrets, and without the
parser a value cannot be told from an argument).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from infractl.adapters import otel

SERVICE_NAME = "infractl"


def command_path(argv: Sequence[str], groups: set[str]) -> list[str]:
    """The command words of argv (`["tenant", "create"]`); global options before them are skipped, and so is the
    value of the one global option that takes one (`--root DIR`)."""
    words: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        opt = rest.pop(0)
        if opt == "--root" and rest:
            rest.pop(0)
    if rest:
        words.append(rest.pop(0))
        if words[0] in groups and rest and not rest[0].startswith("-"):
            words.append(rest.pop(0))
    return words


@dataclass
class Tracking:
    code: int | None = None  # the command's exit code, set by the caller
    problem: str | None = None  # set when the export failed


@contextlib.contextmanager
def command(argv: Sequence[str], groups: set[str], environ: Mapping[str, str] | None = None) -> Iterator[Tracking]:
    """Wrap one command. Yields a Tracking whose `code` the caller sets to the command's exit code; after the block,
    its `problem` says whether the export failed."""
    environ = os.environ if environ is None else environ
    endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    tracking = Tracking()
    if not endpoint:
        yield tracking
        return
    from infractl import __version__

    words = command_path(argv, groups)
    name = " ".join(["infractl", *words])
    attributes = {"infractl.command": " ".join(words) or "-"}
    session = otel.start(endpoint, environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME, __version__)
    started = time.perf_counter()
    try:
        with session.span(name, attributes) as span:
            try:
                yield tracking
            finally:
                code = 1 if tracking.code is None else int(tracking.code)
                span.set_attribute("infractl.exit_code", code)
                if code != 0:
                    from opentelemetry.trace import Status, StatusCode

                    span.set_status(Status(StatusCode.ERROR, f"exit code {code}"))
                session.record(
                    time.perf_counter() - started,
                    {"infractl.command": attributes["infractl.command"], "exit_code": code},
                )
    finally:
        failed = session.close()
        if failed:  # the command's own result stands; the caller says once why the collector shows nothing
            tracking.problem = f"telemetry: could not export {' and '.join(dict.fromkeys(failed))} to {endpoint}"
