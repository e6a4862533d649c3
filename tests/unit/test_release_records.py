"""The files a release leaves in the project: the manifest and its JSON Schema, pins read by the env model (and so by
render), the promotion log; and the refusals promote makes before it touches any registry."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from infractl.models.release import Pin, PromotionRecord, ReleaseManifest
from infractl.services import environments
from infractl.services.project import find_project
from infractl.services.release import records

REPO = Path(__file__).resolve().parents[2]
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def manifest(version: str = "1.0.0") -> ReleaseManifest:
    art = {"tag": "sha256-" + "1" * 64 + ".sig", "digest": "sha256:" + "a" * 64}
    image = {
        "digest": D1,
        "config_digest": "sha256:" + "c" * 64,
        "layers": ["sha256:" + "d" * 64],
        "size": 10,
        "signature": art,
        "provenance": art,
        "sbom": art,
        "sbom_components": 3,
    }
    return ReleaseManifest.model_validate(
        {
            "version": version,
            "source": {"commit": "f" * 40, "dirty": False, "created": "2026-12-07T00:00:00Z"},
            "built_into": "dev",
            "images": {"controlplane-api": image, "controlplane-worker": {**image, "digest": D2}},
            "charts": {"controlplane": "0.1.0"},
            "terraform": {"modules/aws/kms": "sha256:" + "e" * 64},
            "migrations": {"head": "0004", "source": records.MIGRATIONS_FILE},
            "signing": {"key_id": "b" * 64, "public_key": "-----BEGIN PUBLIC KEY-----\n..."},
        }
    )


def pin(env: str, version: str = "1.0.0", source: str = "build") -> Pin:
    return Pin(
        env=env,
        release=version,
        manifest_sha256="0" * 64,
        images={"controlplane-api": D1, "controlplane-worker": D2},
        source=source,
        at="2026-12-07T00:00:00Z",
        by="tester",
    )


@pytest.fixture
def proj(project: Path):
    return find_project(project, root=project, work_dir=None)


def test_committed_schema_is_the_models_schema():
    committed = json.loads((REPO / records.SCHEMA_FILE).read_text())
    assert committed == records.schema(), f"regenerate {records.SCHEMA_FILE} from records.schema()"


def test_written_manifest_validates_against_the_committed_schema_and_a_broken_one_does_not(proj):
    schema = json.loads((REPO / records.SCHEMA_FILE).read_text())
    path = records.write_manifest(proj, manifest())
    doc = json.loads(path.read_text())
    jsonschema.validate(doc, schema)  # an independent validator of the committed schema
    assert records.load_manifest(proj, "1.0.0") == manifest()
    doc["images"]["controlplane-api"]["digest"] = "sha256:short"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, schema)


def test_a_tampered_manifest_file_is_a_config_error_naming_the_field(invoke, project, proj):
    path = records.write_manifest(proj, manifest())
    doc = json.loads(path.read_text())
    doc["images"]["controlplane-api"]["digest"] = "latest"
    path.write_text(json.dumps(doc))
    r = invoke("release", "show", "1.0.0", code=3, root=project)
    assert "releases/1.0.0.json" in r.stderr and "images.controlplane-api.digest" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_version_is_refused_before_any_path_is_built(invoke, project):
    r = invoke("release", "show", "../../etc/passwd", code=2, root=project)
    assert "not a release version" in r.stderr


def test_pin_puts_digests_into_the_env_model_with_the_envs_own_repository(proj):
    records.write_pin(proj, pin("staging"))
    env = environments.load(proj, "staging")
    api = env.images["controlplane-api"]
    assert api.digest == D1
    assert api.repository == f"{env.account}.dkr.ecr.{env.region}.amazonaws.com/staging/controlplane-api"
    assert environments.load(proj, "dev").images is None  # no pin, nothing invented


def test_an_image_pinned_twice_is_refused(project, proj):
    records.write_pin(proj, pin("dev"))
    path = project / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["images"] = {"controlplane-api": {"repository": "example.com/api", "digest": D2}}
    path.write_text(yaml.safe_dump(data))
    from infractl.errors import ConfigError

    with pytest.raises(ConfigError, match=r"pinned here and by release 1\.0\.0"):
        environments.load(proj, "dev")


def test_render_uses_the_pinned_digest_with_each_envs_own_config(invoke, project, proj):
    (project / "helm").symlink_to(REPO / "helm")
    (project / "slo").symlink_to(REPO / "slo")  # prod's progressive delivery is judged by the SLOs
    records.write_pin(proj, pin("dev"))
    records.write_pin(proj, pin("prod", source="staging"))
    images, configs = {}, {}
    for env in ("dev", "prod"):
        out = project / "out"
        invoke("render", env, "--out", str(out), root=project)
        docs = [d for d in yaml.safe_load_all((out / env / "controlplane.yaml").read_text()) if d]
        api = next(d for d in docs if d["kind"] in ("Deployment", "Rollout") and "api" in d["metadata"]["name"])
        ctr = api["spec"]["template"]["spec"]["containers"][0]
        images[env] = ctr["image"]
        configs[env] = (api["spec"].get("replicas"), json.dumps(ctr.get("env", []), sort_keys=True))
    assert images["dev"].endswith("/dev/controlplane-api@" + D1)
    assert images["prod"].endswith("/prod/controlplane-api@" + D1)  # the same bytes
    assert images["dev"].split("@")[0] != images["prod"].split("@")[0]
    assert configs["dev"] != configs["prod"], "dev and prod must differ only in config injected at deploy"


def test_log_is_append_only_lines_and_a_corrupt_line_is_named(proj):
    rec = PromotionRecord(at="t", by="me", release="1.0.0", source="dev", target="staging", images={}, registry="r")
    records.append_log(proj, rec)
    records.append_log(proj, rec.model_copy(update={"target": "prod", "source": "staging"}))
    assert [r.target for r in records.read_log(proj)] == ["staging", "prod"]
    with records.log_path(proj).open("a") as fh:
        fh.write("{not json\n")
    from infractl.errors import ConfigError

    with pytest.raises(ConfigError, match=r"promotions.jsonl:3"):
        records.read_log(proj)


def _setup_release(proj, version="1.0.0"):
    records.write_manifest(proj, manifest(version))
    records.write_pin(proj, pin("dev", version))


def test_skipping_a_stage_is_refused_and_prod_is_unchanged(invoke, project, proj):
    _setup_release(proj)
    r = invoke(
        "promote",
        "dev",
        "prod",
        "--yes",
        "--approved-by",
        "platform-leads",
        "--approved-by",
        "sre-oncall",
        code=6,
        root=project,
    )
    assert "dev → prod skips a stage: prod takes releases from staging" in r.stderr, r.stderr
    assert records.load_pin(proj, "prod") is None
    assert all(r.target != "prod" for r in records.read_log(proj))


def test_a_release_that_never_reached_the_source_is_refused(invoke, project, proj):
    _setup_release(proj)
    r = invoke("promote", "staging", "prod", "--release", "1.0.0", "--yes", code=6, root=project)
    assert "never reached staging" in r.stderr, r.stderr


def test_approval_is_required_counted_and_checked_against_the_approvers(invoke, project, proj):
    _setup_release(proj)
    records.write_pin(proj, pin("staging", source="dev"))
    records.append_log(
        proj, PromotionRecord(at="t", by="me", release="1.0.0", source="dev", target="staging", images={}, registry="r")
    )
    r = invoke("promote", "staging", "prod", "--yes", code=6, root=project)
    assert "prod needs 2 approval(s) to promote into it, got 0" in r.stderr, r.stderr
    r = invoke("promote", "staging", "prod", "--yes", "--approved-by", "platform-leads", code=6, root=project)
    assert "got 1" in r.stderr
    r = invoke("promote", "staging", "prod", "--yes", "--approved-by", "mallory", code=2, root=project)
    assert "not an approver of prod" in r.stderr and "platform-leads, sre-oncall" in r.stderr
    assert records.load_pin(proj, "prod") is None


def test_nothing_to_promote_when_the_source_runs_no_release(invoke, project):
    r = invoke("promote", "dev", "staging", "--yes", code=6, root=project)
    assert "dev runs no release yet" in r.stderr


def test_promotion_sources_must_name_environments(project, proj):
    path = project / "environments" / "prod.yaml"
    data = yaml.safe_load(path.read_text())
    data["promotion"] = {"sources": ["../dev"]}
    path.write_text(yaml.safe_dump(data))
    from infractl.errors import ConfigError

    with pytest.raises(ConfigError, match=r"promotion\.sources"):
        environments.load(proj, "prod")
