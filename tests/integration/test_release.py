"""The real images of `infractl release build` without a daemon (services/release/image.py, docs/images.md): built
once per session (tests/integration/release_fixtures.py), then

- the api image runs: `umoci unpack` (an implementation this project did not write reads the layout) and, chrooted
  into its root file system as user 10001 with the image's own environment, its Python imports the api, the worker
  and their dependencies for real; no pip in it, byte code compiled checked-hash;
- a second build of the same commit gives the same digests, with the dependencies installed again from scratch
  (only the base is shared), and that base came from the cache.

Runs as root (umoci unpack and chroot need it, as in CI): anything else fails, never skips.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from infractl.adapters import process
from infractl.adapters.registry import RegistryClient, count_uploads
from infractl.services.release import cosign, sbom, signing
from infractl.services.release.base import base_image, read_blob
from infractl.services.release.image import IMAGE_NAMES
from tests.conftest import REPO
from tests.integration import release_fixtures
from tests.integration.release_fixtures import build

built_release_images = release_fixtures.built_release_images  # the session fixture

pytestmark = pytest.mark.integration

IMPORTS = "import controlplane.api, controlplane.worker, fastapi, temporalio, psycopg, uvicorn, sys"


def test_the_api_image_runs_its_imports_as_user_10001(built_release_images, tmp_path):
    if os.geteuid() != 0:
        pytest.fail("umoci unpack and chroot need root here (CI runs as root)")
    images, _ = built_release_images
    api = next(i for i in images if i.name == "controlplane-api")
    config = read_blob(api.layout, api.config_digest)["config"]
    bundle = tmp_path / "bundle"
    process.run([process.find_binary("umoci"), "unpack", "--image", f"{api.layout}:{api.ref_name}", bundle])
    rootfs = bundle / "rootfs"
    try:
        env = dict(e.split("=", 1) for e in config["Env"])
        done = process.run(
            [
                process.find_binary("chroot"),
                f"--userspec={config['User']}",
                rootfs,
                "python",  # found on the image's PATH, as its CMD is
                "-c",
                f"{IMPORTS}; print(sys.prefix, '%d.%d' % sys.version_info[:2], controlplane.api.__file__)",
            ],
            env=env,
        )
        site_in_image = "/opt/venv/lib/python3.11/site-packages"
        assert done.stdout.split() == ["/opt/venv", "3.11", f"{site_in_image}/controlplane/api.py"]
        passwd = (rootfs / "etc" / "passwd").read_text().splitlines()
        assert "controlplane:x:10001:10001::/nonexistent:/usr/sbin/nologin" in passwd
        site = rootfs / "opt" / "venv" / "lib" / "python3.11" / "site-packages"
        assert not (rootfs / "opt" / "venv" / "bin" / "pip").exists() and not (site / "pip").exists()
        assert (rootfs / "opt" / "venv" / "pyvenv.cfg").read_text().startswith("home = /usr/bin\n")
        pyc = site / "fastapi" / "__pycache__" / "__init__.cpython-311.pyc"
        assert int.from_bytes(pyc.read_bytes()[4:8], "little") == 0b11  # checked-hash
        assert (site / "controlplane" / "__pycache__" / "api.cpython-311.pyc").is_file()
        assert not list((rootfs / "opt").rglob("direct_url.json"))
    finally:
        shutil.rmtree(bundle, ignore_errors=True)


def test_a_second_build_of_the_same_commit_gives_the_same_digests(built_release_images, tmp_path):
    images, cache_dir = built_release_images
    again = tmp_path / "cache"
    again.mkdir()
    (again / "base").symlink_to(cache_dir / "base")  # the base is shared; the dependencies are installed anew
    base = base_image(again)
    assert base.cached
    assert base.layer.name == images[0].layers[0].name
    rebuilt, timings = build(again, tmp_path / "out")
    assert not (cache_dir / "deps").samefile(again / "deps")
    assert [(i.name, i.digest, i.config_digest) for i in rebuilt] == [
        (i.name, i.digest, i.config_digest) for i in images
    ]
    recorded = json.loads((cache_dir / "timings.json").read_text())
    (cache_dir / "timings.json").write_text(json.dumps(recorded | {"deps_cold_base_cached": timings}, indent=2) + "\n")


def test_api_and_worker_are_one_layout_sharing_their_layers(built_release_images):
    images, _ = built_release_images
    assert [i.name for i in images] == list(IMAGE_NAMES)
    api, worker = images
    assert api.layout == worker.layout and api.layers == worker.layers and len(api.layers) == 3
    index = json.loads((api.layout / "index.json").read_text())
    assert sorted(m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]) == sorted(
        i.ref_name for i in images
    )
    assert read_blob(worker.layout, worker.config_digest)["config"]["Cmd"] == ["python", "-m", "controlplane.worker"]


# --- the whole flow, from a fresh clone: build → dev, tampering refused, dev → staging → prod -------------------------
# (in this module so that `infractl release build` reuses the session's image cache: one cold build per worker)

INFRACTL = str(Path(sys.executable).with_name("infractl"))
APPROVE_STAGING = ("--approved-by", "platform-leads")
APPROVE_PROD = ("--approved-by", "platform-leads", "--approved-by", "sre-oncall")


@dataclass
class Flow:
    root: Path
    env: dict[str, str]
    build: dict
    client: RegistryClient

    def run(self, *args: str, code: int = 0, extra_env: dict[str, str] | None = None) -> process.Completed:
        done = process.run(
            [INFRACTL, "--root", str(self.root), *args],
            env={**self.env, **(extra_env or {})},
            ok_codes=(code,),
            timeout=600,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "--json").stdout)

    def pin(self, env: str) -> dict | None:
        path = self.root / "releases" / "pins" / f"{env}.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def tags(self, repo: str) -> list[str]:
        return self.client.tags(repo)


@pytest.fixture(scope="module")
def flow(built_release_images, tmp_path_factory):
    _, cache_dir = built_release_images
    root = tmp_path_factory.mktemp("release-flow") / "clone"
    process.run(["git", "clone", "-q", str(REPO), str(root)])  # a fresh clone of the committed project
    env = {
        **os.environ,
        "INFRACTL_EMULATE": "1",
        "INFRACTL_RELEASE_CACHE": str(cache_dir),  # the base and dependency layers the session built
    }
    env.pop("INFRACTL_ROOT", None)
    f = Flow(root, env, {}, None)  # type: ignore[arg-type]
    try:
        f.build = f.json("release", "build", "--version", "r1")
        f.client = RegistryClient(f.json("registry", "status")["url"])
        yield f
    finally:
        process.run([INFRACTL, "--root", str(root), "registry", "stop"], env=env, ok_codes=(0, 1, 2, 3))


def skopeo_digest(f: Flow, ref: str) -> str:
    """The digest as skopeo (an implementation we did not write) reads it from the registry."""
    out = process.run([process.find_binary("skopeo"), "inspect", "--tls-verify=false", f"docker://{ref}"]).stdout
    return json.loads(out)["Digest"]


def test_release_build_pushes_signed_attested_images_and_writes_the_manifest(flow):
    b = flow.build
    assert b["env"] == "dev" and set(b["images"]) == set(IMAGE_NAMES)
    manifest = json.loads((flow.root / "releases" / "r1.json").read_text())
    jsonschema.validate(manifest, json.loads((REPO / "docs" / "schemas" / "release-manifest.json").read_text()))
    head = process.run(["git", "-C", str(flow.root), "rev-parse", "HEAD"]).stdout.strip()
    assert manifest["source"] == manifest["source"] | {"commit": head, "dirty": False}
    assert manifest["migrations"]["head"] == "0005" and "controlplane" in manifest["charts"]
    for name, digest in b["images"].items():
        assert manifest["images"][name]["digest"] == digest
        assert skopeo_digest(flow, f"{b['registry']}/dev/{name}:r1") == digest
        tags = flow.tags(f"dev/{name}")
        assert {f"sha256-{digest[7:]}.{k}" for k in ("sig", "att", "sbom")} <= set(tags)
    assert flow.pin("dev")["images"] == b["images"]
    again = flow.json("release", "build", "--version", "r1")  # idempotent: same commit, same digests
    assert again["unchanged"] and again["images"] == b["images"] and again["uploaded_blobs"] == 0


def test_the_sbom_lists_packages_read_from_inside_the_image(flow):
    api = flow.build["images"]["controlplane-api"]
    found = flow.client.manifest("dev/controlplane-api", f"sha256-{api[7:]}.sbom")
    doc = cosign.read_sbom(found.body, lambda d: flow.client.get_blob("dev/controlplane-api", d))  # schema-validated
    purls = sbom.purls(doc)
    assert any(p.startswith("pkg:deb/debian/python3.11@") for p in purls), purls[:5]
    assert any(p.startswith("pkg:deb/debian/libc6@") for p in purls)
    assert any(p.startswith("pkg:pypi/fastapi@") for p in purls) and any(
        p.startswith("pkg:pypi/infractl@") for p in purls
    )
    assert doc["metadata"]["component"]["purl"].endswith("@" + api)


def test_the_signature_verifies_with_sigstore_js(flow, tmp_path):
    """@sigstore/verify (npm): a verifier this project did not write accepts our signature and refuses a forgery."""
    api = flow.build["images"]["controlplane-api"]
    found = flow.client.manifest("dev/controlplane-api", f"sha256-{api[7:]}.sig")
    [(payload, sig)] = cosign.read_signatures(found.body, lambda d: flow.client.get_blob("dev/controlplane-api", d))
    assert json.loads(payload)["critical"]["image"]["docker-manifest-digest"] == api
    (tmp_path / "bundle.json").write_text(json.dumps(signing.bundle(payload, sig, key_hint="release")))
    (tmp_path / "payload.json").write_bytes(payload)
    pub = flow.root / ".infractl" / "keys" / "cosign.pub"
    script = REPO / "scripts" / "node" / "sigstore-verify.mjs"
    node = process.find_binary("node")
    ok = process.run([node, script, tmp_path / "bundle.json", tmp_path / "payload.json", pub, "release"])
    assert ok.stdout.strip() == "verified"
    (tmp_path / "payload.json").write_bytes(payload.replace(api.encode(), ("sha256:" + "0" * 64).encode()))
    bad = process.run(
        [node, script, tmp_path / "bundle.json", tmp_path / "payload.json", pub, "release"], ok_codes=(1,)
    )
    assert "FAILED" in bad.stdout


def _staging_untouched(flow: Flow) -> None:
    assert flow.pin("staging") is None
    assert "r1" not in flow.tags("staging/controlplane-api")


@contextmanager
def _edited_manifest(flow: Flow, image: str, digest: str):
    path = flow.root / "releases" / "r1.json"
    original = path.read_bytes()
    doc = json.loads(original)
    doc["images"][image]["digest"] = digest
    path.write_text(json.dumps(doc))
    try:
        yield
    finally:
        path.write_bytes(original)


def test_tampering_is_refused_and_leaves_staging_unchanged(flow, tmp_path):
    api = flow.build["images"]["controlplane-api"]
    repo = "dev/controlplane-api"

    # a provenance statement changed after signing: exit 5, provenance named
    att_tag = f"sha256-{api[7:]}.att"
    original = flow.client.manifest(repo, att_tag)
    [envelope] = cosign.read_attestations(original.body, lambda d: flow.client.get_blob(repo, d))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["buildDefinition"]["externalParameters"]["version"] = "r1-forged"
    forged = {**envelope, "payload": base64.b64encode(json.dumps(statement).encode()).decode()}
    art = cosign.attestation_artifact(forged)
    for blob in art.blobs:
        flow.client.push_blob(repo, blob.digest, blob.data)
    flow.client.put_manifest(repo, att_tag, art.manifest, art.media_type)
    try:
        r = flow.run("promote", "dev", "staging", *APPROVE_STAGING, "--yes", code=5)
        assert "controlplane-api: provenance" in r.stderr, r.stderr
    finally:
        flow.client.put_manifest(repo, att_tag, original.body, original.media_type)
    _staging_untouched(flow)

    # an unsigned image put in the release's place (same layers, another manifest): exit 5, signature named
    image = flow.client.manifest(repo, api)
    doc = json.loads(image.body)
    doc["annotations"] = {**doc.get("annotations", {}), "org.opencontainers.image.title": "not what was signed"}
    body = json.dumps(doc).encode()
    unsigned = flow.client.put_manifest(repo, "unsigned", body, image.media_type)
    with _edited_manifest(flow, "controlplane-api", unsigned):
        r = flow.run("promote", "dev", "staging", *APPROVE_STAGING, "--yes", code=5)
        assert "controlplane-api: signature" in r.stderr, r.stderr
    _staging_untouched(flow)

    # a digest that is not in dev: exit 6
    with _edited_manifest(flow, "controlplane-worker", "sha256:" + "ab" * 32):
        r = flow.run("promote", "dev", "staging", *APPROVE_STAGING, "--yes", code=6)
        assert "is not in" in r.stderr and "dev/controlplane-worker" in r.stderr, r.stderr
    _staging_untouched(flow)

    # verified with another key: exit 5
    other = tmp_path / "other"
    signing.generate_key(other, b"")
    r = flow.run(
        "promote", "dev", "staging", *APPROVE_STAGING, "--yes", code=5,
        extra_env={"INFRACTL_VERIFY_KEY": str(other / "cosign.pub")},
    )  # fmt: skip
    assert "signature" in r.stderr
    _staging_untouched(flow)

    # dev → prod skips staging; staging without approval: exit 6 each
    r = flow.run("promote", "dev", "prod", *APPROVE_PROD, "--yes", code=6)
    assert "skips a stage" in r.stderr
    r = flow.run("promote", "dev", "staging", "--yes", code=6)
    assert "needs 1 approval" in r.stderr
    _staging_untouched(flow)
    assert flow.pin("prod") is None


def test_promote_dev_staging_prod_copies_the_same_digests_and_render_uses_them(flow, tmp_path):
    reg = flow.build["registry"]
    log = flow.root / ".infractl" / "registry" / "registry.log"
    uploads = count_uploads(log)
    staged = flow.json("promote", "dev", "staging", *APPROVE_STAGING, "--yes")
    assert staged["mounted_blobs"] > 0 and staged["uploaded_blobs"] == 0
    assert count_uploads(log) == uploads, "a promotion uploads no layer: it mounts them"
    prod = flow.json("promote", "staging", "prod", *APPROVE_PROD, "--yes")
    assert not prod["unchanged"] and prod["images"] == flow.build["images"]
    for name, digest in flow.build["images"].items():
        assert {skopeo_digest(flow, f"{reg}/{env}/{name}:r1") for env in ("dev", "staging", "prod")} == {digest}
    assert flow.json("promote", "staging", "prod", *APPROVE_PROD, "--yes")["unchanged"]
    log_lines = (flow.root / "releases" / "promotions.jsonl").read_text().splitlines()
    assert [(json.loads(x)["source"], json.loads(x)["target"]) for x in log_lines] == [
        ("build", "dev"), ("dev", "staging"), ("staging", "prod"),
    ]  # fmt: skip
    assert flow.json("release", "verify", "r1", "prod", "--schema")["checks"]
    done = process.run(
        [INFRACTL, "--root", str(flow.root), "scan", "--release", "r1", "--json"], env=flow.env, ok_codes=(0, 7)
    )
    report = json.loads(done.stdout)
    layer_gates = [g for g in report["gates"] if g["name"].startswith("secrets:")]
    assert len(layer_gates) == 2 and all(g["status"] == "passed" for g in layer_gates), layer_gates  # no secret
    assert report["ok"], [(g["name"], g["findings"]) for g in report["gates"] if g["status"] == "failed"]
    flow.run("render", "staging", "--out", str(tmp_path / "out"))
    rendered = (tmp_path / "out" / "staging" / "controlplane.yaml").read_text()
    api = flow.build["images"]["controlplane-api"]
    assert f"/staging/controlplane-api@{api}" in rendered
