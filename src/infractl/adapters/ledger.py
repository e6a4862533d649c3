"""The evidence ledger of the runtime (src/controlplane/ledger/: its encoding, signers and appends), as infractl
uses it: the one module importing it, so both write one chain the same way (docs/evidence.md)."""

from __future__ import annotations

from controlplane.ledger import chain, objects, signers, store

__all__ = ["chain", "objects", "signers", "store"]
