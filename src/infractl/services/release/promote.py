"""`infractl promote FROM TO` and `infractl release verify`: move a release to the next stage by digest, never
rebuilding it, after verifying it where it is (docs/release.md#promotion).

Order, so that a refusal leaves TO untouched: the stage rule (TO's promotion.sources) → the release reached FROM
(its pin or the promotion log) → approvals (TO's approval) → verification in FROM's repositories (each digest
present, the cosign signature, the signed SLSA provenance naming that digest, the SBOM, each attachment the very one
the release manifest recorded) → only then the copy (blobs mounted, manifests byte for byte, digests checked in TO)
→ TO's pin (one atomic rename) → one line in the promotion log.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from infractl.adapters import registry as oci
from infractl.errors import InfractlError, RefusedError, UsageError, VerificationError
from infractl.models.environment import Environment
from infractl.models.release import (
    Artifact,
    Check,
    Pin,
    PromoteResult,
    PromotionRecord,
    ReleaseImage,
    ReleaseManifest,
    VerifyResult,
)
from infractl.services import environments
from infractl.services import registry as registries
from infractl.services.context import Context
from infractl.services.release import cosign, keys, provenance, records, sbom, signing


def who(by: str | None) -> str:
    """Who promotes: --by, else the CI actor, else the local user."""
    return by or os.environ.get("GITHUB_ACTOR") or getpass.getuser()


def promote(
    ctx: Context,
    source: str,
    target: str,
    *,
    release: str | None = None,
    approved_by: list[str] | None = None,
    by: str | None = None,
    dry_run: bool = False,
    confirm: Callable[[str], bool] = lambda _question: True,
) -> PromoteResult:
    """Verify, then (unless dry_run, and once confirm(question) says yes) copy, pin and log; see the module doc."""
    if source == target:
        raise UsageError(f"promote {source} {target}: the source and the target are the same environment")
    src_env = environments.load(ctx.project, source)
    dst_env = environments.load(ctx.project, target)
    version = release or _running(ctx, source)
    manifest = records.load_manifest(ctx.project, version)
    _stage_rule(ctx, src_env, dst_env)
    _reached(ctx, version, source)
    approvers = _approvals(ctx, dst_env, approved_by or [])

    src, src_prefix = registries.for_env(ctx, src_env)
    dst, dst_prefix = registries.for_env(ctx, dst_env)
    checks = verify_in(ctx, manifest, src, src_prefix)
    failed = [c for c in checks if not c.ok]
    if failed:
        _raise(failed, source)
    digests = {n: i.digest for n, i in manifest.images.items()}
    result = {
        "release": version,
        "source": source,
        "target": target,
        "registry": dst.host,
        "images": digests,
        "checks": checks,
        "dry_run": dry_run,
    }
    pin = records.load_pin(ctx.project, target)
    present = all(dst.manifest_digest(f"{dst_prefix}{n}", d) == d for n, d in digests.items())
    if pin and pin.release == version and pin.images == digests and present:
        return PromoteResult(**result, unchanged=True, pin=ctx.project.rel(records.pin_path(ctx.project, target)))
    if dry_run:
        return PromoteResult(**result, unchanged=False)
    if not confirm(f"promote release {version} from {source} to {target}?"):
        raise UsageError("promotion declined: nothing was changed")

    before = (dst.transfer.mounted, dst.transfer.uploaded)
    for name, img in manifest.images.items():
        src_repo, dst_repo = f"{src_prefix}{name}", f"{dst_prefix}{name}"
        oci.copy(src, src_repo, img.digest, dst, dst_repo, tags=[version])
        for art in (img.signature, img.provenance, img.sbom):
            oci.copy(src, src_repo, art.digest, dst, dst_repo, tags=[art.tag])
        landed = dst.manifest_digest(dst_repo, version)
        if landed != img.digest:
            raise VerificationError(
                f"{dst.host}/{dst_repo}:{version} is {landed} after the copy, the release says {img.digest}",
                hint=f"nothing was recorded: {target} still runs what it ran; re-run the promotion",
            )
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    actor = who(by)
    pin_file = records.write_pin(
        ctx.project,
        Pin(
            env=target,
            release=version,
            manifest_sha256=records.manifest_sha256(ctx.project, version),
            images=digests,
            source=source,
            at=now,
            by=actor,
        ),
    )
    records.append_log(
        ctx.project,
        PromotionRecord(
            at=now,
            by=actor,
            release=version,
            source=source,
            target=target,
            images=digests,
            approved_by=approvers,
            registry=dst.host,
        ),
    )
    return PromoteResult(
        **result,
        unchanged=False,
        mounted_blobs=dst.transfer.mounted - before[0],
        uploaded_blobs=dst.transfer.uploaded - before[1],
        pin=ctx.project.rel(pin_file),
    )


def verify(ctx: Context, version: str, env_name: str, *, schema: bool = False) -> VerifyResult:
    """`infractl release verify V ENV`: every check promote makes, in ENV's repositories, without copying."""
    env = environments.load(ctx.project, env_name)
    manifest = records.load_manifest(ctx.project, version)
    client, prefix = registries.for_env(ctx, env)
    return VerifyResult(
        release=version,
        env=env_name,
        registry=client.host,
        checks=verify_in(ctx, manifest, client, prefix, schema=schema),
    )


def verify_in(
    ctx: Context, manifest: ReleaseManifest, client: oci.RegistryClient, prefix: str, *, schema: bool = False
) -> list[Check]:
    """Every check of every image of the release in one environment's repositories (none raises: each is a Check).
    schema: validate each SBOM against the CycloneDX schema again (the build did)."""
    public, _where = keys.verify_key(ctx)
    checks: list[Check] = []
    for name, img in sorted(manifest.images.items()):
        checks.extend(_ImageChecks(client, f"{prefix}{name}", name, img, public, schema=schema).run())
    return checks


class _ImageChecks:
    """The four checks of one image: its digest is there, then its signature, provenance and SBOM verify."""

    def __init__(
        self, client: oci.RegistryClient, repo: str, name: str, img: ReleaseImage, public: Any, *, schema: bool
    ) -> None:
        self.client, self.repo, self.name, self.img, self.public = client, repo, name, img, public
        self.schema = schema
        self.where = f"{client.host}/{repo}"

    def run(self) -> list[Check]:
        out = [self._check("digest", self.digest)]
        if out[0].ok:
            out += [
                self._check("signature", self.signature),
                self._check("provenance", self.provenance),
                self._check("sbom", self.sbom),
            ]
        return out

    def _check(self, what: str, fn: Callable[[], str]) -> Check:
        try:
            return Check(image=self.name, what=what, ok=True, detail=fn())
        except InfractlError as exc:
            return Check(image=self.name, what=what, ok=False, detail=exc.message)

    def _blob(self, digest: str) -> bytes:
        return self.client.get_blob(self.repo, digest)

    def _attachment(self, art: Artifact, kind: str, *, exact: bool = True) -> oci.Manifest:
        found = self.client.manifest(self.repo, art.tag)
        if found is None:
            raise VerificationError(f"no {kind} in {self.where} ({art.tag})")
        if exact and found.digest != art.digest:
            raise VerificationError(
                f"the {kind} in {self.where} ({art.tag}) is {found.digest}, the release manifest recorded {art.digest}"
            )
        return found

    def digest(self) -> str:
        if self.client.manifest_digest(self.repo, self.img.digest) != self.img.digest:
            raise RefusedError(f"{self.img.digest} is not in {self.where}")
        return f"{self.img.digest} in {self.where}"

    def signature(self) -> str:
        # Signatures accumulate (CI adds a keyless Sigstore one to the same .sig): any one by the key will do.
        found = self._attachment(self.img.signature, "signature", exact=False)
        errors = []
        for payload, signature_b64 in cosign.read_signatures(found.body, self._blob):
            try:
                signing.verify(payload, signature_b64, self.public, digest=self.img.digest, image_name=self.name)
                return f"signed by key {signing.key_id(self.public)[:16]}…"
            except VerificationError as exc:
                errors.append(exc.message)
        raise VerificationError(f"no valid signature of {self.img.digest}: " + ("; ".join(errors) or "none attached"))

    def provenance(self) -> str:
        found = self._attachment(self.img.provenance, "provenance")
        envelopes = cosign.read_attestations(found.body, self._blob)
        if not envelopes:
            raise VerificationError(f"the provenance attachment of {self.img.digest} holds no statement")
        for envelope in envelopes:
            provenance.verify_envelope(envelope, self.public, expected={self.name: self.img.digest})
        return "SLSA v1 provenance: signature and subject digest verified"

    def sbom(self) -> str:
        # The digest check of _attachment ties these bytes to the SBOM the build validated against the CycloneDX 1.6
        # schema; `release verify --schema` validates again (≈3 s: the schema validator's start-up).
        found = self._attachment(self.img.sbom, "SBOM")
        doc = cosign.read_sbom(found.body, self._blob, schema=self.schema)
        if doc.get("bomFormat") != "CycloneDX" or doc.get("specVersion") != "1.6":
            raise VerificationError(f"the SBOM of {self.img.digest} is not CycloneDX 1.6")
        subject = str((doc.get("metadata") or {}).get("component", {}).get("purl", ""))
        if not subject.endswith(f"@{self.img.digest}") and f"@{self.img.digest}?" not in subject:
            raise VerificationError(f"the SBOM describes {subject or 'no image'}, not {self.img.digest}")
        purls = sbom.purls(doc)
        if not purls:
            raise VerificationError(f"the SBOM of {self.img.digest} lists no component")
        return f"CycloneDX {doc.get('specVersion')}: {len(purls)} components" + (
            ", schema-valid" if self.schema else ""
        )


def _raise(failed: list[Check], source: str) -> None:
    lines = [f"{c.image}: {c.what}: {c.detail}" for c in failed]
    first = failed[0]
    if all(c.what == "digest" for c in failed):
        raise RefusedError(
            f"refusing to promote: {first.detail}",
            details=lines[1:],
            hint=f"promote only what {source} holds: build it, or promote it into {source} first",
        )
    bad = next(c for c in failed if c.what != "digest")
    raise VerificationError(
        f"refusing to promote: {bad.image}: {bad.what}: {bad.detail}",
        details=[line for line in lines if not line.startswith(f"{bad.image}: {bad.what}:")],
        hint="the release in the source does not verify: rebuild it under a new version; nothing was copied",
    )


def _running(ctx: Context, env: str) -> str:
    pin = records.load_pin(ctx.project, env)
    if pin is None:
        raise RefusedError(
            f"{env} runs no release yet: nothing to promote",
            hint="build one (`infractl release build`) or name it with --release",
        )
    return pin.release


def _stage_rule(ctx: Context, src: Environment, dst: Environment) -> None:
    if src.name not in dst.promotion.sources:
        allowed = ", ".join(dst.promotion.sources) or "none (releases are built into it)"
        shown = ctx.project.rel(ctx.project.env_file(dst.name))
        raise RefusedError(
            f"{src.name} → {dst.name} skips a stage: {dst.name} takes releases from {allowed}",
            hint=f"promote through the stages in order, or list {src.name} in promotion.sources of {shown}",
        )


def _reached(ctx: Context, version: str, env: str) -> None:
    """A release is promoted from FROM only if it got there: built into it, or promoted into it."""
    pin = records.load_pin(ctx.project, env)
    if pin and pin.release == version:
        return
    if any(r.release == version and r.target == env for r in records.read_log(ctx.project)):
        return
    raise RefusedError(
        f"release {version} never reached {env}: it was neither built nor promoted into it",
        hint=f"promote it into {env} first",
    )


def _approvals(ctx: Context, env: Environment, approved_by: list[str]) -> list[str]:
    names = sorted(set(approved_by))
    if not env.approval.required:
        return names
    shown = ctx.project.rel(ctx.project.env_file(env.name))
    unknown = [n for n in names if n not in env.approval.approvers]
    if unknown:
        raise UsageError(
            f"--approved-by {unknown[0]}: not an approver of {env.name}",
            hint=f"approvers ({shown}): {', '.join(env.approval.approvers)}",
        )
    if len(names) < env.approval.min_approvals:
        raise RefusedError(
            f"{env.name} needs {env.approval.min_approvals} approval(s) to promote into it, got {len(names)}",
            hint=f"pass --approved-by for each approver ({', '.join(env.approval.approvers)}; {shown}); in CI the "
            "GitHub environment's reviewers approve",
        )
    return names
