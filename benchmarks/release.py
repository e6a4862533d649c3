"""Benchmark: promote a built release vs rebuilding the same images, and a warm release build vs a cold one, in the
same run, as ratios (issue 15: promote >= 10x faster than a rebuild; no layer uploaded twice).

Run with `make bench`. It works in a fresh clone of the committed project under a temporary folder, on the local
registry (emulate mode), so nothing of the working copy changes:

1. cold build: `infractl release build` with an empty cache (the Debian base image made with mmdebstrap, the
   dependency layer installed with pip, the app layer) into dev;
2. warm build: the same commit under another version (every cached layer reused; only the configs, which carry the
   version label, and the manifests are new);
3. promote dev -> staging, timed; the registry's own access log counts the blob uploads the promotion caused (the
   copy mounts blobs across repositories: it must upload none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
INFRACTL = str(Path(sys.executable).with_name("infractl"))


def infractl(root: Path, *args: str) -> tuple[float, dict]:
    began = time.perf_counter()
    proc = subprocess.run(
        [INFRACTL, "--root", str(root), *args, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "INFRACTL_EMULATE": "1"},
    )
    took = time.perf_counter() - began
    if proc.returncode != 0:
        sys.exit(f"infractl {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return took, json.loads(proc.stdout)


def main() -> None:
    from infractl.adapters.registry import count_uploads

    with tempfile.TemporaryDirectory(prefix="infractl-bench-release-") as tmp:
        root = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(root)], check=True)
        try:
            cold_s, cold = infractl(root, "release", "build", "--version", "bench-cold")
            warm_s, warm = infractl(root, "release", "build", "--version", "bench-warm")
            # another version of the same commit: the same layers (only the config's version label differs)
            log = root / ".infractl" / "registry" / "registry.log"
            uploads_before = count_uploads(log)
            promote_s, promoted = infractl(
                root,
                "promote",
                "dev",
                "staging",
                "--release",
                "bench-warm",
                "--approved-by",
                "platform-leads",
                "--yes",
            )
            uploads = count_uploads(log) - uploads_before
        finally:
            subprocess.run([INFRACTL, "--root", str(root), "registry", "stop"], capture_output=True)
    print(f"release build, cold cache        {cold_s:8.2f} s   ({cold['uploaded_blobs']} blobs uploaded)")
    print(
        f"release build, warm cache        {warm_s:8.2f} s   ratio cold/warm {cold_s / warm_s:6.1f}x "
        f"({warm['uploaded_blobs']} blobs uploaded)"
    )
    print(
        f"promote dev -> staging           {promote_s:8.2f} s   ratio warm rebuild/promote {warm_s / promote_s:6.1f}x,"
        f" cold rebuild/promote {cold_s / promote_s:6.1f}x"
    )
    print(f"blobs: {promoted['mounted_blobs']} mounted, {uploads} uploaded by the promotion (registry access log)")
    print(
        f"target: promote >= 10x faster than a rebuild -> {'met' if warm_s / promote_s >= 10 else 'NOT met'}; "
        f"no layer uploaded twice -> {'met' if uploads == 0 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
