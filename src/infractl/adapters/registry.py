"""An OCI distribution v2 client (httpx): the one way infractl talks to a container registry (docker-registry, ECR).

Everything moves by digest; a manifest is copied as the exact bytes it was pushed with, so its digest is the same
everywhere. `copy` mounts each blob within one registry (no upload) and streams it between registries. `Transfer`
counts what one client did; `count_uploads` what the registry SERVER completed, read from its access log.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from infractl.errors import RegistryError

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_MEDIA_TYPES: tuple[str, ...] = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST)
INDEX_MEDIA_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
REF_NAME = "org.opencontainers.image.ref.name"  # the image's name in an OCI layout's index.json
CHUNK = 1 << 20
# A repository name as the distribution spec defines it (path components of lowercase alphanumerics and separators).
REPO_NAME = re.compile(r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*")
TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# One access-log line of a completed blob upload: `"PUT /v2/<repo>/blobs/uploads/<id>?...digest=... HTTP/1.1" 201`.
UPLOAD_DONE = re.compile(r'"PUT /v2/\S+/blobs/uploads/\S*[?&]digest=\S* HTTP/[0-9.]+" 201 ')
# Layers a registry never holds (their `urls` point elsewhere): not copied.
FOREIGN = ("foreign", "nondistributable")
AUTH_HINT = (
    "the registry refused the credentials: an ECR token lasts 12 hours; check the AWS credentials and that they may"
    " pull/push this repository (ecr:GetAuthorizationToken, the repository policy)"
)
CORRUPT = "the registry's storage is corrupt, or something between us altered its answer"


@dataclass(frozen=True)
class Manifest:
    media_type: str
    body: bytes
    digest: str


@dataclass
class Transfer:
    """What one client did to its registry's blobs: uploaded (pushed or streamed), mounted, skipped (present)."""

    uploaded: int = 0
    mounted: int = 0
    skipped: int = 0
    bytes_uploaded: int = 0


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_digest(ref: str) -> bool:
    return ":" in ref  # a tag never holds a colon


class RegistryClient:
    """One registry, e.g. RegistryClient("http://127.0.0.1:5000") or the https URL of an ECR registry with
    auth=("AWS", token). The credentials go only into the Authorization header; no message or repr shows them."""

    def __init__(self, base_url: str, *, auth: tuple[str, str] | None = None, timeout: float = 60.0) -> None:
        import httpx

        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"{base_url!r} is not a registry URL", hint="give http(s)://HOST[:PORT]")
        self.base_url = f"{parts.scheme}://{parts.netloc}"
        self.host: str = parts.netloc
        self.transfer = Transfer()
        self._has_auth = auth is not None
        self._loopback = (parts.hostname or "") in ("127.0.0.1", "localhost", "::1")
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=httpx.BasicAuth(*auth) if auth else None,
            timeout=httpx.Timeout(timeout),
            trust_env=not self._loopback,  # loopback never through a proxy
        )

    def __repr__(self) -> str:
        return f"RegistryClient({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    # --- reading ---------------------------------------------------------------------------------------------

    def ping(self) -> None:
        """GET /v2/: the registry answers the distribution API (and accepts the credentials)."""
        self._request("GET", "/v2/", what="the API root", ok=(200,))

    def catalog(self) -> list[str]:
        """Every repository (ECR needs its own DescribeRepositories instead: it has no _catalog)."""
        return sorted(self._paged("/v2/_catalog?n=1000", "repositories", what="the catalog"))

    def tags(self, repo: str) -> list[str]:
        """The tags of repo; [] when the repository does not exist."""
        _repo(repo)
        return sorted(self._paged(f"/v2/{repo}/tags/list?n=1000", "tags", what=f"the tags of {repo}"))

    def manifest(self, repo: str, ref: str) -> Manifest | None:
        """The manifest repo:ref (tag) or repo@ref (digest) as stored; None when there is none. A digest ref is
        verified against the bytes received."""
        url = _manifest_path(repo, ref)
        resp = self._request("GET", url, what=f"manifest {_at(repo, ref)}", ok=(200, 404), headers=_ACCEPT)
        if resp.status_code == 404:
            return None
        body = resp.content
        digest = sha256(body)
        if is_digest(ref) and digest != ref:
            raise RegistryError(
                f"{self.host}: manifest {_at(repo, ref)} has digest {digest}: the registry returned other content",
                hint=CORRUPT,
            )
        header = resp.headers.get("Docker-Content-Digest")
        if header and header != digest:
            raise RegistryError(
                f"{self.host}: manifest {_at(repo, ref)}: the registry says {header}, its content hashes to {digest}",
                hint=CORRUPT,
            )
        media = resp.headers.get("Content-Type", "").split(";")[0].strip() or _media_type_of(body)
        return Manifest(media_type=media, body=body, digest=digest)

    def manifest_digest(self, repo: str, ref: str) -> str | None:
        """The digest repo:ref resolves to (HEAD, Docker-Content-Digest); None when there is none."""
        resp = self._request(
            "HEAD", _manifest_path(repo, ref), what=f"manifest {_at(repo, ref)}", ok=(200, 404), headers=_ACCEPT
        )
        if resp.status_code == 404:
            return None
        if digest := resp.headers.get("Docker-Content-Digest"):
            return digest
        found = self.manifest(repo, ref)  # a registry that does not say it on HEAD
        return found.digest if found else None

    def blob_exists(self, repo: str, digest: str) -> bool:
        _digest(digest)
        resp = self._request("HEAD", f"/v2/{_repo(repo)}/blobs/{digest}", what=f"blob {repo}@{digest}", ok=(200, 404))
        return resp.status_code == 200

    def get_blob(self, repo: str, digest: str) -> bytes:
        """The blob's bytes, verified against its digest."""
        return b"".join(self._blob_chunks(repo, digest))

    # --- writing ---------------------------------------------------------------------------------------------

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> str:
        """Store body (exactly these bytes) as repo:ref or repo@ref; returns its digest, verified to be the
        registry's."""
        digest = sha256(body)
        if is_digest(ref) and ref != digest:
            raise RegistryError(f"manifest for {_at(repo, ref)} hashes to {digest}, not to the digest it is put as")
        resp = self._request(
            "PUT",
            _manifest_path(repo, ref),
            what=f"manifest {_at(repo, ref)}",
            ok=(201,),
            headers={"Content-Type": media_type},
            content=body,
        )
        stored = resp.headers.get("Docker-Content-Digest")
        if stored and stored != digest:
            raise RegistryError(
                f"{self.host}: manifest {_at(repo, ref)} was stored as {stored}, but its bytes hash to {digest}",
                hint="the registry re-encoded the manifest: promote only to a registry that keeps manifests verbatim",
            )
        return digest

    def push_blob(self, repo: str, digest: str, data: bytes | Path) -> bool:
        """Upload a blob (bytes, or a file streamed from disk) unless repo has it: False when it was there already.
        One POST and one PUT (monolithic); the registry verifies the digest."""
        if self.blob_exists(repo, digest):
            self.transfer.skipped += 1
            return False
        if isinstance(data, Path):
            size = data.stat().st_size
            self._upload(repo, digest, _file_chunks(data), size)
        else:
            self._upload(repo, digest, data, len(data))
        return True

    def mount_blob(self, repo: str, digest: str, from_repo: str) -> bool:
        """Cross-repository mount: repo gets from_repo's blob without an upload. True when mounted (201); False when
        the registry opened an upload instead (202: blob not in from_repo, or mounts unsupported) - that upload is
        cancelled."""
        _digest(digest)
        _repo(from_repo)
        resp = self._request(
            "POST",
            f"/v2/{_repo(repo)}/blobs/uploads/",
            what=f"mount of {digest} from {from_repo} into {repo}",
            ok=(201, 202),
            params={"mount": digest, "from": from_repo},
        )
        if resp.status_code == 201:
            self.transfer.mounted += 1
            return True
        location = resp.headers.get("Location")
        if location:
            self._request("DELETE", location, what=f"cancel of the upload into {repo}", ok=(204, 404))
        return False

    # --- internals -------------------------------------------------------------------------------------------

    def _upload(self, repo: str, digest: str, content: bytes | Iterator[bytes], size: int) -> None:
        _digest(digest)
        what = f"upload of blob {digest} into {repo}"
        started = self._request("POST", f"/v2/{_repo(repo)}/blobs/uploads/", what=what, ok=(202,))
        location = started.headers.get("Location")
        if not location:
            raise RegistryError(f"{self.host}: {what}: the registry gave no upload location")
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self._request(
            "PUT", location, what=what, ok=(201,), headers=headers, content=content, params={"digest": digest}
        )
        self.transfer.uploaded += 1
        self.transfer.bytes_uploaded += size

    def _blob_chunks(self, repo: str, digest: str) -> Iterator[bytes]:
        """The blob's bytes in chunks, streamed; the last chunk is yielded only after the digest verified. A
        redirect (ECR sends blobs from S3) is followed; httpx drops our credentials when it leaves the origin."""
        import httpx

        _digest(digest)
        what = f"blob {repo}@{digest}"
        try:
            with self._http.stream("GET", f"/v2/{_repo(repo)}/blobs/{digest}", follow_redirects=True) as resp:
                if resp.status_code != 200:
                    resp.read()
                    self._raise(resp, what)
                hasher = hashlib.sha256()
                held: bytes | None = None
                for chunk in resp.iter_bytes(CHUNK):
                    hasher.update(chunk)
                    if held is not None:
                        yield held
                    held = chunk
                got = "sha256:" + hasher.hexdigest()
                if got != digest:
                    raise RegistryError(
                        f"{self.host}: {what}: the content received hashes to {got}",
                        hint=CORRUPT,
                    )
                if held is not None:
                    yield held
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from None

    def _paged(self, path: str, key: str, *, what: str) -> list[str]:
        found: list[str] = []
        url: str | None = path
        while url:
            resp = self._request("GET", url, what=what, ok=(200, 404))
            if resp.status_code == 404:
                return found
            found += resp.json().get(key) or []
            nxt = resp.links.get("next", {}).get("url")
            url = nxt if nxt and nxt != url else None
        return found

    def _request(
        self,
        method: str,
        url: str,
        *,
        what: str,
        ok: Sequence[int],
        headers: dict[str, str] | None = None,
        content: bytes | Iterator[bytes] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        import httpx

        try:
            target = httpx.URL(url) if url.startswith(("http://", "https://")) else self._http.base_url.join(url)
            target = target.copy_merge_params(params) if params else target
            resp = self._http.request(method, target, headers=headers, content=content)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, what) from None
        if resp.status_code not in ok:
            self._raise(resp, what)
        return resp

    def _transport_error(self, exc: Exception, what: str) -> RegistryError:
        import httpx

        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else f"cannot reach it ({exc})"
        return RegistryError(
            f"{self.base_url}: {what}: {kind}",
            hint="is the registry running? `infractl registry status` shows the local one"
            if self._loopback
            else "check the network path to the registry",
        )

    def _raise(self, resp: Any, what: str) -> None:
        code = resp.status_code
        detail = _error_text(resp)
        if code in (401, 403):
            hint = AUTH_HINT if self._has_auth else "the registry wants credentials and none were given"
            raise RegistryError(f"{self.host}: {what}: HTTP {code}: credentials refused{detail}", hint=hint)
        raise RegistryError(f"{self.host}: {what}: HTTP {code}{detail}")


_ACCEPT = {"Accept": ", ".join(MANIFEST_MEDIA_TYPES)}


def _repo(repo: str) -> str:
    if not REPO_NAME.fullmatch(repo):
        raise RegistryError(
            f"{repo!r} is not a repository name",
            hint="lowercase letters, digits and . _ - separators, path components joined by /",
        )
    return repo


def _digest(digest: str) -> str:
    if not DIGEST.fullmatch(digest):
        raise RegistryError(f"{digest!r} is not a sha256 digest", hint="a digest is sha256: and 64 hex digits")
    return digest


def _manifest_path(repo: str, ref: str) -> str:
    if is_digest(ref):
        _digest(ref)
    elif not TAG.fullmatch(ref):
        raise RegistryError(f"{ref!r} is not a tag", hint="a tag is 1-128 of A-Z a-z 0-9 _ . - (not starting with . -)")
    return f"/v2/{_repo(repo)}/manifests/{quote(ref, safe=':')}"


def _at(repo: str, ref: str) -> str:
    return f"{repo}@{ref}" if is_digest(ref) else f"{repo}:{ref}"


def _error_text(resp: Any) -> str:
    """The registry's own error code and message (distribution's {"errors": [...]}), if any."""
    try:
        first = (resp.json().get("errors") or [{}])[0]
        text = f"{first.get('code', '')} {first.get('message', '')}".strip()
    except (ValueError, AttributeError, TypeError):
        return ""
    return f": {text}" if text else ""


def _media_type_of(body: bytes) -> str:
    try:
        return str(json.loads(body).get("mediaType") or OCI_MANIFEST)
    except (ValueError, AttributeError):
        return OCI_MANIFEST


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _children(manifest: Manifest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(child manifests, blobs) a manifest references: an index lists manifests; an image its config and layers."""
    try:
        doc = json.loads(manifest.body)
    except ValueError:
        raise RegistryError(f"manifest {manifest.digest} is not JSON") from None
    media = doc.get("mediaType") or manifest.media_type
    if media in INDEX_MEDIA_TYPES or ("manifests" in doc and "layers" not in doc):
        return list(doc.get("manifests") or []), []
    blobs = [doc["config"]] if doc.get("config") else []
    blobs += [layer for layer in doc.get("layers") or [] if not any(f in layer.get("mediaType", "") for f in FOREIGN)]
    return [], blobs


# --- copy and push -----------------------------------------------------------------------------------------------


def copy(
    src: RegistryClient, src_repo: str, digest: str, dst: RegistryClient, dst_repo: str, *, tags: Sequence[str] = ()
) -> str:
    """Copy src_repo@digest (an image, or an index with all its images) to dst_repo BY DIGEST, then put each tag.

    Blobs already in dst_repo are skipped; within one registry the others are mounted, never uploaded; across
    registries they are streamed. The manifest bytes are put verbatim, so the destination digest is `digest`
    (verified). Tags are put last: a tag never points at a manifest whose blobs are missing."""
    _digest(digest)
    for tag in tags:
        _manifest_path(dst_repo, tag)  # a bad tag fails before anything is written
    manifest = src.manifest(src_repo, digest)
    if manifest is None:
        raise RegistryError(
            f"{src.host}: {src_repo}@{digest} does not exist",
            hint=f"only an image already in {src_repo} can be promoted: push or promote it there first",
        )
    _copy_manifest(src, src_repo, manifest, dst, dst_repo)
    _tag(dst, dst_repo, tags, manifest)
    return digest


def _tag(client: RegistryClient, repo: str, tags: Sequence[str], manifest: Manifest) -> None:
    """Put each tag, skipping one that already names this digest: registries with immutable tags (ECR) refuse
    even an identical re-put, and a re-run must succeed."""
    for tag in tags:
        if client.manifest_digest(repo, tag) != manifest.digest:
            client.put_manifest(repo, tag, manifest.body, manifest.media_type)


def _copy_manifest(src: RegistryClient, src_repo: str, manifest: Manifest, dst: RegistryClient, dst_repo: str) -> None:
    same_registry = src is dst or src.base_url == dst.base_url
    children, blobs = _children(manifest)
    for child in children:
        found = src.manifest(src_repo, child["digest"])
        if found is None:
            raise RegistryError(
                f"{src.host}: {src_repo}@{manifest.digest} lists {child['digest']}, which is not in {src_repo}",
                hint="the source index is incomplete: push all its images first",
            )
        _copy_manifest(src, src_repo, found, dst, dst_repo)
    for blob in blobs:
        d = blob["digest"]
        if dst.blob_exists(dst_repo, d):
            dst.transfer.skipped += 1
        elif not (same_registry and src_repo != dst_repo and dst.mount_blob(dst_repo, d, src_repo)):
            dst._upload(dst_repo, d, src._blob_chunks(src_repo, d), int(blob.get("size") or 0))
    # put by digest: put_manifest verifies that the registry stored exactly these bytes under this digest
    dst.put_manifest(dst_repo, manifest.digest, manifest.body, manifest.media_type)


def push_layout(client: RegistryClient, layout: Path, ref_name: str, repo: str, *, tags: Sequence[str] = ()) -> str:
    """Push the image named ref_name in the OCI image layout at `layout` (index.json annotation
    org.opencontainers.image.ref.name, as umoci and skopeo write it) to repo: blobs, then the manifest by digest,
    then each tag. Returns the manifest digest, the one index.json records."""
    layout = Path(layout)
    index_path = layout / "index.json"
    try:
        index = json.loads(index_path.read_text())
    except FileNotFoundError:
        raise RegistryError(f"{index_path}: not an OCI image layout (no index.json)") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{index_path}: not valid JSON ({exc})") from None
    entries = [m for m in index.get("manifests") or [] if (m.get("annotations") or {}).get(REF_NAME) == ref_name]
    if not entries:
        names = sorted({(m.get("annotations") or {}).get(REF_NAME, "") for m in index.get("manifests") or []} - {""})
        raise RegistryError(
            f"{index_path}: no image named {ref_name!r}", hint=f"names in it: {', '.join(names) or 'none'}"
        )
    if len(entries) > 1:
        raise RegistryError(f"{index_path}: {len(entries)} images are named {ref_name!r}", hint="names must be unique")
    for tag in tags:
        _manifest_path(repo, tag)
    entry = entries[0]
    manifest = _layout_manifest(layout, entry["digest"], entry.get("mediaType"))
    _push_manifest(client, layout, manifest, repo)
    _tag(client, repo, tags, manifest)
    return manifest.digest


def _layout_blob(layout: Path, digest: str) -> Path:
    _digest(digest)
    path = layout / "blobs" / "sha256" / digest.split(":", 1)[1]
    if not path.is_file():
        raise RegistryError(f"{layout}: blob {digest} is missing (blobs/sha256/...)", hint="rebuild the layout")
    return path


def _layout_manifest(layout: Path, digest: str, media_type: str | None) -> Manifest:
    body = _layout_blob(layout, digest).read_bytes()
    if sha256(body) != digest:
        raise RegistryError(f"{layout}: manifest blob {digest} hashes to {sha256(body)}", hint="the layout is corrupt")
    return Manifest(media_type=media_type or _media_type_of(body), body=body, digest=digest)


def _push_manifest(client: RegistryClient, layout: Path, manifest: Manifest, repo: str) -> None:
    children, blobs = _children(manifest)
    for child in children:
        _push_manifest(client, layout, _layout_manifest(layout, child["digest"], child.get("mediaType")), repo)
    for blob in blobs:
        client.push_blob(repo, blob["digest"], _layout_blob(layout, blob["digest"]))
    client.put_manifest(repo, manifest.digest, manifest.body, manifest.media_type)


# --- the server's view -----------------------------------------------------------------------------------------


def count_uploads(log: Path) -> int:
    """Blob uploads the registry server completed (PUT .../blobs/uploads/...?digest= answered 201), read from its
    access log: independent of any client's counters. Mounts (POST ...?mount= answered 201) are not uploads."""
    try:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return 0
    return sum(1 for line in text.splitlines() if UPLOAD_DONE.search(line))
