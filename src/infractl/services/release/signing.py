"""Image signatures in cosign's format, with a local key.

- The key pair is cosign's: an ECDSA P-256 private key (PKCS#8 DER) encrypted the way cosign encrypts it
  (scrypt N=32768 r=8 p=1, then NaCl secretbox; the JSON `{kdf, cipher, ciphertext}` is the body of an
  `ENCRYPTED COSIGN PRIVATE KEY` PEM block), and the public key as an SPKI `PUBLIC KEY` PEM. `cosign sign --key`
  and `cosign verify --key` accept both files.
- The signed payload is cosign's "simple signing" JSON naming the repository and the manifest digest; the
  signature is the base64 of the DER ECDSA-P256-SHA256 signature over those exact bytes.
- `bundle` wraps a signature as a sigstore bundle v0.3 (message signature, public-key hint, no transparency log),
  so an implementation this project did not write (@sigstore/verify, scripts/node/sigstore-verify.mjs) can check it.

The password comes from the caller as bytes; it never appears in an error, a file or a log line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infractl.errors import ConfigError, UsageError, VerificationError

PRIVATE_KEY_FILE = "cosign.key"  # pragma: allowlist secret (a file name)
PUBLIC_KEY_FILE = "cosign.pub"
COSIGN_PEM_TYPE = "ENCRYPTED COSIGN PRIVATE KEY"
SIGSTORE_PEM_TYPE = "ENCRYPTED SIGSTORE PRIVATE KEY"  # what cosign >= 2.2 writes; both are read
SIGNATURE_TYPE = "cosign container image signature"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

# scrypt parameters cosign's key encryption writes (the first) or accepts; anything else is refused rather than run,
# so a crafted key file cannot make loading it take minutes or gigabytes.
KDF_PARAMS = ({"N": 32768, "r": 8, "p": 1}, {"N": 65536, "r": 8, "p": 1}, {"N": 131072, "r": 8, "p": 1})
SALT_BYTES = 32
KEY_BYTES = 32

DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.S)


def check_digest(digest: str) -> str:
    """digest when it is `sha256:` and 64 lowercase hex digits; UsageError otherwise."""
    if not isinstance(digest, str) or not DIGEST.fullmatch(digest):
        raise UsageError(
            f"not an image digest: {digest!r}", hint="expected sha256: followed by 64 lowercase hex digits"
        )
    return digest


# --- keys ---------------------------------------------------------------------------------------------------------


def _scrypt(password: bytes, salt: bytes, params: dict[str, int]) -> bytes:
    n, r, p = params["N"], params["r"], params["p"]
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=130 * r * n + (1 << 20), dklen=KEY_BYTES)


def encrypt_key_material(plaintext: bytes, password: bytes) -> bytes:
    """cosign's encrypted-key JSON for plaintext (field order as cosign writes it)."""
    from nacl.secret import SecretBox
    from nacl.utils import random

    params = KDF_PARAMS[0]
    salt = random(SALT_BYTES)
    nonce = random(SecretBox.NONCE_SIZE)
    sealed = SecretBox(_scrypt(password, salt, params)).encrypt(plaintext, nonce).ciphertext
    doc = {
        "kdf": {"name": "scrypt", "params": params, "salt": base64.b64encode(salt).decode()},
        "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
        "ciphertext": base64.b64encode(sealed).decode(),
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def decrypt_key_material(data: bytes, password: bytes, *, display: str) -> bytes:
    """The plaintext inside cosign's encrypted-key JSON; VerificationError naming display (never the password)."""
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    try:
        doc = json.loads(data)
        kdf, cipher = doc["kdf"], doc["cipher"]
        if kdf["name"] != "scrypt" or cipher["name"] != "nacl/secretbox":
            raise VerificationError(
                f"{display}: unsupported key encryption {kdf['name']}/{cipher['name']}",
                hint="expected scrypt + nacl/secretbox (cosign's format)",
            )
        params = {k: kdf["params"][k] for k in ("N", "r", "p")}
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(cipher["nonce"], validate=True)
        sealed = base64.b64decode(doc["ciphertext"], validate=True)
    except VerificationError:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise VerificationError(
            f"{display}: not a cosign encrypted private key (corrupt: {type(exc).__name__})"
        ) from None
    if params not in KDF_PARAMS:
        raise VerificationError(f"{display}: unsupported scrypt parameters {params}")
    try:
        return SecretBox(_scrypt(password, salt, params)).decrypt(sealed, nonce)
    except (CryptoError, ValueError):
        raise VerificationError(
            f"{display}: cannot decrypt the private key: wrong password, or the file is corrupt",
            hint="check the signing-key password the release commands read",
        ) from None


def _pem(block_type: str, der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return ("\n".join([f"-----BEGIN {block_type}-----", *lines, f"-----END {block_type}-----"]) + "\n").encode()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask does not narrow what we mean
        os.write(fd, data)
    finally:
        os.close(fd)


def generate_key(directory: Path, password: bytes) -> tuple[Path, Path]:
    """A new key pair in directory: (cosign.key mode 0600, cosign.pub mode 0644). Never overwrites a key."""
    if not isinstance(password, bytes):
        raise UsageError("the signing-key password must be bytes")
    directory = Path(directory)
    private_path, public_path = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    existing = [str(p) for p in (private_path, public_path) if p.exists() or p.is_symlink()]
    if existing:
        raise ConfigError(
            f"a signing key already exists: {', '.join(existing)}",
            hint="a key is never overwritten: remove it yourself first (signatures made with it stop verifying)",
        )
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    encrypted = encrypt_key_material(der, password)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        _write_new(private_path, _pem(COSIGN_PEM_TYPE, encrypted), 0o600)
        _write_new(public_path, public_pem, 0o644)
    except FileExistsError:  # created between the check and the write: leave the other process's key alone
        raise ConfigError(f"a signing key appeared in {directory} while creating one; nothing overwritten") from None
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no {what} there", hint="create the release signing key first") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what}: {exc.strerror}") from None


def load_private_key(path: Path, password: bytes) -> ec.EllipticCurvePrivateKey:
    """The ECDSA P-256 key in cosign's encrypted format at path. VerificationError (naming the file) when the
    password is wrong or the file is not such a key."""
    display = str(path)
    match = _PEM.search(_read(path, "private key").decode("ascii", "replace"))
    if not match or match.group(1) not in (COSIGN_PEM_TYPE, SIGSTORE_PEM_TYPE):
        raise VerificationError(f"{display}: not a cosign private key (expected a {COSIGN_PEM_TYPE} PEM block)")
    try:
        body = base64.b64decode("".join(match.group(2).split()), validate=True)
    except (ValueError, binascii.Error):
        raise VerificationError(f"{display}: the PEM block is not valid base64 (corrupt key file)") from None
    der = decrypt_key_material(body, password, display=display)
    try:
        key = serialization.load_der_private_key(der, password=None)
    except ValueError:
        raise VerificationError(f"{display}: the decrypted key is not PKCS#8 (corrupt key file)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VerificationError(f"{display}: not an ECDSA P-256 key (the only kind infractl signs with)")
    return key


def load_public_key(path: Path) -> ec.EllipticCurvePublicKey:
    """The ECDSA P-256 public key in the SPKI PEM at path."""
    try:
        key = serialization.load_pem_public_key(_read(path, "public key"))
    except ValueError:
        raise VerificationError(f"{path}: not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VerificationError(f"{path}: not an ECDSA P-256 public key")
    return key


def key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """sha256 hex of the key's SPKI DER: the same key gives the same id wherever it is stored."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


# --- signatures ---------------------------------------------------------------------------------------------------


def simple_signing_payload(docker_reference: str, digest: str) -> bytes:
    """cosign's payload for the image docker_reference (a repository, no tag) at digest, compact JSON."""
    check_digest(digest)
    if not docker_reference or any(c in docker_reference for c in "@ \t\n"):
        raise UsageError(f"not a repository reference: {docker_reference!r}")
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": digest},
            "type": SIGNATURE_TYPE,
        },
        "optional": None,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def sign(payload: bytes, private_key: ec.EllipticCurvePrivateKey) -> str:
    """base64 of the DER ECDSA-P256-SHA256 signature of payload."""
    return base64.b64encode(private_key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()


def _last_segment(reference: str) -> str:
    """The image name of a repository reference: its last path segment, without a tag or digest."""
    last = reference.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


def verify(
    payload: bytes,
    signature_b64: str,
    public_key: ec.EllipticCurvePublicKey,
    *,
    digest: str,
    image_name: str,
) -> None:
    """The signature is public_key's over payload, and payload is cosign's payload for image_name at digest.
    VerificationError otherwise: a tampered payload, another key, another digest, another image."""
    short = key_id(public_key)[:12]
    try:
        raw = base64.b64decode(signature_b64, validate=True)
    except (ValueError, TypeError, binascii.Error):
        raise VerificationError("the signature is not base64 (corrupt signature)") from None
    try:
        public_key.verify(raw, payload, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VerificationError(
            f"the signature does not verify with key {short}: the payload was changed or another key signed it"
        ) from None
    critical = _critical(payload)
    if critical.get("type") != SIGNATURE_TYPE:
        raise VerificationError(f"the signed payload is not a cosign image signature (type {critical.get('type')!r})")
    signed_digest = (critical.get("image") or {}).get("docker-manifest-digest")
    if signed_digest != digest:
        raise VerificationError(f"the signature is for {signed_digest}, not for {digest}")
    reference = (critical.get("identity") or {}).get("docker-reference")
    if not isinstance(reference, str) or _last_segment(reference) != image_name:
        raise VerificationError(f"the signature is for image {reference!r}, not for {image_name!r}")


def _critical(payload: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("the signed payload is not JSON") from None
    critical = doc.get("critical") if isinstance(doc, dict) else None
    if not isinstance(critical, dict):
        raise VerificationError("the signed payload has no `critical` section")
    return critical


def bundle_material(key_hint: str) -> dict[str, Any]:
    """A sigstore bundle v0.3's verification material for a local key named by hint: no transparency-log entry and
    no timestamp (verified offline). provenance.bundle shares it."""
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": {"hint": key_hint},
            "tlogEntries": [],
            "timestampVerificationData": {"rfc3161Timestamps": []},
        },
    }


def bundle(payload: bytes, signature_b64: str, *, key_hint: str) -> dict[str, Any]:
    """A sigstore bundle v0.3 for the signature: message signature over sha256(payload), the key named by hint."""
    return {
        **bundle_material(key_hint),
        "messageSignature": {
            "messageDigest": {
                "algorithm": "SHA2_256",
                "digest": base64.b64encode(hashlib.sha256(payload).digest()).decode(),
            },
            "signature": signature_b64,
        },
    }
