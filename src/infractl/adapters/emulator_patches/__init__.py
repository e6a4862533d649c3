"""infractl's fidelity patches for moto, one module per AWS service.

Each module has an `apply()` that replaces a few moto attributes; `infractl.adapters.emulator_server.apply_patches()`
calls them all before the server starts. moto is imported only inside `apply()`, so importing this package is cheap.
The patches touch moto internals: pyproject pins the exact moto version they were tested with (docs/emulator.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

MARK = "_infractl_patched"


def replace(owner: Any, name: str, make: Callable[[Any], Any], *, layer: str = "") -> None:
    """Set owner.name to make(current value), once: a second call for the same attribute (and layer) does nothing.

    `make` receives the current attribute (None when absent), so wrappers can delegate to it. `layer`: a patch that
    wraps what another patch already replaced (s3_replication over s3_lock) names its own layer, so it is applied
    once on top instead of being taken for the first.
    """
    flag = f"{MARK}_{layer + '_' if layer else ''}{name}"
    if owner.__dict__.get(flag):
        return
    setattr(owner, name, make(owner.__dict__.get(name, getattr(owner, name, None))))
    setattr(owner, flag, True)


def wraps(orig: Any) -> Callable[[Any], Any]:
    """functools.wraps that keeps the wrapper's own docstring (it names the gap)."""
    return functools.wraps(orig, assigned=("__module__", "__name__", "__qualname__"))


def apply_all() -> None:
    from infractl.adapters.emulator_patches import (
        budgets,
        ec2,
        eks,
        elasticache,
        iam,
        kms,
        rds,
        s3,
        s3_config,
        s3_lock,
        s3_replication,
        server,
    )

    # s3_lock after s3_config: both wrap S3Response._bucket_response_put, the lock's refusals come first
    # s3_replication after s3_lock: it wraps the lock's complete_multipart_upload and delete_object
    for module in (server, s3, rds, budgets, eks, ec2, iam, kms, elasticache, s3_config, s3_lock, s3_replication):
        module.apply()
