"""Image signatures in cosign's format: the encrypted key pair, the simple-signing payload, sign/verify and every
way a signature must be refused, the sigstore bundle, and the `.sig` OCI artifact."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from infractl.errors import ConfigError, UsageError, VerificationError
from infractl.services.release import cosign, signing

PASSWORD = b"correct horse battery staple"
DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32
REPO = "127.0.0.1:5000/dev/infractl-api"


@pytest.fixture(scope="module")
def keypair(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    private_path, public_path = signing.generate_key(directory, PASSWORD)
    return private_path, public_path, signing.load_private_key(private_path, PASSWORD)


@pytest.fixture(scope="module")
def other_key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_body(path) -> bytes:
    text = path.read_text()
    match = re.fullmatch(r"-----BEGIN (.+?)-----\n(.*)\n-----END \1-----\n", text, re.S)
    assert match, text
    assert all(len(line) <= 64 for line in match.group(2).splitlines())
    return match.group(1), base64.b64decode(match.group(2))


# --- the key pair -------------------------------------------------------------------------------------------------


def test_generated_key_is_cosigns_encrypted_format(keypair):
    private_path, public_path, key = keypair
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_path.stat().st_mode) == 0o644
    block_type, body = _pem_body(private_path)
    assert block_type == "ENCRYPTED COSIGN PRIVATE KEY"
    doc = json.loads(body)
    assert list(doc) == ["kdf", "cipher", "ciphertext"]
    assert doc["kdf"]["name"] == "scrypt" and doc["kdf"]["params"] == {"N": 32768, "r": 8, "p": 1}
    assert len(base64.b64decode(doc["kdf"]["salt"])) == 32
    assert doc["cipher"]["name"] == "nacl/secretbox" and len(base64.b64decode(doc["cipher"]["nonce"])) == 24
    assert PASSWORD not in private_path.read_bytes() and PASSWORD not in body
    assert isinstance(key.curve, ec.SECP256R1)
    assert signing.load_public_key(public_path).public_numbers() == key.public_key().public_numbers()
    assert public_path.read_text().startswith("-----BEGIN PUBLIC KEY-----\n")


# Test vectors of go-securesystemslib's `encrypted` package, which cosign encrypts its keys with (password
# "supersecret"): (scrypt params, salt, nonce, ciphertext, plaintext).
GO_VECTORS = [
    (
        {"N": 32768, "r": 8, "p": 1},
        "N9a7x5JFGbrtB2uBR81jPwp0eiLR4A7FV3mjVAQrg1g=",  # pragma: allowlist secret
        "2h8HxMmgRfuYdpswZBQaU3xJ1nkA/5Ik",  # pragma: allowlist secret
        "SEW6sUh0jf2wfdjJGPNS9+bkk2uB+Cxamf32zR8XkQ==",  # pragma: allowlist secret
        b"reallyimportant",
    ),
    (
        {"N": 131072, "r": 8, "p": 1},
        "m38E3kouJTtiheLQN22NQ8DTito5hrjpUIskqcd375k=",  # pragma: allowlist secret
        "Y6PM13yA+o44pE/W1ZBwczeGnTV/m9Zc",  # pragma: allowlist secret
        "6H8sqj1K6B6yDjtH5AQ6lbFigg/C2yDDJc4rYJ79w9aVPImFIPI=",  # pragma: allowlist secret
        b'"cmVhbGx5aW1wb3J0YW50"',  # that vector encrypts the JSON of the bytes
    ),
]


@pytest.mark.parametrize(("params", "salt", "nonce", "ciphertext", "plaintext"), GO_VECTORS, ids=["legacy", "owasp"])
def test_decrypts_the_vectors_of_cosigns_encryption_library(params, salt, nonce, ciphertext, plaintext):
    """Our reader opens what cosign's encryption writes, at each scrypt strength it writes."""
    doc = {
        "kdf": {"name": "scrypt", "params": params, "salt": salt},
        "cipher": {"name": "nacl/secretbox", "nonce": nonce},
        "ciphertext": ciphertext,
    }
    data = json.dumps(doc, separators=(",", ":")).encode()
    assert signing.decrypt_key_material(data, b"supersecret", display="vector") == plaintext
    with pytest.raises(VerificationError, match="vector: cannot decrypt"):
        signing.decrypt_key_material(data, b"supersecreT", display="vector")


def test_reads_the_sigstore_pem_type_cosign_writes_today(tmp_path, keypair):
    private_path = keypair[0]
    renamed = tmp_path / "sigstore.key"
    renamed.write_text(private_path.read_text().replace("COSIGN PRIVATE KEY", "SIGSTORE PRIVATE KEY"))
    assert signing.key_id(signing.load_private_key(renamed, PASSWORD).public_key()) == signing.key_id(
        keypair[2].public_key()
    )


def test_never_overwrites_a_key(keypair):
    private_path, public_path, _ = keypair
    before = (private_path.read_bytes(), public_path.read_bytes())
    with pytest.raises(ConfigError, match="already exists"):
        signing.generate_key(private_path.parent, b"another")
    assert (private_path.read_bytes(), public_path.read_bytes()) == before


def test_a_lone_public_key_also_blocks_generation(tmp_path):
    (tmp_path / "cosign.pub").write_text("left over")
    with pytest.raises(ConfigError, match=r"cosign\.pub"):
        signing.generate_key(tmp_path, PASSWORD)
    assert not (tmp_path / "cosign.key").exists()


def test_wrong_password_names_the_file_not_the_password(keypair):
    with pytest.raises(VerificationError) as err:
        signing.load_private_key(keypair[0], b"hunter2-wrong")
    text = f"{err.value.message} {err.value.hint}"
    assert str(keypair[0]) in text and "wrong password" in text and "hunter2" not in text


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda text: text.replace(text.splitlines()[2][:10], "A" * 10),  # ciphertext bytes changed
        lambda text: text.replace("ENCRYPTED COSIGN PRIVATE KEY", "PRIVATE KEY"),
        lambda text: "not a key at all\n",
        lambda text: text.replace(text.splitlines()[1], "!!!!"),
    ],
    ids=["ciphertext", "pem-type", "garbage", "base64"],
)
def test_corrupt_key_file_is_refused(tmp_path, keypair, corrupt):
    broken = tmp_path / "broken.key"
    broken.write_text(corrupt(keypair[0].read_text()))
    with pytest.raises(VerificationError, match=re.escape(str(broken))):
        signing.load_private_key(broken, PASSWORD)


def test_unsupported_scrypt_parameters_are_refused_before_running_them(tmp_path, keypair):
    _, body = _pem_body(keypair[0])
    doc = json.loads(body)
    doc["kdf"]["params"]["N"] = 1 << 30  # 128 GiB of scrypt memory if anyone ran it
    crafted = tmp_path / "crafted.key"
    crafted.write_bytes(signing._pem("ENCRYPTED COSIGN PRIVATE KEY", json.dumps(doc).encode()))
    with pytest.raises(VerificationError, match="unsupported scrypt parameters"):
        signing.load_private_key(crafted, PASSWORD)


def test_missing_key_files_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="no private key"):
        signing.load_private_key(tmp_path / "cosign.key", PASSWORD)
    with pytest.raises(ConfigError, match="no public key"):
        signing.load_public_key(tmp_path / "cosign.pub")


def test_key_id_is_the_sha256_of_the_spki(keypair):
    _, public_path, key = keypair
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert signing.key_id(key.public_key()) == hashlib.sha256(der).hexdigest()
    assert signing.key_id(signing.load_public_key(public_path)) == signing.key_id(key.public_key())


# --- payload, signature, verification ------------------------------------------------------------------------------


def test_payload_is_cosigns_simple_signing_json():
    assert signing.simple_signing_payload(REPO, DIGEST) == (
        b'{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/dev/infractl-api"},'
        b'"image":{"docker-manifest-digest":"sha256:' + b"ab" * 32 + b'"},'
        b'"type":"cosign container image signature"},"optional":null}'
    )
    with pytest.raises(UsageError, match="not an image digest"):
        signing.simple_signing_payload(REPO, "sha256:short")


def test_signature_verifies(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload(REPO, DIGEST)
    signing.verify(payload, signing.sign(payload, key), key.public_key(), digest=DIGEST, image_name="infractl-api")


def test_signature_verifies_with_cryptography_directly(keypair):
    """Format cross-check outside our verify: base64 of a DER ECDSA P-256 SHA-256 signature, SPKI PEM key."""
    _, public_path, key = keypair
    payload = signing.simple_signing_payload(REPO, DIGEST)
    raw = base64.b64decode(signing.sign(payload, key))
    public = serialization.load_pem_public_key(public_path.read_bytes())
    public.verify(raw, payload, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        public.verify(raw, payload + b" ", ec.ECDSA(hashes.SHA256()))


def test_tampered_payload_is_refused(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload(REPO, DIGEST)
    signature = signing.sign(payload, key)
    forged = signing.simple_signing_payload(REPO, OTHER_DIGEST)
    with pytest.raises(VerificationError, match="does not verify"):
        signing.verify(forged, signature, key.public_key(), digest=OTHER_DIGEST, image_name="infractl-api")


def test_signature_by_another_key_is_refused(keypair, other_key):
    payload = signing.simple_signing_payload(REPO, DIGEST)
    signature = signing.sign(payload, other_key)
    with pytest.raises(VerificationError, match=signing.key_id(keypair[2].public_key())[:12]):
        signing.verify(payload, signature, keypair[2].public_key(), digest=DIGEST, image_name="infractl-api")


def test_a_valid_signature_of_another_digest_is_refused(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload(REPO, OTHER_DIGEST)
    with pytest.raises(VerificationError, match=f"is for {OTHER_DIGEST}, not for {DIGEST}"):
        signing.verify(payload, signing.sign(payload, key), key.public_key(), digest=DIGEST, image_name="infractl-api")


def test_a_valid_signature_of_another_image_is_refused(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload("127.0.0.1:5000/dev/infractl-worker", DIGEST)
    with pytest.raises(VerificationError, match="not for 'infractl-api'"):
        signing.verify(payload, signing.sign(payload, key), key.public_key(), digest=DIGEST, image_name="infractl-api")


def test_the_image_name_is_the_last_path_segment_of_any_repository(keypair):
    """The same signature is valid in dev/, staging/ and prod/: promotion copies it, the image name stays."""
    key = keypair[2]
    for reference in ("127.0.0.1:5000/prod/infractl-api", "infractl-api", "registry:443/a/b/infractl-api:1.0"):
        payload = signing.simple_signing_payload(reference, DIGEST)
        signing.verify(payload, signing.sign(payload, key), key.public_key(), digest=DIGEST, image_name="infractl-api")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (b'{"critical":{"type":"atomic container signature"}}', "not a cosign image signature"),
        (b'{"optional":null}', "no `critical` section"),
    ],
)
def test_signed_but_malformed_payloads_are_refused(keypair, payload, message):
    key = keypair[2]
    with pytest.raises(VerificationError, match=message):
        signing.verify(payload, signing.sign(payload, key), key.public_key(), digest=DIGEST, image_name="infractl-api")


def test_signature_that_is_not_base64_is_refused(keypair):
    payload = signing.simple_signing_payload(REPO, DIGEST)
    with pytest.raises(VerificationError, match="not base64"):
        signing.verify(payload, "@@@", keypair[2].public_key(), digest=DIGEST, image_name="infractl-api")


def test_bundle_carries_the_payload_digest_and_the_key_hint(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload(REPO, DIGEST)
    signature = signing.sign(payload, key)
    doc = signing.bundle(payload, signature, key_hint="release-key")
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert doc["verificationMaterial"]["publicKey"] == {"hint": "release-key"}
    assert doc["verificationMaterial"]["tlogEntries"] == []
    message = doc["messageSignature"]
    assert base64.b64decode(message["messageDigest"]["digest"]) == hashlib.sha256(payload).digest()
    assert message["signature"] == signature


# --- the .sig artifact ----------------------------------------------------------------------------------------------


def test_tag_scheme():
    assert cosign.tag_for(DIGEST, "sig") == "sha256-" + "ab" * 32 + ".sig"
    assert cosign.tag_for(DIGEST, "att").endswith(".att") and cosign.tag_for(DIGEST, "sbom").endswith(".sbom")
    with pytest.raises(UsageError):
        cosign.tag_for(DIGEST, "exe")
    with pytest.raises(UsageError):
        cosign.tag_for("latest", "sig")


def _store(artifact: cosign.Artifact) -> dict[str, bytes]:
    return {blob.digest: blob.data for blob in artifact.blobs}


def test_signature_artifact_layout_and_round_trip(keypair):
    key = keypair[2]
    payload = signing.simple_signing_payload(REPO, DIGEST)
    signature = signing.sign(payload, key)
    artifact = cosign.signature_artifact(payload, signature)
    manifest = json.loads(artifact.manifest)
    assert artifact.manifest == json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    assert artifact.digest == "sha256:" + hashlib.sha256(artifact.manifest).hexdigest()
    assert manifest["mediaType"] == artifact.media_type == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == "application/vnd.dev.cosign.simplesigning.v1+json"
    assert layer["annotations"] == {"dev.cosignproject.cosign/signature": signature}
    assert layer["digest"] == "sha256:" + hashlib.sha256(payload).hexdigest() and layer["size"] == len(payload)
    assert json.loads(artifact.config.data)["rootfs"]["diff_ids"] == [layer["digest"]]
    store = _store(artifact)
    [(read_payload, read_signature)] = cosign.read_signatures(artifact.manifest, store.__getitem__)
    signing.verify(read_payload, read_signature, key.public_key(), digest=DIGEST, image_name="infractl-api")
    assert cosign.signature_artifact(payload, signature) == artifact  # deterministic


def test_signature_artifact_with_a_corrupted_blob_is_refused(keypair):
    payload = signing.simple_signing_payload(REPO, DIGEST)
    artifact = cosign.signature_artifact(payload, signing.sign(payload, keypair[2]))
    store = _store(artifact)
    store[artifact.layers[0].digest] = payload.replace(b"ab", b"cd")
    with pytest.raises(VerificationError, match="does not match its content"):
        cosign.read_signatures(artifact.manifest, store.__getitem__)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: b"<html>", "not JSON"),
        (lambda m: json.dumps({**json.loads(m), "schemaVersion": 1}).encode(), "not an OCI image manifest"),
        (lambda m: m.replace(b"dev.cosignproject.cosign/signature", b"x-signature"), "no dev.cosignproject"),
        (lambda m: m.replace(b"cosign.simplesigning", b"cosign.other"), "no application/vnd.dev.cosign"),
    ],
    ids=["not-json", "schema-1", "no-annotation", "no-signature-layer"],
)
def test_malformed_signature_manifests_are_refused(keypair, mutate, message):
    payload = signing.simple_signing_payload(REPO, DIGEST)
    artifact = cosign.signature_artifact(payload, signing.sign(payload, keypair[2]))
    with pytest.raises(VerificationError, match=message):
        cosign.read_signatures(mutate(artifact.manifest), _store(artifact).__getitem__)
