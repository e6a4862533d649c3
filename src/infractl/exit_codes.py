"""The named exit codes of every infractl command (docs/errors.md)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a tool or the cloud failed
    USAGE = 2  # wrong arguments or a missing confirmation
    CONFIG = 3  # an environment file or the stack manifest is invalid
    CHANGES_PRESENT = 4  # plan --detailed-exitcode found changes
    INTERNAL = 70  # a bug in infractl
    INTERRUPTED = 130  # Ctrl-C
