"""Who signs the ledger, and how a signature is checked offline.

A signer signs a batch of messages (chain.entry_message / checkpoint_message) and names the key of each signature;
`public_keys()` gives the raw Ed25519 public key of every key id it ever signed with, so a verifier needs no secret
and no network (the keys are also published to the WORM bucket: services/evidence).

- TransitSigner: Vault/OpenBao's transit engine, an `ed25519` key: the private key never leaves Vault; one
  `sign` call per batch. Rotation adds a version; old signatures name theirs (`transit:<mount>/<key>:v<N>`) and
  stay verifiable with that version's public key.
- LocalSigner: an Ed25519 key in a file (tests, drills, an air-gapped ledger): `local:<fingerprint>`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

SIGNATURE_ALGORITHM = "ed25519"
# Messages per transit request: Vault/OpenBao refuse a JSON body of more than 1,000 strings (each item is 2).
TRANSIT_BATCH = 400


class Signer(Protocol):
    def sign(self, messages: list[bytes]) -> list[tuple[str, str]]:
        """(signature, key_id) per message, in order: the signature is base64 of the raw Ed25519 signature."""
        ...

    def public_keys(self) -> dict[str, bytes]: ...


class SigningError(Exception):
    """The signer could not sign (Vault away, the key missing or not ed25519): nothing was appended."""


def verifier(public_key: bytes) -> Callable[[bytes, str], bool]:
    """A check of signatures by one key: check(message, signature) -> bool. libsodium's Ed25519 (PyNaCl): about
    twice as fast as OpenSSL's here, which matters when verify checks every entry's signature."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    key = VerifyKey(public_key)

    def check(message: bytes, signature: str) -> bool:
        try:
            key.verify(message, base64.b64decode(signature, validate=True))
        except (BadSignatureError, ValueError):
            return False
        return True

    return check


def verify(public_key: bytes, message: bytes, signature: str) -> bool:
    return verifier(public_key)(message, signature)


class TransitSigner:
    def __init__(self, client: Any, key: str, *, mount: str = "transit") -> None:
        self.client = client  # hvac.Client with a token allowed transit/sign/<key> and read transit/keys/<key>
        self.key = key
        self.mount = mount

    def key_id(self, version: int | str) -> str:
        return f"transit:{self.mount}/{self.key}:v{version}"

    def sign(self, messages: list[bytes]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for i in range(0, len(messages), TRANSIT_BATCH):
            out.extend(self._sign(messages[i : i + TRANSIT_BATCH]))
        return out

    def _sign(self, messages: list[bytes]) -> list[tuple[str, str]]:
        batch = [{"input": base64.b64encode(m).decode()} for m in messages]
        try:
            answer = self.client.secrets.transit.sign_data(name=self.key, batch_input=batch, mount_point=self.mount)
        except Exception as exc:  # hvac raises its own types and requests' for a Vault that is away
            raise SigningError(
                f"Vault transit {self.mount}/{self.key}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        out = []
        for result in answer["data"]["batch_results"]:
            if result.get("error"):
                raise SigningError(f"Vault transit {self.mount}/{self.key}: {result['error']}")
            _, version, signature = result["signature"].split(":", 2)  # vault:v3:BASE64
            out.append((signature, self.key_id(version.removeprefix("v"))))
        return out

    def public_keys(self) -> dict[str, bytes]:
        try:
            data = self.client.secrets.transit.read_key(name=self.key, mount_point=self.mount)["data"]
        except Exception as exc:
            raise SigningError(
                f"Vault transit {self.mount}/{self.key}: {type(exc).__name__}: {_first_line(exc)}"
            ) from None
        if data.get("type") != SIGNATURE_ALGORITHM:
            raise SigningError(f"Vault transit key {self.mount}/{self.key} is {data.get('type')}, not ed25519")
        return {self.key_id(v): base64.b64decode(k["public_key"]) for v, k in data["keys"].items()}


def ensure_transit_key(client: Any, key: str, *, mount: str = "transit") -> None:
    """The transit engine at `mount` and an ed25519 `key` in it (the dev stack and tests; Terraform/Vault policy
    own it in an environment). Idempotent."""
    if f"{mount}/" not in client.sys.list_mounted_secrets_engines()["data"]:
        client.sys.enable_secrets_engine("transit", path=mount)
    try:
        client.secrets.transit.read_key(name=key, mount_point=mount)
    except Exception:
        client.secrets.transit.create_key(name=key, key_type=SIGNATURE_ALGORITHM, mount_point=mount)


class LocalSigner:
    def __init__(self, private_key: Any) -> None:  # cryptography Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        self._key = private_key
        self._public = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = "local:" + hashlib.sha256(self._public).hexdigest()[:16]

    @classmethod
    def from_file(cls, path: Path, *, create: bool = False) -> LocalSigner:
        """The key in `path` (PEM, PKCS#8); with `create`, a new one written there (mode 0600) when absent."""
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives.serialization import (
            Encoding,
            NoEncryption,
            PrivateFormat,
            load_pem_private_key,
        )

        if not path.exists():
            if not create:
                raise SigningError(f"{path}: no signing key there")
            key = Ed25519PrivateKey.generate()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
            return cls(key)
        loaded = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise SigningError(f"{path}: not an Ed25519 private key")
        return cls(loaded)

    def sign(self, messages: list[bytes]) -> list[tuple[str, str]]:
        return [(base64.b64encode(self._key.sign(m)).decode(), self.key_id) for m in messages]

    def public_keys(self) -> dict[str, bytes]:
        return {self.key_id: self._public}


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:200]
