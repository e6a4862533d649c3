"""Entry point of the local AWS emulator process: moto server, with infractl's fidelity patches applied first.

Run as `python -m infractl.adapters.emulator_server -H 127.0.0.1 -p PORT -c CERT -k KEY`. Patches for gaps in moto's
backends live here (and only here), so the stacks never carry emulator knobs.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def secure_transport_view(policy: str) -> str:
    """The bucket policy as it applies to a request made over TLS (the emulator serves only TLS).

    moto ignores policy conditions, so a standard TLS-only statement (Deny when aws:SecureTransport is false)
    denies everything. Here a statement conditioned on aws:SecureTransport is kept, without that condition,
    when the condition holds over TLS, and dropped when it does not. Other conditions are left to moto.
    """
    doc = json.loads(policy)
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept: list[dict[str, Any]] = []
    for statement in statements:
        condition = dict(statement.get("Condition") or {})
        bool_ops = dict(condition.get("Bool") or {})
        key = next((k for k in bool_ops if k.lower() == "aws:securetransport"), None)
        if key is not None:
            expected = bool_ops.pop(key)
            values = expected if isinstance(expected, list) else [expected]
            if "true" not in [str(v).lower() for v in values]:
                continue  # applies only to plain-HTTP requests, which never reach this emulator
            if bool_ops:
                condition["Bool"] = bool_ops
            else:
                condition.pop("Bool")
            statement = {k: v for k, v in statement.items() if k != "Condition"}
            if condition:
                statement["Condition"] = condition
        kept.append(statement)
    return json.dumps({**doc, "Statement": kept})


def apply_patches() -> None:
    """Close the gaps between moto and AWS that the stacks meet (docs/emulator.md lists them)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        raw = self.policy.decode() if isinstance(self.policy, bytes) else self.policy
        return IAMPolicy(secure_transport_view(raw)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import main as moto_main

    apply_patches()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
