"""The OCI distribution client (adapters/registry.py) against a real docker-registry (CNCF distribution) on free
loopback ports; an in-process fake registry only for the answers a sane registry never gives (a wrong digest, 401).

Uploads are counted twice: by the client (`Transfer`) and by the server (its access log, `count_uploads`)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import shutil
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from infractl.adapters import localservices as ls
from infractl.adapters import registry as reg
from infractl.adapters.registry import RegistryClient
from infractl.errors import RegistryError

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media_type: str, data: bytes) -> dict:
    return {"mediaType": media_type, "digest": sha(data), "size": len(data)}


def layer(text: str) -> bytes:
    """A small gzipped tar holding one file (fixed mtime, so the same text gives the same digest)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        data = text.encode() * 200
        info = tarfile.TarInfo("etc/hello")
        info.size, info.mtime = len(data), 1_700_000_000
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


class Image:
    """An OCI image made in memory: its config and layer blobs and its manifest bytes."""

    def __init__(self, name: str) -> None:
        self.layer = layer(f"hello from {name}\n")
        self.config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {"Env": [f"IMAGE={name}"]},
                "rootfs": {"type": "layers", "diff_ids": [sha(gzip.decompress(self.layer))]},
            }
        ).encode()
        self.body = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": reg.OCI_MANIFEST,
                "config": descriptor(OCI_CONFIG, self.config),
                "layers": [descriptor(OCI_LAYER, self.layer)],
            },
            indent=3,  # unusual formatting: a client that re-encodes would change the digest
        ).encode()
        self.digest = sha(self.body)

    def push(self, client: RegistryClient, repo: str, *, tag: str | None = None) -> str:
        client.push_blob(repo, sha(self.config), self.config)
        client.push_blob(repo, sha(self.layer), self.layer)
        return client.put_manifest(repo, tag or self.digest, self.body, reg.OCI_MANIFEST)


def index_of(*images: Image) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": reg.OCI_INDEX,
            "manifests": [
                descriptor(reg.OCI_MANIFEST, image.body) | {"platform": {"architecture": arch, "os": "linux"}}
                for image, arch in zip(images, ("amd64", "arm64"), strict=False)
            ],
        }
    ).encode()


@pytest.fixture(scope="module")
def registries(tmp_path_factory) -> Iterator[tuple[ls.Running, ls.Running]]:
    """Two real registries (storage in this test's temporary folders), stopped at the end."""
    if not shutil.which("docker-registry"):
        pytest.fail("docker-registry is not installed: `make install` installs Debian's docker-registry package")
    base = tmp_path_factory.mktemp("registries")
    one = ls.start_registry(base / "one", ls.free_port())
    try:
        two = ls.start_registry(base / "two", ls.free_port())
    except BaseException:
        ls.stop(one)
        raise
    yield one, two
    assert ls.stop(one) == [] and ls.stop(two) == []


@pytest.fixture
def local(registries) -> RegistryClient:
    client = RegistryClient(registries[0].url)
    yield client
    client.close()


@pytest.fixture
def remote(registries) -> RegistryClient:
    client = RegistryClient(registries[1].url)
    yield client
    client.close()


def server_uploads(running: ls.Running) -> int:
    return reg.count_uploads(running.log)


# --- blobs -------------------------------------------------------------------------------------------------------


def test_push_blob_uploads_once_and_reads_back(local, tmp_path):
    data = layer("blob test")
    assert local.push_blob("blobs/a", sha(data), data) is True
    assert local.push_blob("blobs/a", sha(data), data) is False  # HEAD first: present, not uploaded again
    assert local.blob_exists("blobs/a", sha(data)) and not local.blob_exists("blobs/b", sha(data))
    assert local.get_blob("blobs/a", sha(data)) == data
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * (3 * reg.CHUNK + 17))  # streamed from disk in several chunks
    assert local.push_blob("blobs/a", sha(big.read_bytes()), big) is True
    assert local.get_blob("blobs/a", sha(big.read_bytes())) == big.read_bytes()
    assert (local.transfer.uploaded, local.transfer.skipped) == (2, 1)
    assert local.transfer.bytes_uploaded == len(data) + big.stat().st_size


def test_the_registry_refuses_a_blob_whose_digest_does_not_match(local, registries):
    before = server_uploads(registries[0])
    wrong = sha(b"something else")
    with pytest.raises(RegistryError, match="DIGEST_INVALID"):
        local.push_blob("blobs/bad", wrong, b"hello")
    assert not local.blob_exists("blobs/bad", wrong)
    assert server_uploads(registries[0]) == before
    assert local.transfer.uploaded == 0


# --- manifests ---------------------------------------------------------------------------------------------------


def test_manifests_by_tag_and_digest_keep_their_bytes(local):
    image = Image("manifests")
    assert image.push(local, "dev/manifests", tag="v1") == image.digest
    got = local.manifest("dev/manifests", "v1")
    assert got == reg.Manifest(media_type=reg.OCI_MANIFEST, body=image.body, digest=image.digest)
    assert local.manifest("dev/manifests", image.digest) == got
    assert local.manifest_digest("dev/manifests", "v1") == image.digest
    assert local.manifest("dev/manifests", "missing") is None
    assert local.manifest_digest("dev/manifests", "missing") is None
    assert local.tags("dev/manifests") == ["v1"]
    assert local.tags("no/such-repo") == []
    assert "dev/manifests" in local.catalog()


def test_a_manifest_whose_blobs_are_missing_is_refused(local):
    image = Image("orphan")
    with pytest.raises(RegistryError, match="MANIFEST_BLOB_UNKNOWN"):
        local.put_manifest("dev/orphan", "v1", image.body, reg.OCI_MANIFEST)
    assert local.manifest("dev/orphan", "v1") is None


def test_bad_names_fail_before_any_request(local):
    image = Image("names")
    with pytest.raises(RegistryError, match="not a repository name"):
        local.tags("Dev/UPPER")
    with pytest.raises(RegistryError, match="not a tag"):
        local.manifest("dev/x", "-bad")
    with pytest.raises(RegistryError, match="not a sha256 digest"):
        local.blob_exists("dev/x", "sha256:abc")
    with pytest.raises(RegistryError, match="not to the digest it is put as"):
        local.put_manifest("dev/x", sha(b"other"), image.body, reg.OCI_MANIFEST)


# --- mount and copy ----------------------------------------------------------------------------------------------


def test_mount_links_a_blob_without_an_upload(local, registries):
    data = layer("mount test")
    local.push_blob("dev/mount", sha(data), data)
    before = server_uploads(registries[0])
    assert local.mount_blob("staging/mount", sha(data), "dev/mount") is True
    assert local.blob_exists("staging/mount", sha(data))
    absent = sha(b"not in any repository")
    assert local.mount_blob("prod/mount", absent, "dev/mount") is False  # the upload it opened is cancelled
    assert not local.blob_exists("prod/mount", absent)
    assert server_uploads(registries[0]) == before
    assert local.transfer.mounted == 1


def test_copy_within_one_registry_mounts_every_blob_and_keeps_the_digest(local, registries):
    image = Image("promote")
    digest = image.push(RegistryClient(registries[0].url), "dev/promote")
    before = server_uploads(registries[0])
    assert reg.copy(local, "dev/promote", digest, local, "staging/promote", tags=["build1", "latest"]) == digest
    assert server_uploads(registries[0]) == before  # the server completed no upload
    assert (local.transfer.mounted, local.transfer.uploaded) == (2, 0)
    assert local.manifest_digest("staging/promote", "build1") == digest
    assert local.manifest("staging/promote", "latest").body == image.body  # the bytes, not a re-encoding
    again = RegistryClient(registries[0].url)
    reg.copy(again, "staging/promote", digest, again, "staging/promote")  # everything present: nothing to move
    assert (again.transfer.skipped, again.transfer.mounted, again.transfer.uploaded) == (2, 0, 0)


def test_copy_between_registries_streams_the_blobs(local, remote, registries):
    image = Image("cross")
    digest = image.push(local, "staging/cross")
    before = server_uploads(registries[1])
    assert reg.copy(local, "staging/cross", digest, remote, "prod/cross", tags=["build1"]) == digest
    assert server_uploads(registries[1]) == before + 2
    assert (remote.transfer.uploaded, remote.transfer.mounted) == (2, 0)
    assert remote.transfer.bytes_uploaded == len(image.config) + len(image.layer)
    assert remote.manifest_digest("prod/cross", "build1") == digest
    assert remote.get_blob("prod/cross", sha(image.layer)) == image.layer


def test_copy_of_an_index_copies_each_image_by_digest(local):
    amd, arm = Image("amd64"), Image("arm64")
    amd.push(local, "dev/multi")
    arm.push(local, "dev/multi")
    index = index_of(amd, arm)
    digest = local.put_manifest("dev/multi", "v1", index, reg.OCI_INDEX)
    assert reg.copy(local, "dev/multi", digest, local, "staging/multi", tags=["v1"]) == digest
    assert local.manifest("staging/multi", "v1") == reg.Manifest(reg.OCI_INDEX, index, digest)
    for image in (amd, arm):
        assert local.manifest("staging/multi", image.digest).body == image.body
    assert local.transfer.mounted == 4


def test_copy_of_a_digest_the_source_lacks_fails_and_writes_nothing(local):
    missing = sha(b"never pushed")
    with pytest.raises(RegistryError, match="does not exist") as caught:
        reg.copy(local, "dev/promote", missing, local, "staging/nothing", tags=["v1"])
    assert "dev/promote" in caught.value.message and caught.value.hint
    assert "staging/nothing" not in local.catalog()


def test_copy_refuses_a_bad_tag_before_writing(local):
    image = Image("badtag")
    digest = image.push(local, "dev/badtag")
    with pytest.raises(RegistryError, match="not a tag"):
        reg.copy(local, "dev/badtag", digest, local, "staging/badtag", tags=["ok", "-bad"])
    assert local.manifest("staging/badtag", digest) is None


# --- OCI layouts -------------------------------------------------------------------------------------------------


def write_layout(root: Path, images: dict[str, Image]) -> Path:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    entries = []
    for name, image in images.items():
        for data in (image.config, image.layer, image.body):
            (blobs / sha(data).split(":")[1]).write_bytes(data)
        entries.append(descriptor(reg.OCI_MANIFEST, image.body) | {"annotations": {reg.REF_NAME: name}})
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    return root


def test_push_layout_pushes_the_named_image(local, tmp_path):
    api, worker = Image("api"), Image("worker")
    layout = write_layout(tmp_path / "oci", {"api": api, "worker": worker})
    assert reg.push_layout(local, layout, "api", "dev/api", tags=["build7"]) == api.digest
    assert local.manifest_digest("dev/api", "build7") == api.digest
    assert local.transfer.uploaded == 2
    assert reg.push_layout(local, layout, "api", "dev/api") == api.digest  # again: every blob skipped
    assert local.transfer.skipped == 2
    with pytest.raises(RegistryError, match="no image named 'db'") as caught:
        reg.push_layout(local, layout, "db", "dev/db")
    assert caught.value.hint == "names in it: api, worker"


def test_push_layout_refuses_a_corrupt_layout(local, tmp_path):
    api = Image("corrupt")
    layout = write_layout(tmp_path / "oci", {"api": api})
    (layout / "blobs" / "sha256" / api.digest.split(":")[1]).write_bytes(api.body + b" ")
    with pytest.raises(RegistryError, match="hashes to"):
        reg.push_layout(local, layout, "api", "dev/corrupt")
    with pytest.raises(RegistryError, match="not an OCI image layout"):
        reg.push_layout(local, tmp_path / "empty", "api", "dev/corrupt")


# --- the server's access log -------------------------------------------------------------------------------------


def test_count_uploads_counts_completed_blob_uploads_only(tmp_path):
    log = tmp_path / "registry.log"
    line = '127.0.0.1 - - [07/Dec/2026:05:37:34 +0000] "{} HTTP/1.1" {} 0 "" "skopeo/1.9.3"'
    log.write_text(
        "\n".join(
            [
                line.format("PUT /v2/dev/x/blobs/uploads/u1?_state=abc&digest=sha256%3A00", 201),  # counted
                line.format("PUT /v2/dev/x/blobs/uploads/u2?digest=sha256:11", 201),  # counted
                line.format("PUT /v2/dev/x/blobs/uploads/u3?_state=abc&digest=sha256%3A22", 400),  # refused
                line.format("POST /v2/staging/x/blobs/uploads/?mount=sha256:00&from=dev/x", 201),  # a mount
                line.format("PATCH /v2/dev/x/blobs/uploads/u4?_state=abc", 202),  # a chunk
                line.format("PUT /v2/dev/x/manifests/v1", 201),  # a manifest
                'time="..." level=error msg="x" http.request.uri="/v2/dev/x/blobs/uploads/u3?digest=sha256:22"',
            ]
        )
    )
    assert reg.count_uploads(log) == 2
    assert reg.count_uploads(tmp_path / "absent.log") == 0


# --- what only a broken or hostile registry answers (in-process fake) ------------------------------------------


@pytest.fixture
def fake() -> Iterator[Callable[[Callable], str]]:
    """fake(handler) -> base URL of an HTTP server on a free loopback port answering every request with
    handler(request_handler) -> (status, headers, body)."""
    servers = []

    def start(answer: Callable) -> str:
        class Handler(http.server.BaseHTTPRequestHandler):
            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, headers, body = answer(self)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _reply

            def log_message(self, *args) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused(fake):
    image = Image("tampered")
    tampered = image.body.replace(b"amd64", b"arm64") or image.body + b" "
    url = fake(lambda h: (200, {"Content-Type": reg.OCI_MANIFEST}, tampered + b" "))
    with pytest.raises(RegistryError, match="returned other content"):
        RegistryClient(url).manifest("dev/x", image.digest)


def test_a_registry_that_stores_other_bytes_is_caught(fake):
    image = Image("reencoded")
    url = fake(lambda h: (201, {"Docker-Content-Digest": sha(b"re-encoded")}, b""))
    with pytest.raises(RegistryError, match="was stored as") as caught:
        RegistryClient(url).put_manifest("dev/x", "v1", image.body, reg.OCI_MANIFEST)
    assert "re-encoded" in caught.value.hint


def test_a_blob_that_does_not_hash_to_its_digest_is_refused(fake):
    url = fake(lambda h: (200, {"Content-Type": "application/octet-stream"}, b"not the blob"))
    with pytest.raises(RegistryError, match="content received hashes to"):
        RegistryClient(url).get_blob("dev/x", sha(b"the blob"))


def test_refused_credentials_are_named_and_never_shown(fake):
    secret = "s3cret-ecr-token-value"  # pragma: allowlist secret
    body = json.dumps({"errors": [{"code": "DENIED", "message": "not authorized"}]}).encode()
    url = fake(lambda h: (401, {"Content-Type": "application/json"}, body))
    client = RegistryClient(url, auth=("AWS", secret))
    with pytest.raises(RegistryError, match="credentials refused") as caught:
        client.ping()
    shown = " ".join([caught.value.message, caught.value.hint or "", *caught.value.details, repr(client)])
    assert "DENIED" in shown and "ECR token" in shown
    assert secret not in shown
    with pytest.raises(RegistryError, match="credentials refused") as caught:
        RegistryClient(url).ping()
    assert "none were given" in caught.value.hint


def test_an_unreachable_registry_names_its_url():
    url = f"http://127.0.0.1:{ls.free_port()}"
    with pytest.raises(RegistryError, match="cannot reach it") as caught:
        RegistryClient(url).ping()
    assert url in caught.value.message and "registry status" in caught.value.hint
