"""The service endpoints of the hashicorp/aws provider, read from the provider itself, per provider version.

Emulate mode points every endpoint the provider has at the emulator, so no service (one moto implements or not) ever
reaches a real AWS host. The list is the provider's own: the attributes of its `endpoints` block in
`terraform providers schema -json`, less the attributes marked deprecated and less the aliases of a canonical name,
which the provider reports itself when both are set ("Invalid Attribute Combination": `logs`, `cloudwatchlog`,
`cloudwatchlogs`; the first one it names is the canonical one, kept).

`aws_endpoints.json` beside this module holds the list of each provider version it was generated for
(`python -m infractl.adapters.aws_endpoints SCRATCH_DIR` with TF_CLI_CONFIG_FILE naming the provider mirror;
tests/integration/test_emulator_endpoints.py checks it against the mirrored provider). A version not in it is
derived once, on first use, and cached in the work folder.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from infractl.adapters import files, process

PROVIDER = "registry.terraform.io/hashicorp/aws"
PACKAGED = Path(__file__).with_name("aws_endpoints.json")
_CONFLICT_PATH = re.compile(r"endpoints\[0\]\.([a-z0-9_]+)")


def schema_endpoints(schema: Mapping[str, Any]) -> list[str]:
    """The endpoint attributes of the provider's `endpoints` block, deprecated ones left out."""
    block = schema["provider_schemas"][PROVIDER]["provider"]["block"]["block_types"]["endpoints"]["block"]
    return sorted(name for name, attr in block["attributes"].items() if not attr.get("deprecated"))


def conflict_groups(plan_json_lines: Iterable[str]) -> list[list[str]]:
    """The groups of endpoint attributes the provider refuses together (one canonical name and its aliases), from
    the diagnostics of `terraform plan -json` with every endpoint set; the canonical name comes first."""
    groups = []
    for line in plan_json_lines:
        if not line.startswith("{"):
            continue
        diag = json.loads(line).get("diagnostic") or {}
        names = _CONFLICT_PATH.findall(diag.get("detail", ""))
        if len(names) > 1:
            groups.append(names)
    return groups


def without_aliases(names: Iterable[str], groups: Iterable[list[str]]) -> list[str]:
    aliases = {alias for group in groups for alias in group[1:]}
    return sorted(set(names) - aliases)


def _probe_config(names: Iterable[str]) -> str:
    """A provider block that sets every endpoint (to a closed loopback port: nothing is called) and a data source
    that needs no call, so that `plan` configures the provider and reports its conflicts."""
    endpoints = "\n".join(f'    {n} = "https://127.0.0.1:9"' for n in names)
    return (
        'provider "aws" {\n  region = "us-east-1"\n  access_key = "x"\n  secret_key = "x"\n'
        "  skip_credentials_validation = true\n  skip_requesting_account_id = true\n"
        "  skip_metadata_api_check = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n}}\n"
        'data "aws_region" "probe" {}\n'
    )


def derive(
    terraform_bin: str, scratch: Path, env: Mapping[str, str], version: str | None = None
) -> tuple[str, list[str]]:
    """(version, endpoint names) of the aws provider `terraform init` installs in an empty root (pinned to
    `version` when given), with the CLI configuration `env` names. Takes a few seconds and ~600 MB (one schema load
    and one provider launch)."""
    scratch.mkdir(parents=True, exist_ok=True)
    pin = f', version = "= {version}"' if version else ""
    (scratch / "versions.tf").write_text(
        f'terraform {{\n  required_providers {{\n    aws = {{ source = "hashicorp/aws"{pin} }}\n  }}\n}}\n'
    )
    (scratch / "probe.tf").unlink(missing_ok=True)
    tf = [terraform_bin, f"-chdir={scratch}"]
    process.run([*tf, "init", "-input=false", "-no-color", "-backend=false"], env=env)
    lock = (scratch / ".terraform.lock.hcl").read_text()
    found = re.search(r'provider "registry.terraform.io/hashicorp/aws" \{\s*version\s*=\s*"([^"]+)"', lock)
    installed = found.group(1) if found else (version or "unknown")
    schema = json.loads(process.run([*tf, "providers", "schema", "-json"], env=env).stdout)
    names = schema_endpoints(schema)
    (scratch / "probe.tf").write_text(_probe_config(names))
    plan = process.run([*tf, "plan", "-json", "-input=false", "-refresh=false", "-lock=false"], env=env)
    return installed, without_aliases(names, conflict_groups(plan.stdout.splitlines()))


def packaged() -> dict[str, list[str]]:
    """Version -> endpoint names, for the provider versions the package was generated for."""
    return json.loads(PACKAGED.read_text())["versions"]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else -1 for p in re.split(r"[.-]", version))


def local_version(roots: Iterable[Path | None]) -> str | None:
    """The newest hashicorp/aws version in these provider folders (a filesystem mirror, a plugin cache):
    the one `terraform init` installs from them under the stacks' `>= x, < y` constraints."""
    versions = []
    for root in roots:
        folder = root / "registry.terraform.io" / "hashicorp" / "aws" if root else None
        if folder and folder.is_dir():
            versions += [p.name for p in folder.iterdir() if p.is_dir() and re.match(r"^\d+\.\d+\.\d+", p.name)]
    return max(versions, key=_key) if versions else None


def endpoints(
    version: str | None,
    *,
    cache_dir: Path | None = None,
    derive_version: Callable[[str], list[str]] | None = None,
) -> tuple[str, ...]:
    """The endpoint names of this provider version: packaged, else cached in cache_dir, else derived (and cached).
    Without a version (no local provider found), the newest packaged list."""
    known = packaged()
    if version is None:
        version = max(known, key=_key)
    if version in known:
        return tuple(known[version])
    cached = cache_dir / f"aws-{version}.json" if cache_dir else None
    if cached and cached.is_file():
        return tuple(json.loads(cached.read_text()))
    if derive_version is None:
        return tuple(known[max(known, key=_key)])
    names = derive_version(version)
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        files.write_json(cached, names)
    return tuple(names)


def regenerate(terraform_bin: str, scratch: Path, env: Mapping[str, str]) -> str:
    """Add (or refresh) the list of the provider version `env`'s CLI configuration installs to aws_endpoints.json."""
    version, names = derive(terraform_bin, scratch, env)
    doc = json.loads(PACKAGED.read_text()) if PACKAGED.is_file() else {"provider": PROVIDER, "versions": {}}
    doc["versions"][version] = names
    doc["versions"] = dict(sorted(doc["versions"].items(), key=lambda kv: _key(kv[0])))
    PACKAGED.write_text(json.dumps(doc, indent=1) + "\n")
    return version


if __name__ == "__main__":  # python -m infractl.adapters.aws_endpoints SCRATCH_DIR (TF_CLI_CONFIG_FILE set)
    import os

    done = regenerate(process.find_binary("terraform"), Path(sys.argv[1]), dict(os.environ))
    print(f"{PACKAGED.name}: hashicorp/aws {done}")
