"""The named exit codes of every infractl command (docs/errors.md)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # a tool or the cloud failed
    USAGE = 2  # wrong arguments or a missing confirmation
    CONFIG = 3  # an environment file or the stack manifest is invalid
    CHANGES_PRESENT = 4  # plan --detailed-exitcode found changes
    VERIFICATION_FAILED = 5  # a signature, provenance or SBOM does not verify (tampered, wrong key, missing)
    # a policy refuses the operation: a skipped stage, a missing approval, a digest not in the source, a contract step
    # while an old version runs
    REFUSED = 6
    GATE_FAILED = 7  # a security gate found a problem: a breaking API change, a secret, a workflow finding
    PARTIAL = 8  # a fan-out (migrations over tenants) finished with some targets failed; the others are done
    CONFLICT = 9  # it already exists (a tenant, its role or schema), or a backup is newer than what it restores into
    DRILL_FAILED = 10  # a drill ran and failed: a target missed, an effect lost or duplicated (its report says which)
    ROLLED_BACK = 11  # a rollout breached an SLO (or could not be judged) and its traffic went back to stable
    GATE_NOT_MET = 12  # a phase gate (infractl gate) has a criterion not met or stale: its verdict names which
    INTERNAL = 70  # a bug in infractl
    INTERRUPTED = 130  # Ctrl-C
