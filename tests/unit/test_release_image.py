"""services/release: the daemonless image build on a tiny synthetic base (a few-KB root file system tar fed through
the same code path as mmdebstrap's) and a tiny project: deterministic layers, the same digests twice, the config of
the Dockerfiles' runtime stage, api and worker sharing their layers, user 10001, and the refusals.

umoci runs for real (≈0.05 s a call on these layers); pip builds the tiny project's wheel (its build backend comes
from the host's configured index or pip's cache, as in every build). The real base and dependencies are built in
tests/integration/test_release_image.py."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from tests.conftest import REPO

from infractl.errors import ConfigError, ExternalToolError
from infractl.services.release import base as base_mod
from infractl.services.release import image as image_mod
from infractl.services.release import layer
from infractl.services.release.base import base_image, read_blob
from infractl.services.release.image import IMAGE_NAMES, build_images, runtime_stage

EPOCH = 1765000000
PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"  # pragma: allowlist secret
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
GROUP = "root:x:0:\nnogroup:x:65534:\n"
DPKG_STATUS = (
    "Package: python3.11\nStatus: install ok installed\nVersion: 3.11.2-6+deb12u6\n\n"
    "Package: python3\nStatus: install ok installed\nVersion: 3.11.2-1+b1\n"
)


def tiny_rootfs(path: Path) -> Path:
    """A root file system tar as mmdebstrap writes it ("./" names), with what the build reads from a base."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tar:
        for name in ("./", "./etc/", "./usr/", "./usr/bin/", "./var/", "./var/lib/", "./var/lib/dpkg/", "./tmp/"):
            info = tarfile.TarInfo(name.rstrip("/") or ".")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o1777 if "tmp" in name else 0o755, 1
            tar.addfile(info)
        for name, text in (("./etc/passwd", PASSWD), ("./etc/group", GROUP), ("./var/lib/dpkg/status", DPKG_STATUS)):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(text), 0o644, 1
            tar.addfile(info, io.BytesIO(text.encode()))
        link = tarfile.TarInfo("./usr/bin/python3")
        link.type, link.linkname, link.mtime = tarfile.SYMTYPE, "python3.11", 1
        tar.addfile(link)
    return path


def tiny_project(root: Path) -> Path:
    """A project with the repository's Dockerfiles, no dependencies and one package."""
    (root / "src" / "controlplane").mkdir(parents=True)
    (root / "src" / "controlplane" / "__init__.py").write_text('"""tiny"""\n')
    (root / "src" / "controlplane" / "api.py").write_text("def main():\n    return 'api'\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling>=1.21"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "tinyapp"\nversion = "0.1.0"\ndependencies = []\n\n'
        "[project.optional-dependencies]\nruntime = []\n\n"
        '[tool.hatch.build.targets.wheel]\npackages = ["src/controlplane"]\n'
    )
    for name in ("Dockerfile.api", "Dockerfile.worker"):
        shutil.copy(REPO / name, root / name)
    return root


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Three builds of the tiny project: a, b (the same inputs, separate caches) and c (a later commit)."""
    root = tmp_path_factory.mktemp("tiny")
    rootfs = tiny_rootfs(root / "rootfs.tar")
    project = tiny_project(root / "project")
    out = {}
    for name, cache, epoch in (("a", "cache-a", EPOCH), ("b", "cache-b", EPOCH), ("c", "cache-a", EPOCH + 3600)):
        base = base_image(root / cache, rootfs=rootfs)
        images = build_images(
            project, root / cache, root / f"out-{name}", version="1.2.3", revision="f" * 40, epoch=epoch, base=base
        )
        out[name] = (base, {i.name: i for i in images})
    out["again"] = base_image(root / "cache-a", rootfs=rootfs)
    return out


def config_of(image) -> dict:
    return read_blob(image.layout, image.config_digest)


def members(blob: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(blob, "r:gz") as tar:
        return tar.getmembers()


def read_member(blob: Path, name: str) -> str:
    with tarfile.open(blob, "r:gz") as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read().decode()


def test_the_same_inputs_give_the_same_digests(builds):
    base_a, a = builds["a"]
    base_b, b = builds["b"]
    assert base_a.digest == base_b.digest and not base_a.cached and not base_b.cached
    for name in IMAGE_NAMES:
        assert a[name].digest == b[name].digest
        assert a[name].config_digest == b[name].config_digest
        assert [p.name for p in a[name].layers] == [p.name for p in b[name].layers]
        assert a[name].ref_name == f"{name}:1.2.3"
        index = json.loads((a[name].layout / "index.json").read_text())
        assert {m["digest"] for m in index["manifests"]} == {a[n].digest for n in IMAGE_NAMES}


def test_the_base_comes_from_the_cache_the_second_time(builds):
    first, again = builds["a"][0], builds["again"]
    assert again.cached and again.digest == first.digest and again.inputs_digest == first.inputs_digest
    assert again.layer.is_file() and again.layer.name == again.layer_digest.split(":")[1]


def test_a_later_commit_changes_only_the_app_layer_and_the_config(builds):
    a, c = builds["a"][1], builds["c"][1]
    for name in IMAGE_NAMES:
        assert [p.name for p in a[name].layers[:2]] == [p.name for p in c[name].layers[:2]]
        assert a[name].layers[2].name != c[name].layers[2].name
        assert a[name].digest != c[name].digest


def test_api_and_worker_share_every_layer_and_differ_in_config(builds):
    images = builds["a"][1]
    api, worker = images["controlplane-api"], images["controlplane-worker"]
    assert api.layers == worker.layers and len(api.layers) == 3
    assert api.layout == worker.layout
    assert api.size == sum(p.stat().st_size for p in api.layers) + (
        (api.layout / "blobs" / "sha256" / api.digest[7:]).stat().st_size
        + (api.layout / "blobs" / "sha256" / api.config_digest[7:]).stat().st_size
    )
    api_config, worker_config = config_of(api)["config"], config_of(worker)["config"]
    assert api_config["Cmd"] != worker_config["Cmd"]
    assert "OTEL_SERVICE_NAME=controlplane-api" in api_config["Env"]
    assert "OTEL_SERVICE_NAME=controlplane-worker" in worker_config["Env"]  # pragma: allowlist secret
    assert "ExposedPorts" not in worker_config


def _dockerfile_runtime(path: Path) -> str:
    return re.split(r"^FROM .* AS runtime$", path.read_text(), flags=re.MULTILINE)[-1]


@pytest.mark.parametrize("name", IMAGE_NAMES)
def test_the_config_is_the_dockerfiles_runtime_stage(builds, name):
    """Checked against the Dockerfile's text with plain regexes (not with the parser the build uses)."""
    base, images = builds["a"]
    config = config_of(images[name])
    stage = _dockerfile_runtime(REPO / image_mod.DOCKERFILES[name])
    cfg = config["config"]
    assert cfg["Cmd"] == json.loads(re.search(r"^CMD (\[.*\])$", stage, re.MULTILINE).group(1))
    assert cfg["User"] == re.search(r"^USER (\S+)$", stage, re.MULTILINE).group(1) == "10001:10001"
    assert cfg["WorkingDir"] == re.search(r"^WORKDIR (\S+)$", stage, re.MULTILINE).group(1)
    exposed = re.findall(r"^EXPOSE (\d+)$", stage, re.MULTILINE)
    assert sorted(cfg.get("ExposedPorts", {})) == [f"{p}/tcp" for p in exposed]
    env = dict(e.split("=", 1) for e in cfg["Env"])
    declared = re.search(r"^ENV ((?:.*\\\n)*.*)$", stage, re.MULTILINE).group(1)
    for key, value in re.findall(r"(\w+)=(\S+)", declared):
        assert env[key] == value.replace("$PATH", base_mod.BASE_ENV[0].split("=", 1)[1])
    assert env["PATH"].startswith("/opt/venv/bin:") and env["LANG"] == "C.UTF-8"
    labels = cfg["Labels"]
    title = re.search(r'org\.opencontainers\.image\.title="([^"]+)"', stage).group(1)
    assert labels["org.opencontainers.image.title"] == title == name
    assert labels["org.opencontainers.image.vendor"] == "infractl"
    assert labels["org.opencontainers.image.version"] == "1.2.3"
    assert labels["org.opencontainers.image.revision"] == "f" * 40
    assert labels["org.opencontainers.image.created"] == config["created"] == "2025-12-06T05:46:40Z"
    assert labels["org.opencontainers.image.source"] == ""
    assert labels["org.opencontainers.image.base.name"] == f"localhost/infractl-base:bookworm@{base.digest}"
    declared_labels = set(re.findall(r"(org\.opencontainers\.image\.[\w.]+)=", stage))
    assert set(labels) == declared_labels
    assert config["architecture"] and config["os"] == "linux"


def test_user_10001_is_in_the_app_layer(builds):
    api = builds["a"][1]["controlplane-api"]
    passwd = read_member(api.layers[2], "etc/passwd")
    group = read_member(api.layers[2], "etc/group")
    assert passwd == PASSWD + "controlplane:x:10001:10001::/nonexistent:/usr/sbin/nologin\n"
    assert group == GROUP + "controlplane:x:10001:\n"


def test_the_layers_are_deterministic_tars(builds):
    api = builds["a"][1]["controlplane-api"]
    for blob, epoch in ((api.layers[1], image_mod.DEPS_EPOCH), (api.layers[2], EPOCH)):
        assert blob.read_bytes()[:10] == api.layers[0].read_bytes()[:10]  # one fixed gzip header (umoci's), any epoch
        found = members(blob)
        names = [m.name for m in found]
        assert names == sorted(names, key=lambda n: n.split("/"))
        assert {(m.uid, m.gid, m.mtime) for m in found} == {(0, 0, epoch)}
        assert all(not m.pax_headers for m in found)
        assert {m.mode for m in found if m.isdir()} == {0o755}
    deps = {m.name: m for m in members(api.layers[1])}
    assert deps["opt/venv/bin/python3"].linkname == "/usr/bin/python3"
    assert deps["opt/venv/bin/python"].linkname == "python3"
    assert deps["opt/venv/lib64"].linkname == "lib"
    assert "opt/venv/lib/python3.11/site-packages" in deps
    cfg = read_member(api.layers[1], "opt/venv/pyvenv.cfg")
    assert cfg.splitlines()[:3] == ["home = /usr/bin", "include-system-site-packages = false", "version = 3.11.2"]
    app = {m.name for m in members(api.layers[2])}
    assert "opt/venv/lib/python3.11/site-packages/controlplane/api.py" in app
    assert "opt/venv/lib/python3.11/site-packages/controlplane/__pycache__/api.cpython-311.pyc" in app
    assert not any(n.endswith("direct_url.json") for n in app)  # it would record the host's path
    pyc = "opt/venv/lib/python3.11/site-packages/controlplane/__pycache__/api.cpython-311.pyc"
    with tarfile.open(api.layers[2], "r:gz") as tar:
        header = tar.extractfile(pyc).read(8)  # type: ignore[union-attr]
    assert int.from_bytes(header[4:8], "little") == 0b11  # checked-hash: no source mtime inside


def test_write_tar_is_byte_identical_for_the_same_tree(tmp_path):
    for run in ("one", "two"):
        stage = tmp_path / run / "stage"
        (stage / "a" / ("x" * 120)).mkdir(parents=True)
        (stage / "a" / ("x" * 120) / ("y" * 90 + ".py")).write_text("print(1)\n")
        (stage / "b.sh").write_text("#!/bin/sh\n")
        (stage / "b.sh").chmod(0o700)
        (stage / "link").symlink_to("b.sh")
        os.utime(stage / "b.sh", (1, 1 if run == "one" else 99))
    one = layer.write_tar(tmp_path / "one" / "stage", tmp_path / "one.tar", epoch=7)
    two = layer.write_tar(tmp_path / "two" / "stage", tmp_path / "two.tar", epoch=7)
    assert one.diff_id == two.diff_id and (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()
    with tarfile.open(tmp_path / "one.tar") as tar:
        modes = {m.name: m.mode for m in tar.getmembers()}
    assert modes["b.sh"] == 0o755 and modes["link"] == 0o777 and modes["a"] == 0o755


def test_console_scripts_move_to_the_venv_with_their_record(tmp_path):
    target, venv_bin = tmp_path / "site", tmp_path / "bin"
    (target / "bin").mkdir(parents=True)
    venv_bin.mkdir()
    (target / "bin" / "tool").write_text("#!/host/venv/bin/python\nimport tool\n")
    (target / "tool-1.0.dist-info").mkdir()
    (target / "tool-1.0.dist-info" / "RECORD").write_text("tool.py,sha256=abc,3\n../../bin/tool,sha256=old,40\n")
    (target / "tool-1.0.dist-info" / "direct_url.json").write_text('{"url": "file:///host/path"}')
    layer.move_scripts(target, venv_bin)
    layer.drop_direct_url(target)
    assert (venv_bin / "tool").read_text() == "#!/opt/venv/bin/python\nimport tool\n"
    assert not (target / "bin").exists()
    record = (target / "tool-1.0.dist-info" / "RECORD").read_text().splitlines()
    assert record[0] == "tool.py,sha256=abc,3"
    script = (venv_bin / "tool").read_bytes()
    digest = base64.urlsafe_b64encode(hashlib.sha256(script).digest()).rstrip(b"=").decode()
    assert record[1] == f"../../../bin/tool,sha256={digest},{len(script)}"  # as pip writes it in a venv
    assert not (target / "tool-1.0.dist-info" / "direct_url.json").exists()


# --- the Dockerfile parser and the refusals ------------------------------------------------------------------------

RUNTIME_HEAD = "FROM x AS build\nRUN make\n\nFROM ${BASE} AS runtime\nARG VERSION=0.0.0\nARG BASE_IMAGE\n"


def test_runtime_stage_reads_the_last_stage_with_build_arguments(tmp_path):
    dockerfile = tmp_path / "Dockerfile.x"
    dockerfile.write_text(
        RUNTIME_HEAD + "# a comment\n"
        'LABEL a.version="${VERSION}" \\\n'
        "    # comment inside\n"
        '      a.base="$BASE_IMAGE"\n'
        "RUN groupadd --system --gid 10001 app \\\n    && useradd --system --uid 10001 --gid 10001 app\n"
        "ENV PATH=/opt/venv/bin:$PATH \\\n    A=1\nENV B=$A\n"
        "USER 10001:10001\nEXPOSE 8080 9090/udp\nCMD python -m x\n"
    )
    stage = runtime_stage(dockerfile, {"VERSION": "2.0", "BASE_IMAGE": "b@sha256:1"}, ["PATH=/usr/bin", "LANG=C"])
    assert stage.labels == {"a.version": "2.0", "a.base": "b@sha256:1"}
    assert stage.env == ("PATH=/opt/venv/bin:/usr/bin", "LANG=C", "A=1", "B=1")
    assert stage.exposed_ports == ("8080/tcp", "9090/udp")
    assert stage.cmd == ("/bin/sh", "-c", "python -m x")
    assert stage.workdir == "/" and stage.user == "10001:10001"
    assert stage.account == image_mod.Account("app", "app", 10001, 10001)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN apt-get update && apt-get install -y curl", r"Dockerfile\.x:7: RUN apt-get"),
        ("COPY secrets.env /etc/", r"Dockerfile\.x:7: COPY secrets\.env"),
        ('ENTRYPOINT ["tini"]', r"Dockerfile\.x:7: ENTRYPOINT"),
    ],
)
def test_runtime_stage_refuses_what_the_local_build_cannot_reproduce(tmp_path, line, message):
    dockerfile = tmp_path / "Dockerfile.x"
    dockerfile.write_text(RUNTIME_HEAD + line + "\n")
    with pytest.raises(ConfigError, match=message) as info:
        runtime_stage(dockerfile, {}, [])
    assert "not reproduced by the local build" in info.value.message


def test_a_dockerfile_without_a_runtime_stage_is_refused(tmp_path):
    dockerfile = tmp_path / "Dockerfile.x"
    dockerfile.write_text("FROM x AS build\n")
    with pytest.raises(ConfigError, match="no `FROM … AS runtime` stage"):
        runtime_stage(dockerfile, {}, [])


def test_a_host_python_that_does_not_match_the_base_is_refused():
    image_mod.check_python("3.11.2", (3, 11))
    with pytest.raises(ExternalToolError, match=r"base image has Python 3\.11\.2 but infractl runs on Python 3\.12"):
        image_mod.check_python("3.11.2", (3, 12))


def test_a_missing_tool_names_its_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("umoci", "mmdebstrap"):
        with pytest.raises(ExternalToolError) as info:
            base_mod.tool(name)
        assert info.value.message == f"{name} not found"
        assert f"apt-get install -y {name}" in (info.value.hint or "")


def test_a_base_without_python_is_refused(tmp_path):
    with tarfile.open(tmp_path / "rootfs.tar", "w") as tar:
        for name, text in (("etc/passwd", PASSWD), ("etc/group", GROUP)):
            info = tarfile.TarInfo(name)
            info.size = len(text)
            tar.addfile(info, io.BytesIO(text.encode()))
    with pytest.raises(ExternalToolError, match="has no Python 3"):
        base_image(tmp_path / "cache", rootfs=tmp_path / "rootfs.tar")
    assert not list((tmp_path / "cache" / "base").iterdir())  # nothing half-made left in the cache


def test_gzip_of_umoci_is_what_the_manifest_says(builds):
    """The blob a manifest names is the gzip of the tar whose digest is its diff_id."""
    api = builds["a"][1]["controlplane-api"]
    config = config_of(api)
    for blob, diff_id in zip(api.layers, config["rootfs"]["diff_ids"], strict=True):
        assert "sha256:" + hashlib.sha256(gzip.decompress(blob.read_bytes())).hexdigest() == diff_id
