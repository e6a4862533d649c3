"""Our signatures and provenance checked by an implementation this project did not write: @sigstore/verify (npm),
run by node through scripts/node/sigstore-verify.mjs, offline (a key hint, no transparency log).

node and scripts/node/node_modules come from `make install`; missing, the tests fail (never skip)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infractl.adapters import process
from infractl.services.release import cosign, provenance, signing
from tests.conftest import REPO

pytestmark = pytest.mark.integration

SCRIPT = REPO / "scripts" / "node" / "sigstore-verify.mjs"
DIGEST = "sha256:" + "7f" * 32
REPOSITORY = "127.0.0.1:5000/staging/infractl-api"
PASSWORD = b"release-key-password"


@pytest.fixture(scope="module")
def node() -> str:
    binary = process.find_binary("node", hint="install node (make install)")
    if not (SCRIPT.parent / "node_modules" / "@sigstore" / "verify").is_dir():
        pytest.fail(f"no @sigstore/verify under {SCRIPT.parent / 'node_modules'} (make install)")
    return binary


@pytest.fixture(scope="module")
def release_key(tmp_path_factory):
    """A key pair as infractl writes it, loaded back from its encrypted file."""
    directory = tmp_path_factory.mktemp("release-key")
    private_path, public_path = signing.generate_key(directory, PASSWORD)
    key = signing.load_private_key(private_path, PASSWORD)
    return key, public_path, signing.key_id(key.public_key())


@pytest.fixture(scope="module")
def other_public(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("other-key") / "other.pub"
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    path.write_bytes(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def verify_with_node(node: str, tmp_path: Path, bundle: dict, payload: bytes, public_key: Path, hint: str):
    bundle_path, payload_path = tmp_path / "bundle.json", tmp_path / "payload"
    bundle_path.write_text(json.dumps(bundle))
    payload_path.write_bytes(payload)
    done = process.run(
        [node, str(SCRIPT), str(bundle_path), str(payload_path), str(public_key), hint], ok_codes=(0, 1), timeout=60
    )
    return done.returncode, done.stdout.strip()


def signed(key) -> tuple[bytes, str]:
    payload = signing.simple_signing_payload(REPOSITORY, DIGEST)
    return payload, signing.sign(payload, key)


def test_our_image_signature_verifies(node, tmp_path, release_key):
    key, public_path, hint = release_key
    payload, signature = signed(key)
    rc, out = verify_with_node(
        node, tmp_path, signing.bundle(payload, signature, key_hint=hint), payload, public_path, hint
    )
    assert (rc, out) == (0, "verified")


def test_a_signature_read_back_from_its_sig_artifact_verifies(node, tmp_path, release_key):
    key, public_path, hint = release_key
    artifact = cosign.signature_artifact(*signed(key))
    store = {blob.digest: blob.data for blob in artifact.blobs}
    [(payload, signature)] = cosign.read_signatures(artifact.manifest, store.__getitem__)
    rc, out = verify_with_node(
        node, tmp_path, signing.bundle(payload, signature, key_hint=hint), payload, public_path, hint
    )
    assert (rc, out) == (0, "verified")


def test_tampered_payload_fails(node, tmp_path, release_key):
    key, public_path, hint = release_key
    payload, signature = signed(key)
    tampered = signing.simple_signing_payload(REPOSITORY, "sha256:" + "00" * 32)
    rc, out = verify_with_node(
        node, tmp_path, signing.bundle(payload, signature, key_hint=hint), tampered, public_path, hint
    )
    assert rc == 1 and out.startswith("FAILED: SIGNATURE_ERROR"), out


def test_another_key_fails(node, tmp_path, release_key, other_public):
    key, _, hint = release_key
    payload, signature = signed(key)
    rc, out = verify_with_node(
        node, tmp_path, signing.bundle(payload, signature, key_hint=hint), payload, other_public, hint
    )
    assert rc == 1 and out.startswith("FAILED: SIGNATURE_ERROR"), out


def test_a_bundle_naming_another_key_fails(node, tmp_path, release_key):
    key, public_path, hint = release_key
    payload, signature = signed(key)
    bundle = signing.bundle(payload, signature, key_hint="someone-else")
    rc, out = verify_with_node(node, tmp_path, bundle, payload, public_path, hint)
    assert rc == 1 and out.startswith("FAILED:") and "someone-else" in out, out


def provenance_envelope(key) -> dict:
    statement = provenance.statement(
        [("infractl-api", DIGEST)],
        build_type="https://infractl.local/release-build/v1",
        builder_id="https://infractl.local/builder/local",
        invocation_id="release-1.0.0",
        external_parameters={"version": "1.0.0"},
        resolved_dependencies=[{"uri": "git+file:///repo", "digest": {"gitCommit": "1" * 40}}],
        started_on="2024-05-01T10:00:00Z",
        finished_on="2024-05-01T10:01:00Z",
    )
    return provenance.sign_statement(statement, key)


def test_our_provenance_envelope_verifies(node, tmp_path, release_key):
    key, public_path, hint = release_key
    envelope = provenance_envelope(key)
    statement = base64.b64decode(envelope["payload"])
    rc, out = verify_with_node(node, tmp_path, provenance.bundle(envelope, key_hint=hint), statement, public_path, hint)
    assert (rc, out) == (0, "verified")


def test_tampered_provenance_fails(node, tmp_path, release_key):
    key, public_path, hint = release_key
    envelope = provenance_envelope(key)
    forged = json.loads(base64.b64decode(envelope["payload"]))
    forged["subject"][0]["digest"]["sha256"] = "00" * 32
    forged_bytes = json.dumps(forged).encode()
    bundle = provenance.bundle({**envelope, "payload": base64.b64encode(forged_bytes).decode()}, key_hint=hint)
    rc, out = verify_with_node(node, tmp_path, bundle, forged_bytes, public_path, hint)
    assert rc == 1 and out.startswith("FAILED: SIGNATURE_ERROR"), out


def test_provenance_with_another_key_fails(node, tmp_path, release_key, other_public):
    key, _, hint = release_key
    envelope = provenance_envelope(key)
    statement = base64.b64decode(envelope["payload"])
    rc, out = verify_with_node(
        node, tmp_path, provenance.bundle(envelope, key_hint=hint), statement, other_public, hint
    )
    assert rc == 1 and out.startswith("FAILED: SIGNATURE_ERROR"), out
