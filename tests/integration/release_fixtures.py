"""The real release images, built once per test session, for every test that reads, runs or pushes them.

`built_release_images` builds controlplane-api and controlplane-worker from this repository the way
`infractl release build` does (services/release/image.py): the Debian base from mmdebstrap (≈35 s, cold: the cache is
the session's own), the project's runtime dependencies from the host's configured package index, the project. It
returns (images, cache_dir); the phase timings go to cache_dir/timings.json. Use it with

    from tests.integration import release_fixtures

    built_release_images = release_fixtures.built_release_images  # the session fixture

A missing mmdebstrap or umoci fails the test (naming the Debian package), never skips it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from infractl.services.release.image import BuiltImage, build_images
from tests.conftest import REPO

RELEASE_VERSION = "0.1.0-test"
RELEASE_REVISION = "0" * 40
RELEASE_EPOCH = 1765000000  # 2025-12-06T05:46:40Z: SOURCE_DATE_EPOCH of the test builds


class PhaseClock:
    """A progress callback that notes when each phase started; `timings()` gives the seconds per phase."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.marks: list[tuple[str, float]] = []

    def __call__(self, message: str) -> None:
        self.marks.append((message, time.monotonic()))

    def timings(self) -> dict[str, float]:
        ends = [at for _, at in self.marks[1:]] + [time.monotonic()]
        phases = {message: round(end - at, 1) for (message, at), end in zip(self.marks, ends, strict=True)}
        return phases | {"total": round(time.monotonic() - self.start, 1)}


def build(cache_dir: Path, out_dir: Path) -> tuple[list[BuiltImage], dict[str, float]]:
    clock = PhaseClock()
    images = build_images(
        REPO, cache_dir, out_dir, version=RELEASE_VERSION, revision=RELEASE_REVISION, epoch=RELEASE_EPOCH,
        progress=clock,
    )  # fmt: skip
    return images, clock.timings()


@pytest.fixture(scope="session")
def built_release_images(tmp_path_factory) -> tuple[list[BuiltImage], Path]:
    cache_dir = tmp_path_factory.mktemp("release-cache")
    images, timings = build(cache_dir, tmp_path_factory.mktemp("release-out"))
    (cache_dir / "timings.json").write_text(json.dumps({"cold": timings}, indent=2) + "\n")
    return images, cache_dir
