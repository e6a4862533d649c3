"""Build provenance: an in-toto Statement v1 with a SLSA provenance v1 predicate, in a DSSE envelope signed by the
release key (the same ECDSA P-256 key that signs the images; see signing.py).

The envelope is what `cosign attest --key` stores: payloadType application/vnd.in-toto+json, the statement as
the base64 payload, DER ECDSA signatures over DSSE's pre-authentication encoding. The signature's keyid is the
key's id (signing.key_id); verification does not trust it: every signature is tried against the given key.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from infractl.errors import UsageError, VerificationError
from infractl.services.release.signing import bundle_material, check_digest, key_id

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"


def _timestamp(value: str, field: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise UsageError(f"provenance {field}: not an RFC 3339 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        raise UsageError(f"provenance {field}: {value!r} has no time zone (use ...Z)")
    return value


def statement(
    subjects: Sequence[tuple[str, str]],
    *,
    build_type: str,
    builder_id: str,
    invocation_id: str,
    external_parameters: dict[str, Any],
    resolved_dependencies: Sequence[dict[str, Any]],
    started_on: str,
    finished_on: str,
) -> dict[str, Any]:
    """The statement for subjects [(name, "sha256:<hex>")]. resolved_dependencies are SLSA resource descriptors
    (each with at least a uri or a digest)."""
    if not subjects:
        raise UsageError("provenance needs at least one subject")
    names = [name for name, _ in subjects]
    if len(set(names)) != len(names):
        raise UsageError(f"provenance subjects repeat a name: {sorted(n for n in set(names) if names.count(n) > 1)}")
    for dep in resolved_dependencies:
        if not isinstance(dep, dict) or not (dep.get("uri") or dep.get("digest")):
            raise UsageError(f"provenance resolvedDependencies: {dep!r} has neither a uri nor a digest")
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": check_digest(digest).split(":", 1)[1]}} for name, digest in subjects
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": build_type,
                "externalParameters": dict(external_parameters),
                "resolvedDependencies": [dict(dep) for dep in resolved_dependencies],
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": {
                    "invocationId": invocation_id,
                    "startedOn": _timestamp(started_on, "startedOn"),
                    "finishedOn": _timestamp(finished_on, "finishedOn"),
                },
            },
        },
    }


def _sslib_key(public_key: ec.EllipticCurvePublicKey, keyid: str) -> Any:
    from securesystemslib.signer import SSlibKey

    return SSlibKey.from_crypto(public_key, keyid=keyid or "-", scheme="ecdsa-sha2-nistp256")


def sign_statement(statement: dict[str, Any], private_key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """The DSSE envelope {payload, payloadType, signatures: [{keyid, sig}]} of statement signed by private_key."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import CryptoSigner

    public = private_key.public_key()
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={})
    envelope.sign(CryptoSigner(private_key, _sslib_key(public, key_id(public))))
    return envelope.to_dict()


def _envelope_parts(envelope: Any) -> tuple[bytes, list[dict[str, Any]]]:
    if not isinstance(envelope, dict):
        raise VerificationError("the provenance is not a DSSE envelope (expected a JSON object)")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise VerificationError(
            f"the provenance envelope's payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}"
        )
    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise VerificationError("the provenance envelope has no base64 payload") from None
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise VerificationError("the provenance envelope is not signed (no signatures)")
    return payload, signatures


def _signed_by(payload: bytes, signatures: list[Any], public_key: ec.EllipticCurvePublicKey) -> bool:
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import UnverifiedSignatureError
    from securesystemslib.exceptions import VerificationError as SslibVerificationError
    from securesystemslib.signer import Signature

    pae = Envelope(payload=payload, payload_type=PAYLOAD_TYPE, signatures={}).pae()
    for entry in signatures:
        if not isinstance(entry, dict):
            continue
        keyid = entry.get("keyid") or ""
        try:
            sig = Signature(keyid=keyid or "-", sig=base64.b64decode(entry["sig"], validate=True).hex())
            _sslib_key(public_key, keyid).verify_signature(sig, pae)
            return True
        except (KeyError, TypeError, ValueError, binascii.Error, UnverifiedSignatureError, SslibVerificationError):
            continue
    return False


def verify_envelope(
    envelope: dict[str, Any],
    public_key: ec.EllipticCurvePublicKey,
    *,
    expected: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The statement inside envelope, once a signature by public_key verifies and the statement is SLSA v1
    provenance; with expected {name: "sha256:<hex>"}, each name must be a subject with that digest.
    VerificationError otherwise (tampered, another key, another subject)."""
    payload, signatures = _envelope_parts(copy.deepcopy(envelope))
    if not _signed_by(payload, signatures, public_key):
        raise VerificationError(
            f"the provenance signature does not verify with key {key_id(public_key)[:12]}:"
            " the statement was changed or another key signed it"
        )
    try:
        doc = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError("the signed provenance payload is not JSON") from None
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
        raise VerificationError(f"the provenance is not an in-toto Statement v1 (_type {_get(doc, '_type')!r})")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise VerificationError(f"the provenance predicateType is {doc.get('predicateType')!r}, not {PREDICATE_TYPE}")
    subjects = _subjects(doc)
    for name, digest in (expected or {}).items():
        if name not in subjects:
            raise VerificationError(f"the provenance has no subject {name!r} (it covers {sorted(subjects)})")
        if subjects[name] != digest:
            raise VerificationError(f"the provenance subject {name!r} is {subjects[name]}, not {digest}")
    return doc


def _get(doc: Any, key: str) -> Any:
    return doc.get(key) if isinstance(doc, dict) else None


def _subjects(doc: dict[str, Any]) -> dict[str, str]:
    """name -> "sha256:<hex>" of the statement's subjects."""
    found: dict[str, str] = {}
    subject = doc.get("subject")
    if not isinstance(subject, list) or not subject:
        raise VerificationError("the provenance statement has no subject")
    for entry in subject:
        name, digest = _get(entry, "name"), _get(_get(entry, "digest"), "sha256")
        if not isinstance(name, str) or not isinstance(digest, str):
            raise VerificationError(f"the provenance subject {entry!r} has no name or sha256 digest")
        found[name] = f"sha256:{digest}"
    return found


def bundle(envelope: dict[str, Any], *, key_hint: str) -> dict[str, Any]:
    """A sigstore bundle v0.3 carrying the DSSE envelope, its key named by hint (no transparency log): what
    @sigstore/verify checks offline (scripts/node/sigstore-verify.mjs)."""
    payload, signatures = _envelope_parts(copy.deepcopy(envelope))
    return {
        **bundle_material(key_hint),
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode(),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": s.get("sig", ""), "keyid": s.get("keyid", "")} for s in signatures[:1]],
        },
    }
