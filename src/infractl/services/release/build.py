"""`infractl release build`: build the api and worker images once, attach their SBOM, provenance and signature, push
them into the first stage's repository and write the release manifest (docs/release.md).

Steps: the images (image.py, daemonless and reproducible) → per image: push by digest, the CycloneDX SBOM read from
its layers (sbom.py), the SLSA provenance in a signed DSSE envelope (provenance.py), the cosign signature
(signing.py), each attached with cosign's tag scheme (cosign.py) → releases/<version>.json → the first stage's pin.
A release is immutable: building a version again gives the same digests (then nothing changes) or is refused.
"""

from __future__ import annotations

import time
import tomllib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from infractl.adapters import git
from infractl.adapters import registry as oci
from infractl.errors import RefusedError, RegistryError, UsageError, VerificationError
from infractl.models.release import (
    Artifact,
    BuildResult,
    Pin,
    PromotionRecord,
    ReleaseImage,
    ReleaseManifest,
    Signing,
    Source,
)
from infractl.services import environments
from infractl.services import registry as registries
from infractl.services.context import Context
from infractl.services.release import base, cosign, image, keys, provenance, records, sbom, signing
from infractl.services.release.promote import verify_in

BUILD_TYPE = "https://infractl.local/release-build/v1"
BUILDER_ID = "https://infractl.local/builder/local"


def first_stage(ctx: Context, env: str | None) -> str:
    """The environment a build pushes into: --env, else the one environment no promotion feeds (promotion.sources
    empty) that others are promoted from."""
    if env:
        environments.env_path(ctx.project, env)
        return env
    names = environments.names(ctx.project)
    loaded = {n: environments.load(ctx.project, n) for n in names}
    fed = {s for e in loaded.values() for s in e.promotion.sources}
    roots = sorted(n for n, e in loaded.items() if not e.promotion.sources and n in fed)
    if len(roots) != 1:
        raise UsageError(
            f"cannot tell which environment a release is built into (candidates: {', '.join(roots) or 'none'})",
            hint="pass --env NAME",
        )
    return roots[0]


def default_version(ctx: Context, commit: str, dirty: bool) -> str:
    data = tomllib.loads((ctx.project.root / "pyproject.toml").read_text(encoding="utf-8"))
    base = str(data.get("project", {}).get("version", "0.0.0"))
    # "v…": the registry stack's lifecycle policy keeps v* tags as releases (release_tag_prefixes)
    return f"v{base}-{commit[:12]}" + ("-dirty" if dirty else "")


def build(
    ctx: Context,
    *,
    version: str | None = None,
    env: str | None = None,
    by: str = "",
    progress: Callable[[str], None] = lambda _msg: None,
) -> BuildResult:
    started = time.monotonic()
    steps: list[tuple[str, float]] = []

    def step(name: str, t0: float) -> None:
        steps.append((name, round(time.monotonic() - t0, 2)))

    root = ctx.project.root
    commit, epoch, dirty = git.head(root)
    version = version or default_version(ctx, commit, dirty)
    path = records.manifest_path(ctx.project, version)  # validates the version before any work
    previous = records.load_manifest(ctx.project, version) if path.is_file() else None
    stage = first_stage(ctx, env)
    target = environments.load(ctx.project, stage)

    t0 = time.monotonic()
    client, prefix = registries.for_env(ctx, target)
    client.ping()
    step("registry", t0)

    t0 = time.monotonic()
    cache = ctx.settings.release_cache or (ctx.project.work_dir / "release" / "cache")
    out = ctx.project.work_dir / "release" / "build" / version
    foundation = base.base_image(cache, progress=progress)
    built = image.build_images(
        root, cache, out, version=version, revision=commit, epoch=epoch, progress=progress, base=foundation
    )
    step("images", t0)

    if previous is not None:
        changed = {
            b.name
            for b in built
            if previous.images.get(b.name, None) is None or previous.images[b.name].digest != b.digest
        }
        if changed:
            raise RefusedError(
                f"release {version} exists with other digests ({', '.join(sorted(changed))}): releases are immutable",
                details=[
                    f"{b.name}: built {b.digest}, released {previous.images[b.name].digest}"
                    for b in built
                    if b.name in previous.images and b.name in changed
                ],
                hint="build under a new --version (the default is v<project version>-<commit>)",
            )

    key = keys.signing_key(ctx)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    released: dict[str, ReleaseImage] = {}
    for b in built:
        t0 = time.monotonic()
        repo = f"{prefix}{b.name}"
        progress(f"{b.name}: push {b.digest[:19]}… to {client.host}/{repo}")
        pushed = oci.push_layout(client, b.layout, b.ref_name, repo, tags=[version])
        if pushed != b.digest:
            raise RegistryError(f"{client.host}/{repo}: pushed {pushed}, built {b.digest}")

        def kept(kind: str, repo: str = repo, digest: str = b.digest) -> Artifact | None:
            # One image, one set of attachments (cosign's tags are per digest): a rebuild of the same digest, under
            # this version or another, keeps those the registry holds; promote verifies them whoever made them.
            tag = cosign.tag_for(digest, kind)
            found = client.manifest_digest(repo, tag)
            return Artifact(tag=tag, digest=found) if found else None

        doc = sbom.from_layers(list(b.layers), name=b.name, version=version, digest=b.digest, source_date_epoch=epoch)
        sbom_art = kept("sbom") or _attach(client, repo, cosign.sbom_artifact(doc), cosign.tag_for(b.digest, "sbom"))
        att = kept("att") or _attach(
            client,
            repo,
            cosign.attestation_artifact(_provenance(b, version, commit, dirty, root.name, now, key)),
            cosign.tag_for(b.digest, "att"),
        )
        payload = signing.simple_signing_payload(f"{client.host}/{repo}", b.digest)
        sig = kept("sig") or _attach(
            client,
            repo,
            cosign.signature_artifact(payload, signing.sign(payload, key.private)),
            cosign.tag_for(b.digest, "sig"),
        )
        released[b.name] = ReleaseImage(
            digest=b.digest,
            config_digest=b.config_digest,
            layers=[f"sha256:{layer.name}" for layer in b.layers],
            size=b.size,
            signature=sig,
            provenance=att,
            sbom=sbom_art,
            sbom_components=len(sbom.purls(doc)),
        )
        step(f"attest {b.name}", t0)

    manifest = ReleaseManifest(
        version=version,
        source=Source(
            commit=commit,
            dirty=dirty,
            created=datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ),
        built_into=stage,
        images=released,
        charts=records.chart_versions(ctx.project),
        terraform=records.terraform_hashes(ctx.project),
        migrations=records.migration_head(ctx.project),
        signing=Signing(key_id=key.key_id, public_key=key.public_pem),
    )
    # What was pushed must verify as promote will verify it (a stale or tampered attachment the build kept fails here).
    failed = [c for c in verify_in(ctx, manifest, client, prefix) if not c.ok]
    if failed:
        raise VerificationError(
            f"release {version} does not verify in {stage} after the build: {failed[0].image}: {failed[0].what}: "
            f"{failed[0].detail}",
            details=[f"{c.image}: {c.what}: {c.detail}" for c in failed[1:]],
            hint="an attachment in the registry is not this key's: delete its tag (sha256-<hex>.sig|.att|.sbom) "
            "and build again",
        )
    unchanged = previous is not None and previous.model_dump(exclude={"signing"}) == manifest.model_dump(
        exclude={"signing"}
    )
    if not unchanged:
        records.write_manifest(ctx.project, manifest)
    digests = {n: i.digest for n, i in released.items()}
    pin = records.load_pin(ctx.project, stage)
    if not (pin and pin.release == version and pin.images == digests):
        records.write_pin(
            ctx.project,
            Pin(
                env=stage,
                release=version,
                manifest_sha256=records.manifest_sha256(ctx.project, version),
                images=digests,
                source="build",
                at=now,
                by=by,
            ),
        )
        records.append_log(
            ctx.project,
            PromotionRecord(
                at=now, by=by, release=version, source="build", target=stage, images=digests, registry=client.host
            ),
        )
    return BuildResult(
        version=version,
        env=stage,
        manifest=ctx.project.rel(path),
        registry=client.host,
        images=digests,
        unchanged=unchanged,
        base_cached=foundation.cached,
        uploaded_blobs=client.transfer.uploaded,
        seconds=round(time.monotonic() - started, 2),
        steps=steps,
    )


def _attach(client: oci.RegistryClient, repo: str, art: cosign.Artifact, tag: str) -> Artifact:
    """Push an artefact (config, layers, manifest) under its cosign tag: the digest of its manifest."""
    for blob in (art.config, *art.layers):
        client.push_blob(repo, blob.digest, blob.data)
    digest = client.put_manifest(repo, tag, art.manifest, art.media_type)
    return Artifact(tag=tag, digest=digest)


def _provenance(
    b: image.BuiltImage, version: str, commit: str, dirty: bool, repo_name: str, now: str, key: keys.SigningKey
) -> dict:
    """The SLSA v1 provenance of one image, signed (DSSE) by the release key."""
    statement = provenance.statement(
        [(b.name, b.digest)],
        build_type=BUILD_TYPE,
        builder_id=BUILDER_ID,
        invocation_id=str(uuid.uuid4()),
        external_parameters={"version": version, "source": {"commit": commit, "dirty": dirty}, "image": b.name},
        resolved_dependencies=[
            {"uri": f"git+file://{repo_name}@{commit}", "digest": {"gitCommit": commit}},
            *({"uri": f"oci-layer:{i}", "digest": {"sha256": layer.name}} for i, layer in enumerate(b.layers)),
        ],
        started_on=now,
        finished_on=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return provenance.sign_statement(statement, key.private)


def layout_dir(ctx: Context, version: str) -> Path:
    return ctx.project.work_dir / "release" / "build" / version
