"""The OCI artifacts cosign stores next to an image, in its tag scheme (for registries without the referrers API):
`sha256-<hex>.sig` (signatures), `.att` (attestations), `.sbom` (the SBOM).

Each is an OCI image manifest whose config is a minimal image config and whose layers are the payloads:
- `.sig`: layer application/vnd.dev.cosign.simplesigning.v1+json = the simple-signing payload, with the base64
  signature in the annotation dev.cosignproject.cosign/signature;
- `.att`: layer application/vnd.dsse.envelope.v1+json = the DSSE envelope JSON, annotated with its predicateType
  (and an empty signature annotation: the signature is inside the envelope);
- `.sbom`: layer application/vnd.cyclonedx+json = the CycloneDX JSON.

Everything here works on bytes: the caller moves the blobs and manifests (the registry adapter), and the readers
take a `get_blob(digest) -> bytes` and check every blob against its digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from infractl.errors import UsageError, VerificationError
from infractl.services.release import sbom as sbom_doc
from infractl.services.release.signing import check_digest

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
SIGNATURE_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json"
CYCLONEDX_LEGACY_MEDIA_TYPE = "application/vnd.cyclonedx"  # what older `cosign attach sbom --type cyclonedx` wrote
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
PREDICATE_ANNOTATION = "predicateType"
KINDS = ("sig", "att", "sbom")
ZERO_TIME = "0001-01-01T00:00:00Z"  # the creation time cosign's artifacts carry: none


def tag_for(digest: str, kind: Literal["sig", "att", "sbom"]) -> str:
    """The tag cosign stores kind for the image digest under: sha256:<hex> -> sha256-<hex>.<kind>."""
    if kind not in KINDS:
        raise UsageError(f"unknown cosign artifact kind {kind!r} (one of {', '.join(KINDS)})")
    return check_digest(digest).replace(":", "-", 1) + "." + kind


def canonical(data: Any) -> bytes:
    """JSON with sorted keys and no spaces: the same data always gives the same bytes (and digest)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Blob:
    media_type: str
    data: bytes
    digest: str
    annotations: dict[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, media_type: str, data: bytes, annotations: dict[str, str] | None = None) -> Blob:
        return cls(media_type=media_type, data=data, digest=sha256(data), annotations=dict(annotations or {}))

    def descriptor(self) -> dict[str, Any]:
        found: dict[str, Any] = {"mediaType": self.media_type, "size": len(self.data), "digest": self.digest}
        if self.annotations:
            found["annotations"] = dict(self.annotations)
        return found


@dataclass(frozen=True)
class Artifact:
    """One cosign artifact: push config and layers as blobs, then manifest (media_type) under its tag."""

    config: Blob
    layers: tuple[Blob, ...]
    manifest: bytes
    media_type: str
    digest: str

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (self.config, *self.layers)


def _artifact(layers: list[Blob]) -> Artifact:
    config = {
        "architecture": "",
        "config": {},
        "created": ZERO_TIME,
        "history": [{"created": ZERO_TIME}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]},
    }
    config_blob = Blob.of(CONFIG_MEDIA_TYPE, canonical(config))
    manifest = canonical(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_MEDIA_TYPE,
            "config": config_blob.descriptor(),
            "layers": [layer.descriptor() for layer in layers],
        }
    )
    return Artifact(
        config=config_blob,
        layers=tuple(layers),
        manifest=manifest,
        media_type=MANIFEST_MEDIA_TYPE,
        digest=sha256(manifest),
    )


def signature_artifact(payload: bytes, signature_b64: str) -> Artifact:
    """The `.sig` artifact of one signature (payload from signing.simple_signing_payload)."""
    return _artifact([Blob.of(SIGNATURE_MEDIA_TYPE, payload, {SIGNATURE_ANNOTATION: signature_b64})])


def attestation_artifact(envelope: dict[str, Any]) -> Artifact:
    """The `.att` artifact of one DSSE envelope (from provenance.sign_statement)."""
    try:
        statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
        predicate_type = statement["predicateType"]
    except (KeyError, TypeError, ValueError):
        raise UsageError("not a DSSE envelope of an in-toto statement: no payload with a predicateType") from None
    annotations = {PREDICATE_ANNOTATION: predicate_type, SIGNATURE_ANNOTATION: ""}
    return _artifact([Blob.of(DSSE_MEDIA_TYPE, canonical(envelope), annotations)])


def sbom_artifact(sbom: dict[str, Any]) -> Artifact:
    """The `.sbom` artifact of a CycloneDX document."""
    return _artifact([Blob.of(CYCLONEDX_MEDIA_TYPE, canonical(sbom))])


# --- reading ------------------------------------------------------------------------------------------------------


def _layers(manifest: bytes, what: str) -> list[dict[str, Any]]:
    try:
        doc = json.loads(manifest)
    except (ValueError, UnicodeDecodeError):
        raise VerificationError(f"the {what} manifest is not JSON") from None
    layers = doc.get("layers") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("schemaVersion") != 2 or not isinstance(layers, list):
        raise VerificationError(f"the {what} manifest is not an OCI image manifest (schemaVersion 2 with layers)")
    for layer in layers:
        if not isinstance(layer, dict) or not isinstance(layer.get("digest"), str):
            raise VerificationError(f"the {what} manifest has a layer without a digest")
    return layers


def _fetch(layer: dict[str, Any], get_blob: Callable[[str], bytes], what: str) -> bytes:
    digest = layer["digest"]
    if not digest.startswith("sha256:"):
        raise VerificationError(f"the {what} layer digest {digest!r} is not sha256")
    data = get_blob(digest)
    if sha256(data) != digest:
        raise VerificationError(f"the {what} layer {digest} does not match its content (corrupted in the registry)")
    return data


def read_signatures(manifest: bytes, get_blob: Callable[[str], bytes]) -> list[tuple[bytes, str]]:
    """[(payload, signature_b64)] of a `.sig` manifest; VerificationError when malformed or empty."""
    found = []
    for layer in _layers(manifest, "signature"):
        if layer.get("mediaType") != SIGNATURE_MEDIA_TYPE:
            continue
        signature = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
        if not isinstance(signature, str) or not signature:
            raise VerificationError(f"the signature layer {layer['digest']} has no {SIGNATURE_ANNOTATION} annotation")
        found.append((_fetch(layer, get_blob, "signature"), signature))
    if not found:
        raise VerificationError(f"the signature manifest has no {SIGNATURE_MEDIA_TYPE} layer")
    return found


def read_attestations(manifest: bytes, get_blob: Callable[[str], bytes]) -> list[dict[str, Any]]:
    """The DSSE envelopes of an `.att` manifest (not verified here: provenance.verify_envelope does that)."""
    found = []
    for layer in _layers(manifest, "attestation"):
        if layer.get("mediaType") != DSSE_MEDIA_TYPE:
            continue
        try:
            envelope = json.loads(_fetch(layer, get_blob, "attestation"))
        except (ValueError, UnicodeDecodeError):
            raise VerificationError(f"the attestation layer {layer['digest']} is not JSON") from None
        if not isinstance(envelope, dict) or "payload" not in envelope:
            raise VerificationError(f"the attestation layer {layer['digest']} is not a DSSE envelope")
        found.append(envelope)
    if not found:
        raise VerificationError(f"the attestation manifest has no {DSSE_MEDIA_TYPE} layer")
    return found


def read_sbom(manifest: bytes, get_blob: Callable[[str], bytes], *, schema: bool = True) -> dict[str, Any]:
    """The CycloneDX document of an `.sbom` manifest, schema-validated (sbom.validate) unless schema=False (a caller
    that checks the manifest's digest against a record made when the document was validated)."""
    layers = [
        layer
        for layer in _layers(manifest, "SBOM")
        if layer.get("mediaType") in (CYCLONEDX_MEDIA_TYPE, CYCLONEDX_LEGACY_MEDIA_TYPE)
    ]
    if len(layers) != 1:
        raise VerificationError(f"the SBOM manifest has {len(layers)} CycloneDX layers, expected 1")
    try:
        doc = json.loads(_fetch(layers[0], get_blob, "SBOM"))
    except (ValueError, UnicodeDecodeError):
        raise VerificationError(f"the SBOM layer {layers[0]['digest']} is not JSON") from None
    if schema:
        sbom_doc.validate(doc)
    return doc
