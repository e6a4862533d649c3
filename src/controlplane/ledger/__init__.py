"""The evidence ledger: append-only entries in PostgreSQL, chained by SHA-256 and signed, whose payloads live in the
WORM (Object Lock) bucket (docs/evidence.md).

- chain.py: the canonical encoding of an entry and its hash (pure);
- signers.py: who signs entry hashes and checkpoints (Vault/OpenBao transit, or a local Ed25519 key) and how a
  signature is checked offline;
- store.py: appending (one chain, whatever the number of appenders) and checkpoints, on a psycopg connection.

The runtime appends its run evidence through it; infractl appends its own actions and verifies the chain
(src/infractl/services/evidence/).
"""
