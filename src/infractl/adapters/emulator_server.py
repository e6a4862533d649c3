"""Entry point of the local AWS emulator process: moto server, with infractl's fidelity patches applied first.

Run as `python -m infractl.adapters.emulator_server -H 127.0.0.1 -p PORT -c CERT -k KEY`. Patches for gaps in moto's
backends live here (and only here), so the stacks never carry emulator knobs.
"""

from __future__ import annotations

import os
import sys


def apply_patches() -> None:
    """No patch is needed by the current stacks (docs/emulator.md lists the known gaps)."""


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    from moto.server import main as moto_main

    apply_patches()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
