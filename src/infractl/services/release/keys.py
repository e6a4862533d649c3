"""The release signing key: a cosign-format encrypted ECDSA P-256 key pair (docs/release.md#signing-keys).

Locally, `infractl release build` makes one on first use in <work_dir>/keys/ (never committed, mode 0600) unless
INFRACTL_SIGNING_KEY names one; its password comes from INFRACTL_SIGNING_PASSWORD (empty by default, as cosign allows)
and never appears in output. `promote` verifies with INFRACTL_VERIFY_KEY, else the public half of the signing key.
In CI the release workflow signs with the same kind of key (a GitHub environment secret; the trusted public half is
releases/keys/release.pub) and adds a keyless Sigstore signature on top: .github/workflows/release.yml, docs/ci.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.errors import ConfigError
from infractl.services.context import Context
from infractl.services.release import signing


@dataclass(frozen=True)
class SigningKey:
    private: Any
    public: Any
    key_id: str
    public_pem: str
    path: Path


def _default_dir(ctx: Context) -> Path:
    return ctx.project.work_dir / "keys"


def signing_key(ctx: Context) -> SigningKey:
    """The key that signs, made on first use when no INFRACTL_SIGNING_KEY is set."""
    password = ctx.settings.signing_password.get_secret_value().encode()
    path = ctx.settings.signing_key
    if path is None:
        path = _default_dir(ctx) / "cosign.key"
        if not path.exists():
            signing.generate_key(path.parent, password)
    elif not path.is_file():
        raise ConfigError(f"INFRACTL_SIGNING_KEY: {path}: no such file", hint="point it at a cosign.key")
    private = signing.load_private_key(path, password)
    public = private.public_key()
    return SigningKey(private, public, signing.key_id(public), _pem(public), path)


def verify_key(ctx: Context) -> tuple[Any, str]:
    """(public key, where it came from) for verification: INFRACTL_VERIFY_KEY, else the signing key's .pub."""
    path = ctx.settings.verify_key
    if path is None:
        base = ctx.settings.signing_key or (_default_dir(ctx) / "cosign.key")
        path = base.with_suffix(".pub")
    if not path.is_file():
        raise ConfigError(
            f"no public key to verify releases with: {path} does not exist",
            hint="set INFRACTL_VERIFY_KEY to the release signer's cosign.pub",
        )
    return signing.load_public_key(path), str(path)


def public_pem(key: Any) -> str:
    return _pem(key)


def _pem(key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
