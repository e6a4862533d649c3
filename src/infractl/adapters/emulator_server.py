"""Entry point of the local AWS emulator process: moto server, with infractl's fidelity patches applied first.

Run as `python -m infractl.adapters.emulator_server -H 127.0.0.1 -p PORT -c CERT -k KEY`. Patches for gaps in moto's
backends live here and in `infractl.adapters.emulator_patches` (one module per service), so the stacks never carry
emulator knobs. docs/emulator.md lists every gap and whether it is patched.
"""

from __future__ import annotations

import os
import sys

from infractl.adapters.emulator_patches.s3 import secure_transport_view

__all__ = ["TESTED_MOTO", "apply_patches", "main", "secure_transport_view"]

TESTED_MOTO = "5.2.1"  # the patches replace moto internals; pyproject pins this exact version


def apply_patches() -> None:
    """Close the gaps between moto and AWS that the stacks meet (docs/emulator.md lists them). Safe to call twice."""
    from infractl.adapters.emulator_patches import apply_all

    apply_all()


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    import moto
    from moto.server import main as moto_main

    if moto.__version__ != TESTED_MOTO:
        sys.stderr.write(
            f"infractl emulator: moto {moto.__version__} is not the tested {TESTED_MOTO}; the fidelity patches"
            " may not fit it (pip install 'infractl[emulator]' installs the tested version)\n"
        )
    apply_patches()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
