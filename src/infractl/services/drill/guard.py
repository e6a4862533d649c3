"""Whether a drill may run in an environment (the env model's recovery.drills): allowed; confirm (only with --yes);
refused (prod's default: a reviewed change to `confirm` allows it). Both drills ask this first."""

from __future__ import annotations

from typing import Any

from infractl.errors import RefusedError


def check(env: Any, drill: str, *, yes: bool) -> None:
    """env: models.environment.Environment. Raises RefusedError (exit 6) naming the setting and the fix."""
    setting = env.recovery.drills
    where = f"environments/{env.name}.yaml"
    if setting == "refused":
        raise RefusedError(
            f"infractl drill {drill}: drills are refused in {env.name} ({where}: recovery.drills: refused)",
            hint=f"a reviewed change setting recovery.drills: confirm in {where} allows them; then run with --yes",
        )
    if setting == "confirm" and not yes:
        raise RefusedError(
            f"infractl drill {drill}: {env.name} allows drills only when confirmed ({where}: recovery.drills: confirm)",
            hint="re-run with --yes",
        )
