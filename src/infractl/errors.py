"""One error hierarchy. The CLI boundary (cli/main.py) maps each class to its exit code."""

from __future__ import annotations

from collections.abc import Sequence

from infractl.exit_codes import ExitCode


class InfractlError(Exception):
    """Base of every error infractl reports to the user: a message, optional detail lines and a hint."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, *, details: Sequence[str] = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)
        self.hint = hint


class UsageError(InfractlError):
    exit_code = ExitCode.USAGE


class ConfigError(InfractlError):
    """An input file is invalid. `details` are `file: field: problem` lines."""

    exit_code = ExitCode.CONFIG


class ExternalToolError(InfractlError):
    """An external program failed."""


class CommandError(ExternalToolError):
    """A process exited non-zero: carries the argv, the return code and the tail of its stderr."""

    def __init__(self, argv: Sequence[str], returncode: int, stderr_tail: str, *, message: str | None = None):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        name = self.argv[0].rsplit("/", 1)[-1] if self.argv else "command"
        sub = f" {self.argv[1]}" if len(self.argv) > 1 else ""
        super().__init__(
            message or f"{name}{sub} exited with {returncode}",
            details=[line for line in stderr_tail.splitlines() if line.strip()],
        )


class RegistryError(ExternalToolError):
    """A container registry refused or failed a request (the local registry or ECR)."""


class VerificationError(InfractlError):
    """A signature, provenance statement or SBOM does not verify: tampered, signed by another key, or missing."""

    exit_code = ExitCode.VERIFICATION_FAILED


class RefusedError(InfractlError):
    """A policy refuses the operation (a skipped stage, a missing approval, a digest not in the source)."""

    exit_code = ExitCode.REFUSED


class GateFailed(InfractlError):
    """A security gate found problems; `details` are one finding per line (file:line: what)."""

    exit_code = ExitCode.GATE_FAILED


class MigrationIncomplete(InfractlError):
    """A migration fan-out finished with some targets failed: the others are done; a re-run continues."""

    exit_code = ExitCode.PARTIAL


class ConflictError(InfractlError):
    """What is being created already exists (a tenant, a role, a schema), or a backup is newer than its target."""

    exit_code = ExitCode.CONFLICT


class DrillFailed(InfractlError):
    """A drill ran to its end and failed (docs/drills.md): its report, written anyway, names each failure."""

    exit_code = ExitCode.DRILL_FAILED


class GateNotMet(InfractlError):
    """A phase gate's verdict (docs/gates.md): a criterion is not met or its evidence is stale; `details` name each,
    with the evidence that decided it."""

    exit_code = ExitCode.GATE_NOT_MET


class RolledBack(InfractlError):
    """A rollout was rolled back (docs/delivery.md): a step breached an SLO, or could not be judged, or it was
    aborted; the traffic is on stable again and the state says why."""

    exit_code = ExitCode.ROLLED_BACK


class CloudError(InfractlError):
    """The cloud (or the emulator) refused or failed a request."""


class StateLockedError(CloudError):
    """The Terraform state of a stack is locked by another run."""

    def __init__(self, *, env: str, stack: str, lock_id: str, who: str, operation: str, created: str):
        self.lock_id = lock_id
        super().__init__(
            f"state of {env}/{stack} is locked by {who or 'another run'}"
            f" ({operation or 'unknown operation'} since {created or 'an unknown time'}, lock ID {lock_id})",
            hint=f"if that run is gone, release the lock: infractl state unlock {env} {stack} {lock_id}",
        )
