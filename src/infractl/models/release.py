"""Releases (docs/release.md): the release manifest, an environment's release pin, the promotion log and the results
of `infractl release build` and `infractl promote`."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DIGEST = r"^sha256:[a-f0-9]{64}$"
# A release version is also the images' tag in every registry: the OCI tag grammar, and no leading "-" or ".".
VERSION = r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$"
SCHEMA_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Artifact(_Strict):
    """An OCI artifact attached to an image by cosign's tag scheme (sha256-<hex>.sig|.att|.sbom)."""

    tag: str
    digest: str = Field(pattern=DIGEST)


class ReleaseImage(_Strict):
    digest: str = Field(pattern=DIGEST, description="the image manifest digest: the image's identity everywhere")
    config_digest: str = Field(pattern=DIGEST)
    layers: list[str] = Field(description="layer digests, bottom to top")
    size: int = Field(ge=0, description="bytes of the config and layers")
    signature: Artifact
    provenance: Artifact
    sbom: Artifact
    sbom_components: int = Field(ge=0, description="components the SBOM lists (Debian and Python packages)")


class Source(_Strict):
    commit: str = Field(pattern=r"^[0-9a-f]{40}$")
    dirty: bool = Field(description="the work tree had uncommitted changes when it was built")
    created: str = Field(description="the commit time (RFC 3339): the images' creation time, so builds reproduce")
    repository: str = ""


class Signing(_Strict):
    key_id: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the public key (SPKI DER)")
    public_key: str = Field(description="the PEM public key all signatures and provenance verify with")


class ReleaseManifest(_Strict):
    """releases/<version>.json: what a release is. Promotion moves all of it together."""

    schema_version: Literal[1] = SCHEMA_VERSION
    version: str = Field(pattern=VERSION)
    source: Source
    built_into: str = Field(description="the environment the build pushed to (the first stage)")
    images: dict[str, ReleaseImage]
    charts: dict[str, str] = Field(description="Helm chart versions (helm/<chart>/Chart.yaml)")
    terraform: dict[str, str] = Field(description="sha256 tree hash of each Terraform module and stack folder")
    migrations: dict[str, int | str] = Field(description="the database migration head the images carry")
    signing: Signing


class Pin(_Strict):
    """releases/pins/<env>.json: the release an environment runs. `infractl render`/`deploy` read its digests."""

    env: str
    release: str = Field(pattern=VERSION)
    manifest_sha256: str = Field(pattern=r"^[a-f0-9]{64}$", description="sha256 of releases/<version>.json")
    images: dict[str, str] = Field(description="image name -> digest")
    source: str = Field(description="where it came from: 'build' or the environment it was promoted from")
    at: str
    by: str


class PromotionRecord(_Strict):
    """One line of releases/promotions.jsonl (append-only)."""

    at: str
    by: str
    release: str
    source: str
    target: str
    images: dict[str, str]
    approved_by: list[str] = Field(default_factory=list)
    registry: str


class Check(_Strict):
    """One verification made before a promotion (or by `release verify`)."""

    image: str
    what: Literal["digest", "signature", "provenance", "sbom"]
    ok: bool
    detail: str


class BuildResult(_Strict):
    version: str
    env: str
    manifest: str
    registry: str
    images: dict[str, str]
    unchanged: bool = Field(description="the release existed with the same digests: nothing was pushed again")
    base_cached: bool
    uploaded_blobs: int
    seconds: float
    steps: list[tuple[str, float]] = Field(default_factory=list)


class PromoteResult(_Strict):
    release: str
    source: str
    target: str
    registry: str
    images: dict[str, str]
    checks: list[Check]
    dry_run: bool
    unchanged: bool = Field(description="the target already ran this release: nothing was copied or recorded")
    mounted_blobs: int = 0
    uploaded_blobs: int = 0
    pin: str = ""


class VerifyResult(_Strict):
    release: str
    env: str
    registry: str
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


class ReleaseSummary(_Strict):
    version: str
    commit: str
    created: str
    images: dict[str, str]
    running_in: list[str]
