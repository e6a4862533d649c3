"""The runtime's errors. Messages never carry a secret value (they are shown in API responses and logs)."""

from __future__ import annotations

from collections.abc import Sequence

# Exit codes of the entry points, aligned with infractl's ExitCode (docs/errors.md).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 3


class ControlPlaneError(Exception):
    def __init__(self, message: str, *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)

    def render(self) -> str:
        return "\n".join([self.message, *(f"  {line}" for line in self.details)])


class SettingsError(ControlPlaneError):
    """The environment does not describe a usable runtime: one `VARIABLE: problem` line per mistake."""


class DependencyError(ControlPlaneError):
    """A backing service (database, Temporal, object store, secrets backend) refused or did not answer."""


class SecretsError(DependencyError):
    """The secrets backend refused a login or a read, or a secret lacks a key."""
