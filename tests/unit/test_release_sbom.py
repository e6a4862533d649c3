"""The CycloneDX 1.6 SBOM read from an image's layers: Debian packages from dpkg's status, Python packages from
dist-info METADATA, OCI whiteouts, determinism, schema validation, and the `.sbom` artifact."""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile
import uuid

import pytest

from infractl.errors import VerificationError
from infractl.services.release import cosign, sbom

DIGEST = "sha256:" + "5e" * 32
STATUS = b"""Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system.

Package: python3.11-minimal
Status: install ok installed
Architecture: amd64
Version: 3.11.2-6+deb12u1
Description: Minimal subset of the Python language

Package: removed-tool
Status: deinstall ok config-files
Architecture: all
Version: 1.0-1

Package: tzdata
Status: install ok installed
Architecture: all
Version: 2024a-0+deb12u1
"""
SITE = "usr/local/lib/python3.11/site-packages"


def metadata(name: str, version: str, extra: str = "") -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}\nA long description.\n".encode()


def layer(path, members: dict[str, bytes | None], *, gz: bool = True):
    """A layer blob: members path -> content (None: a directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.mtime = 1700000000
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    raw = buf.getvalue()
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    return path


@pytest.fixture
def base(tmp_path):
    """A base layer (gzip'd): dpkg status and two Python packages, one in Debian's dist-packages."""
    return layer(
        tmp_path / "base.tar.gz",
        {
            "./var/": None,
            "./var/lib/dpkg/status": STATUS,
            "./var/lib/dpkg/status-old": b"Package: stale\nStatus: install ok installed\nVersion: 0\n",
            f"./{SITE}/Requests-2.31.0.dist-info/METADATA": metadata("Requests", "2.31.0", "License: Apache 2.0"),
            "./usr/lib/python3/dist-packages/zope.interface-6.0.dist-info/METADATA": metadata(
                "zope.interface", "6.0", "License-Expression: ZPL-2.1"
            ),
            f"./{SITE}/requests/__init__.py": b"# not metadata\n",
        },
    )


@pytest.fixture
def app(tmp_path):
    """An upper layer (plain tar): deletes requests, adds the app's packages."""
    return layer(
        tmp_path / "app.tar",
        {
            f"{SITE}/.wh.Requests-2.31.0.dist-info": b"",
            f"{SITE}/fastapi-0.110.0.dist-info/METADATA": metadata("fastapi", "0.110.0", "License: MIT"),
            f"{SITE}/typing_extensions-4.10.0.dist-info/METADATA": metadata("typing_extensions", "4.10.0"),
            "opt/venv/lib/python3.11/site-packages/Pydantic_Core-2.16.3.dist-info/METADATA": metadata(
                "pydantic_core", "2.16.3"
            ),
        },
        gz=False,
    )


def build(layers, **kwargs):
    return sbom.from_layers(layers, name="infractl-api", version="1.2.3", digest=DIGEST, **kwargs)


def test_lists_debian_and_python_packages_and_honours_whiteouts(base, app):
    doc = build([base, app])
    assert sorted(sbom.purls(doc)) == [
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64",
        "pkg:deb/debian/python3.11-minimal@3.11.2-6%2Bdeb12u1?arch=amd64",
        "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all",
        "pkg:pypi/fastapi@0.110.0",
        "pkg:pypi/pydantic-core@2.16.3",
        "pkg:pypi/typing-extensions@4.10.0",
        "pkg:pypi/zope-interface@6.0",
    ]
    by_name = {c["name"]: c for c in doc["components"]}
    assert by_name["libc6"]["version"] == "2.36-9+deb12u4" and by_name["libc6"]["type"] == "library"
    assert by_name["fastapi"]["licenses"] == [{"license": {"name": "MIT"}}]
    assert by_name["zope.interface"]["licenses"] == [{"expression": "ZPL-2.1"}]
    assert "licenses" not in by_name["typing_extensions"]


def test_the_image_is_the_described_component(base):
    doc = build([base])
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    image = doc["metadata"]["component"]
    assert image["type"] == "container" and image["name"] == "infractl-api" and image["version"] == "1.2.3"
    assert image["purl"] == f"pkg:oci/infractl-api@{DIGEST}"
    (root,) = [d for d in doc["dependencies"] if d["ref"] == image["bom-ref"]]
    assert sorted(root["dependsOn"]) == sorted(c["bom-ref"] for c in doc["components"])


def test_the_same_image_gives_the_same_bytes(base, app):
    first, second = build([base, app]), build([base, app])
    assert cosign.canonical(first) == cosign.canonical(second)
    assert json.dumps(first) == json.dumps(second)
    assert first["serialNumber"] == second["serialNumber"]
    assert uuid.UUID(first["serialNumber"].removeprefix("urn:uuid:")).version == 5
    other = sbom.from_layers([base, app], name="infractl-api", version="1.2.3", digest="sha256:" + "00" * 32)
    assert other["serialNumber"] != first["serialNumber"]


def test_timestamp_comes_from_source_date_epoch_or_is_absent(base):
    assert "timestamp" not in build([base])["metadata"]
    assert build([base], source_date_epoch=1700000000)["metadata"]["timestamp"] == "2023-11-14T22:13:20Z"


def test_top_most_dpkg_status_wins(tmp_path, base):
    upper = layer(
        tmp_path / "upper.tar.gz",
        {"var/lib/dpkg/status": b"Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88\n"},
    )
    assert [p for p in sbom.purls(build([base, upper])) if p.startswith("pkg:deb")] == [
        "pkg:deb/debian/curl@7.88?arch=amd64"
    ]


def test_whiteout_of_dpkg_status_or_its_directory(tmp_path, base):
    for name, members in {
        "file": {"var/lib/dpkg/.wh.status": b""},
        "dir": {"var/lib/.wh.dpkg": b""},
        "opaque": {"var/lib/dpkg/.wh..wh..opq": b"", "var/lib/dpkg/available": b""},
    }.items():
        upper = layer(tmp_path / f"{name}.tar", members, gz=False)
        assert not [p for p in sbom.purls(build([base, upper])) if p.startswith("pkg:deb")], name


def test_opaque_directory_hides_lower_packages_but_not_its_own(tmp_path, base):
    upper = layer(
        tmp_path / "opaque.tar",
        {
            f"{SITE}/.wh..wh..opq": b"",
            f"{SITE}/uvicorn-0.29.0.dist-info/METADATA": metadata("uvicorn", "0.29.0"),
        },
        gz=False,
    )
    pypi = sorted(p for p in sbom.purls(build([base, upper])) if p.startswith("pkg:pypi"))
    assert pypi == ["pkg:pypi/uvicorn@0.29.0", "pkg:pypi/zope-interface@6.0"]


def test_a_whiteout_never_hides_its_own_layers_files(tmp_path):
    same = layer(
        tmp_path / "same.tar",
        {
            f"{SITE}/.wh.flask-3.0.0.dist-info": b"",
            f"{SITE}/flask-3.0.0.dist-info/METADATA": metadata("Flask", "3.0.0"),
        },
    )
    assert sbom.purls(build([same])) == ["pkg:pypi/flask@3.0.0"]


def test_an_image_without_packages_still_has_a_valid_sbom(tmp_path):
    empty = layer(tmp_path / "empty.tar", {"etc/hostname": b"x\n"})
    doc = build([empty])
    assert sbom.purls(doc) == [] and doc["metadata"]["component"]["type"] == "container"


@pytest.mark.parametrize(
    ("content", "message"), [(b"this is not a tar", "not a readable tar layer"), (None, "no such layer")]
)
def test_unreadable_layers_are_refused(tmp_path, content, message):
    path = tmp_path / "bad.tar.gz"
    if content is not None:
        path.write_bytes(gzip.compress(content))
    with pytest.raises(VerificationError, match=message):
        build([path])


def test_dpkg_status_parser_keeps_only_installed_packages():
    names = [p["Package"] for p in sbom.dpkg_packages(STATUS.decode())]
    assert names == ["libc6", "python3.11-minimal", "tzdata"]


# --- validation -----------------------------------------------------------------------------------------------------


@pytest.fixture
def valid(base, app):
    return build([base, app])


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: d["components"][0].update(type="gadget"), r"\$\.components\[0\]\.type: 'gadget'"),
        (lambda d: d.update(serialNumber="12345"), r"\$\.serialNumber"),
        (lambda d: d["components"][1].pop("name"), r"\$\.components\[1\]: 'name' is a required property"),
        (lambda d: d.update(specVersion="1.5"), "not CycloneDX 1.6"),
        (lambda d: d.pop("bomFormat"), "not CycloneDX 1.6"),
    ],
    ids=["component-type", "serial", "missing-name", "spec-version", "format"],
)
def test_a_corrupted_sbom_is_refused_with_the_json_path(valid, corrupt, message):
    doc = copy.deepcopy(valid)
    corrupt(doc)
    with pytest.raises(VerificationError, match=message):
        sbom.validate(doc)


def test_validate_accepts_the_generated_document(valid):
    sbom.validate(valid)


def test_validate_refuses_non_documents():
    with pytest.raises(VerificationError, match="not a JSON object"):
        sbom.validate([])


# --- the .sbom artifact -------------------------------------------------------------------------------------------


def test_sbom_artifact_round_trip(valid):
    artifact = cosign.sbom_artifact(valid)
    (layer_descriptor,) = json.loads(artifact.manifest)["layers"]
    assert layer_descriptor["mediaType"] == "application/vnd.cyclonedx+json"
    store = {blob.digest: blob.data for blob in artifact.blobs}
    assert cosign.read_sbom(artifact.manifest, store.__getitem__) == valid
    assert cosign.sbom_artifact(valid).digest == artifact.digest


def test_sbom_artifact_with_a_corrupted_blob_is_refused(valid):
    artifact = cosign.sbom_artifact(valid)
    store = {blob.digest: blob.data for blob in artifact.blobs}
    store[artifact.layers[0].digest] = store[artifact.layers[0].digest].replace(b"libc6", b"libc7")
    with pytest.raises(VerificationError, match="does not match its content"):
        cosign.read_sbom(artifact.manifest, store.__getitem__)


def test_sbom_artifact_of_an_invalid_document_is_refused_on_read(valid):
    """An SBOM pushed by someone else that is consistent with its digest but not CycloneDX 1.6."""
    broken = copy.deepcopy(valid)
    broken["components"][0]["type"] = "gadget"
    artifact = cosign.sbom_artifact(broken)
    with pytest.raises(VerificationError, match=r"components\[0\]\.type"):
        cosign.read_sbom(artifact.manifest, {b.digest: b.data for b in artifact.blobs}.__getitem__)


def test_sbom_manifest_without_a_cyclonedx_layer_is_refused(valid):
    artifact = cosign.sbom_artifact(valid)
    manifest = artifact.manifest.replace(b"vnd.cyclonedx+json", b"vnd.spdx+json")
    with pytest.raises(VerificationError, match="0 CycloneDX layers"):
        cosign.read_sbom(manifest, {b.digest: b.data for b in artifact.blobs}.__getitem__)
