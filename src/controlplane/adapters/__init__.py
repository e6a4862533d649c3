"""Adapters: the I/O behind the ports (PostgreSQL, S3, Vault/OpenBao, Temporal)."""
