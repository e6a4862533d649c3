"""`infractl evidence`: the tamper-evident ledger of an environment (docs/evidence.md).

access.py opens an env's ledger (its database, WORM bucket and signer); record.py appends (payloads first, then
entries, then checkpoints and keys to the bucket); verify.py checks it; retention.py disposes of expired payloads
and sets legal holds; seed.py makes synthetic evidence; export.py gives auditors entries with their proof;
actions.py makes infractl's own commands evidence (queued locally while the ledger is away)."""
