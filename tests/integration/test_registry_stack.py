"""The registry stack for real: kms + registry applied to the session emulator, read back through the ECR API,
re-planned to no changes, then destroyed (the emulator is shared by the next test on this worker)."""

from __future__ import annotations

import json

import pytest
import yaml
from botocore.exceptions import ClientError

from tests.integration.conftest import aws, emulator_requests

ENV = "staging"  # it lists prod's account as the one that may pull
PROD_ACCOUNT = "345678901234"
IMAGES = ("controlplane-api", "controlplane-worker")


def only_kms_and_registry(project):
    """The project's graph cut to the registry stack and what it needs."""
    manifest_file = project / "terraform" / "stacks" / "stacks.yaml"
    manifest = yaml.safe_load(manifest_file.read_text())
    manifest["stacks"] = {k: v for k, v in manifest["stacks"].items() if k in ("kms", "registry")}
    manifest_file.write_text(yaml.safe_dump(manifest, sort_keys=False))


def manifest(layer: str) -> str:
    """An OCI image manifest with one layer: the emulator derives the digest from the layer digests."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "c" * 64,
                "size": 2,
            },
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1}],
        }
    )


def test_registry_stack_applies_replans_clean_and_destroys(invoke, emulated, project):
    only_kms_and_registry(project)
    result = json.loads(invoke("bootstrap", ENV, "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("kms", "applied"), ("registry", "applied")]
    kms = json.loads(invoke("output", ENV, "kms", "--emulate", "--json", root=project).stdout)
    out = json.loads(invoke("output", ENV, "registry", "--emulate", "--json", root=project).stdout)
    assert out["repository_names"] == {i: f"{ENV}/{i}" for i in IMAGES}
    assert out["repository_urls"]["controlplane-api"].endswith(f".amazonaws.com/{ENV}/controlplane-api")

    ecr = aws(emulated).client("ecr")
    repos = ecr.describe_repositories(repositoryNames=[f"{ENV}/{i}" for i in IMAGES])["repositories"]
    assert {r["repositoryArn"] for r in repos} == set(out["repository_arns"].values())
    assert {r["registryId"] for r in repos} == {out["registry_id"]}
    for repo in repos:
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["encryptionConfiguration"] == {"encryptionType": "KMS", "kmsKey": kms["registry_key_id"]}
        tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]}
        assert tags["environment"] == ENV and tags["cost-center"] and tags["stack"] == "registry"

        lifecycle = json.loads(ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])["lifecyclePolicyText"])
        assert [(r["selection"]["tagStatus"], r["selection"]["countNumber"]) for r in lifecycle["rules"]] == [
            ("tagged", 30),  # environments/staging.yaml: keep_releases
            ("untagged", 14),  # untagged_expiry_days
        ]
        (statement,) = json.loads(ecr.get_repository_policy(repositoryName=repo["repositoryName"])["policyText"])[
            "Statement"
        ]
        assert statement["Principal"] == {"AWS": [f"arn:aws:iam::{PROD_ACCOUNT}:root"]}
        assert sorted(statement["Action"]) == [
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        ]

    # an immutable tag keeps naming its first image
    repo = f"{ENV}/controlplane-api"
    first = ecr.put_image(repositoryName=repo, imageManifest=manifest("sha256:" + "1" * 64), imageTag="v1.0.0")
    with pytest.raises(ClientError, match="already exists"):
        ecr.put_image(repositoryName=repo, imageManifest=manifest("sha256:" + "2" * 64), imageTag="v1.0.0")
    (image,) = ecr.describe_images(repositoryName=repo, imageIds=[{"imageTag": "v1.0.0"}])["imageDetails"]
    assert image["imageDigest"] == first["image"]["imageId"]["imageDigest"]
    ecr.batch_delete_image(repositoryName=repo, imageIds=[{"imageDigest": image["imageDigest"]}])

    # what the provider reads back is what it wrote: nothing to change
    invoke("plan", ENV, "--emulate", "--detailed-exitcode", root=project, code=0)

    result = json.loads(invoke("destroy", ENV, "--emulate", "--yes", "--json", root=project).stdout)
    assert [(s["stack"], s["status"]) for s in result["stacks"]] == [("registry", "destroyed"), ("kms", "destroyed")]
    with pytest.raises(ClientError, match="RepositoryNotFoundException"):
        ecr.describe_repositories(repositoryNames=[f"{ENV}/{i}" for i in IMAGES])
    failed = [
        (r["op"], r["status"], r["error"])
        for r in emulator_requests(emulated)
        if r["service"] == "ecr" and r["status"] >= 500
    ]
    assert failed == []
