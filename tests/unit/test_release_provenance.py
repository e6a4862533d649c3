"""SLSA provenance v1 in a DSSE envelope signed by the release key: the statement, signing, and every refusal
(tampered statement, wrong key, another subject digest, wrong types), plus the `.att` artifact."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from infractl.errors import UsageError, VerificationError
from infractl.services.release import cosign, provenance, signing

API = "sha256:" + "a1" * 32
WORKER = "sha256:" + "b2" * 32
OTHER = "sha256:" + "c3" * 32


@pytest.fixture(scope="module")
def key():
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_key():
    return ec.generate_private_key(ec.SECP256R1())


def make_statement(**overrides):
    args = {
        "build_type": "https://infractl.local/release-build/v1",
        "builder_id": "https://infractl.local/builder/local",
        "invocation_id": "release-1.2.3",
        "external_parameters": {"version": "1.2.3", "source": {"commit": "0" * 40}},
        "resolved_dependencies": [{"uri": "git+file:///repo", "digest": {"gitCommit": "0" * 40}}],
        "started_on": "2024-05-01T10:00:00Z",
        "finished_on": "2024-05-01T10:01:00Z",
    }
    args.update(overrides)
    return provenance.statement([("infractl-api", API), ("infractl-worker", WORKER)], **args)


def _payload(envelope) -> dict:
    return json.loads(base64.b64decode(envelope["payload"]))


def _with_payload(envelope, statement) -> dict:
    changed = copy.deepcopy(envelope)
    changed["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return changed


def test_statement_is_in_toto_v1_with_slsa_provenance_v1():
    doc = make_statement()
    assert doc["_type"] == "https://in-toto.io/Statement/v1"
    assert doc["predicateType"] == "https://slsa.dev/provenance/v1"
    assert doc["subject"] == [
        {"name": "infractl-api", "digest": {"sha256": "a1" * 32}},
        {"name": "infractl-worker", "digest": {"sha256": "b2" * 32}},
    ]
    build = doc["predicate"]["buildDefinition"]
    assert build["buildType"] == "https://infractl.local/release-build/v1"
    assert build["externalParameters"]["version"] == "1.2.3"
    assert build["resolvedDependencies"][0]["digest"] == {"gitCommit": "0" * 40}
    run = doc["predicate"]["runDetails"]
    assert run["builder"] == {"id": "https://infractl.local/builder/local"}
    assert run["metadata"] == {
        "invocationId": "release-1.2.3",
        "startedOn": "2024-05-01T10:00:00Z",
        "finishedOn": "2024-05-01T10:01:00Z",
    }


@pytest.mark.parametrize(
    ("subjects", "overrides", "message"),
    [
        ([("api", "sha256:nothex")], {}, "not an image digest"),
        ([], {}, "at least one subject"),
        ([("api", API), ("api", WORKER)], {}, "repeat a name"),
        ([("api", API)], {"started_on": "2024-05-01 10:00"}, "no time zone"),
        ([("api", API)], {"finished_on": "yesterday"}, "not an RFC 3339 timestamp"),
        ([("api", API)], {"resolved_dependencies": [{"name": "x"}]}, "neither a uri nor a digest"),
    ],
)
def test_statement_refuses_bad_inputs(subjects, overrides, message):
    args = {
        "build_type": "b",
        "builder_id": "x",
        "invocation_id": "i",
        "external_parameters": {},
        "resolved_dependencies": [],
        "started_on": "2024-05-01T10:00:00Z",
        "finished_on": "2024-05-01T10:01:00Z",
        **overrides,
    }
    with pytest.raises(UsageError, match=message):
        provenance.statement(subjects, **args)


def test_sign_and_verify(key):
    statement = make_statement()
    envelope = provenance.sign_statement(statement, key)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert [s["keyid"] for s in envelope["signatures"]] == [signing.key_id(key.public_key())]
    assert provenance.verify_envelope(envelope, key.public_key(), expected={"infractl-api": API}) == statement
    assert provenance.verify_envelope(envelope, key.public_key()) == statement


def test_envelope_signature_is_standard_dsse_with_cryptography_directly(key):
    """Cross-check outside securesystemslib: a DER ECDSA P-256 SHA-256 signature over DSSE's PAE."""
    envelope = provenance.sign_statement(make_statement(), key)
    payload = base64.b64decode(envelope["payload"])
    payload_type = envelope["payloadType"].encode()
    pae = b"DSSEv1 %d %b %d %b" % (len(payload_type), payload_type, len(payload), payload)
    key.public_key().verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae, ec.ECDSA(hashes.SHA256()))


def test_tampered_statement_is_refused(key):
    envelope = provenance.sign_statement(make_statement(), key)
    forged = _payload(envelope)
    forged["subject"][0]["digest"]["sha256"] = OTHER.split(":")[1]
    with pytest.raises(VerificationError, match="does not verify"):
        provenance.verify_envelope(_with_payload(envelope, forged), key.public_key(), expected={"infractl-api": OTHER})


def test_one_changed_byte_of_the_payload_is_refused(key):
    envelope = provenance.sign_statement(make_statement(), key)
    raw = bytearray(base64.b64decode(envelope["payload"]))
    raw[-2] ^= 0x01
    changed = {**envelope, "payload": base64.b64encode(bytes(raw)).decode()}
    with pytest.raises(VerificationError, match="does not verify"):
        provenance.verify_envelope(changed, key.public_key())


def test_wrong_key_is_refused(key, other_key):
    envelope = provenance.sign_statement(make_statement(), other_key)
    with pytest.raises(VerificationError, match=signing.key_id(key.public_key())[:12]):
        provenance.verify_envelope(envelope, key.public_key())


def test_the_keyid_is_a_hint_not_trust(key, other_key):
    """cosign writes empty keyids: they still verify. A keyid claiming our key does not make another key's
    signature valid."""
    envelope = provenance.sign_statement(make_statement(), key)
    blank = copy.deepcopy(envelope)
    blank["signatures"][0]["keyid"] = ""
    provenance.verify_envelope(blank, key.public_key())
    impostor = provenance.sign_statement(make_statement(), other_key)
    impostor["signatures"][0]["keyid"] = signing.key_id(key.public_key())
    with pytest.raises(VerificationError, match="does not verify"):
        provenance.verify_envelope(impostor, key.public_key())


def test_subject_digest_mismatch_is_refused(key):
    envelope = provenance.sign_statement(make_statement(), key)
    with pytest.raises(VerificationError, match=f"'infractl-api' is {API}, not {OTHER}"):
        provenance.verify_envelope(envelope, key.public_key(), expected={"infractl-api": OTHER})


def test_missing_subject_is_refused(key):
    envelope = provenance.sign_statement(make_statement(), key)
    with pytest.raises(VerificationError, match="no subject 'infractl-ui'"):
        provenance.verify_envelope(envelope, key.public_key(), expected={"infractl-ui": API})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"_type": "https://in-toto.io/Statement/v0.1"}, "not an in-toto Statement v1"),
        ({"predicateType": "https://slsa.dev/provenance/v0.2"}, "predicateType"),
        ({"subject": []}, "no subject"),
        ({"subject": [{"name": "infractl-api"}]}, "no name or sha256 digest"),
    ],
)
def test_signed_statements_of_the_wrong_kind_are_refused(key, change, message):
    envelope = provenance.sign_statement({**make_statement(), **change}, key)
    with pytest.raises(VerificationError, match=message):
        provenance.verify_envelope(envelope, key.public_key())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payloadType": "application/json"}, "payloadType"),
        ({"signatures": []}, "not signed"),
        ({"payload": "%%%"}, "no base64 payload"),
        ({"signatures": [{"keyid": "", "sig": "@@"}]}, "does not verify"),
        ({"signatures": ["junk"]}, "does not verify"),
    ],
)
def test_malformed_envelopes_are_refused(key, change, message):
    envelope = {**provenance.sign_statement(make_statement(), key), **change}
    with pytest.raises(VerificationError, match=message):
        provenance.verify_envelope(envelope, key.public_key())


def test_non_envelope_is_refused(key):
    with pytest.raises(VerificationError, match="not a DSSE envelope"):
        provenance.verify_envelope(["payload"], key.public_key())


def test_verification_leaves_the_envelope_unchanged(key):
    envelope = provenance.sign_statement(make_statement(), key)
    before = copy.deepcopy(envelope)
    provenance.verify_envelope(envelope, key.public_key())
    assert envelope == before


def test_dsse_bundle_carries_the_envelope(key):
    envelope = provenance.sign_statement(make_statement(), key)
    doc = provenance.bundle(envelope, key_hint="release-key")
    assert doc["verificationMaterial"]["publicKey"] == {"hint": "release-key"}
    assert doc["dsseEnvelope"] == {
        "payload": envelope["payload"],
        "payloadType": "application/vnd.in-toto+json",
        "signatures": envelope["signatures"],
    }


def test_attestation_artifact_round_trip(key):
    envelope = provenance.sign_statement(make_statement(), key)
    artifact = cosign.attestation_artifact(envelope)
    (layer,) = json.loads(artifact.manifest)["layers"]
    assert layer["mediaType"] == "application/vnd.dsse.envelope.v1+json"
    assert layer["annotations"]["predicateType"] == "https://slsa.dev/provenance/v1"
    store = {blob.digest: blob.data for blob in artifact.blobs}
    [read] = cosign.read_attestations(artifact.manifest, store.__getitem__)
    assert provenance.verify_envelope(read, key.public_key(), expected={"infractl-worker": WORKER})


def test_attestation_artifact_with_a_swapped_blob_is_refused(key):
    """A statement replaced in the registry: the blob no longer matches the digest the manifest names."""
    envelope = provenance.sign_statement(make_statement(), key)
    artifact = cosign.attestation_artifact(envelope)
    forged = _payload(envelope)
    forged["subject"][0]["digest"]["sha256"] = OTHER.split(":")[1]
    store = {blob.digest: blob.data for blob in artifact.blobs}
    store[artifact.layers[0].digest] = cosign.canonical(_with_payload(envelope, forged))
    with pytest.raises(VerificationError, match="does not match its content"):
        cosign.read_attestations(artifact.manifest, store.__getitem__)


def test_attestation_manifest_without_envelopes_is_refused(key):
    artifact = cosign.attestation_artifact(provenance.sign_statement(make_statement(), key))
    manifest = artifact.manifest.replace(b"dsse.envelope", b"dsse.other")
    with pytest.raises(VerificationError, match=r"no application/vnd\.dsse\.envelope\.v1\+json layer"):
        cosign.read_attestations(manifest, {b.digest: b.data for b in artifact.blobs}.__getitem__)


def test_attestation_artifact_needs_a_statement():
    with pytest.raises(UsageError, match="predicateType"):
        cosign.attestation_artifact({"payload": base64.b64encode(b"{}").decode()})
