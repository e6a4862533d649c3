"""`python -m controlplane.openapi --check|--write [--path docs/api/openapi.json]`: the committed OpenAPI document.

--check exits 1 when the file differs from what the code generates (CI and tests/runtime/test_openapi.py run it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_PATH = Path("docs/api/openapi.json")


def document() -> str:
    from controlplane.app import create_app

    spec = create_app(instrument=False).openapi()
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"


def default_path() -> Path:
    """docs/api/openapi.json of the repository holding this package (source checkout), else of the cwd."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "docs").is_dir():
            return parent / DEFAULT_PATH
    return DEFAULT_PATH


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m controlplane.openapi", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    mode.add_argument("--write", action="store_true", help="(re)write the file")
    parser.add_argument("--path", type=Path, default=None)
    args = parser.parse_args(argv)
    path = args.path or default_path()
    text = document()
    if args.write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if current != text:
        what = "missing" if current is None else "stale"
        print(f"{path} is {what}: run `python -m controlplane.openapi --write`", file=sys.stderr)
        return 1
    print(f"{path} is current")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
