"""What every entry point (`python -m controlplane.api|worker|migrate`) does around its work."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from controlplane.errors import EXIT_CONFIG, EXIT_FAILURE, ControlPlaneError, SettingsError
from controlplane.settings import Settings, load_settings


def settings_or_exit(prog: str) -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"{prog}: {exc.render()}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def run(prog: str, body: Callable[[], int], *, hard_exit: bool = False) -> int:
    """Run body; a ControlPlaneError becomes one clear stderr message and exit 1.

    hard_exit: leave with os._exit once stdio is flushed. Temporal's Rust bridge threads can abort a clean
    interpreter shutdown (temporalio/sdk-python#300): the work is done and flushed, skip the teardown.
    """
    try:
        code = body()
    except ControlPlaneError as exc:
        logging.getLogger(prog).error("%s", exc.message)
        print(f"{prog}: {exc.render()}", file=sys.stderr)
        code = EXIT_FAILURE
    except KeyboardInterrupt:
        code = 130
    if hard_exit:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
