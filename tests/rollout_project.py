"""A project for local rollouts (the rollout tests and benchmarks/rollback.py): a copy of this repository's env
models and SLOs with the dev env's `delivery:` replaced, and release manifests for the given versions (fake digests:
locally the canary runs this checkout's code, labelled with the version; docs/delivery.md)."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from infractl.models.project import Project
from infractl.models.release import Artifact, ReleaseImage, ReleaseManifest, Signing, Source
from infractl.services.project import find_project
from infractl.services.release import records

REPO = Path(__file__).resolve().parents[1]
FAST = {  # the dev stack's Prometheus scrapes every second; the dev env's slo.scrape_interval (5s) sets the floor
    "strategy": "canary",
    "steps": [10, 25, 50, 100],
    "bake": "3s",
    "load_rps": 40,
    "analysis": {"interval": "1s", "window": "10s", "samples": 3, "min_requests": 5, "max_inconclusive": 20},
}


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def manifest(version: str) -> ReleaseManifest:
    def art(kind: str) -> Artifact:
        return Artifact(tag=f"sha256-{kind}", digest=_digest(version + kind))

    image = ReleaseImage(
        digest=_digest(version),
        config_digest=_digest(version + "c"),
        layers=[_digest(version + "l")],
        size=1,
        signature=art("sig"),
        provenance=art("att"),
        sbom=art("sbom"),
        sbom_components=1,
    )
    return ReleaseManifest(
        version=version,
        source=Source(commit="0" * 40, dirty=False, created="2026-12-08T00:00:00Z"),
        built_into="dev",
        images={"controlplane-api": image, "controlplane-worker": image},
        charts={},
        terraform={},
        migrations={},
        signing=Signing(key_id="0" * 64, public_key="-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"),
    )


def make(root: Path, releases: Iterable[str], delivery: Mapping[str, Any] = FAST) -> Project:
    for folder in ("environments", "slo"):
        shutil.copytree(REPO / folder, root / folder)
    dev_file = root / "environments" / "dev.yaml"
    dev = yaml.safe_load(dev_file.read_text())
    dev["delivery"] = dict(delivery)
    dev_file.write_text(yaml.safe_dump(dev, sort_keys=False))
    project = find_project(root)
    for version in releases:
        records.write_manifest(project, manifest(version))
    return project
