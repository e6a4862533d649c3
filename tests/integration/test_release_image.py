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

import json
import os
import shutil

import pytest

from infractl.adapters import process
from infractl.services.release.base import base_image, read_blob
from infractl.services.release.image import IMAGE_NAMES
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
