"""Emulate mode never reaches an AWS host: every endpoint the aws provider has points at the emulator.

Terraform runs with HTTPS_PROXY/HTTP_PROXY set to a recording proxy on loopback that refuses every request. Go's
proxy selection never proxies loopback, so calls to the emulator go straight to it, and any call to another host
(an `*.amazonaws.com` endpoint the override left out) reaches the proxy instead, which records the host and refuses.
"""

from __future__ import annotations

import socketserver
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from infractl.adapters import aws_endpoints, emulator, process, terraform
from infractl.services.stacks.workspace import emulator_override, emulator_provider
from tests.integration.conftest import emulator_requests

# The 22 services the override named before it was derived from the provider's schema.
OLD_LIST = [
    "acm",
    "autoscaling",
    "budgets",
    "cloudwatch",
    "dynamodb",
    "ec2",
    "ecr",
    "eks",
    "elbv2",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "sqs",
    "ssm",
    "sts",
]

# A user's own stack with two services outside that list (public VPC modules create both).
STACK = """
provider "aws" {
  region = "eu-west-1"
}

resource "aws_vpc" "this" {
  cidr_block = "10.77.0.0/16"
}

resource "aws_subnet" "this" {
  vpc_id            = aws_vpc.this.id
  cidr_block        = "10.77.1.0/24"
  availability_zone = "eu-west-1a"
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "endpoints-cache"
  subnet_ids = [aws_subnet.this.id]
}

resource "aws_redshift_subnet_group" "this" {
  name       = "endpoints-redshift"
  subnet_ids = [aws_subnet.this.id]
}
"""

# The control: the same kind of resource, its subnet made up (the call is refused before it could matter).
CONTROL = """
provider "aws" {
  region      = "eu-west-1"
  max_retries = 3 # the refused call fails in seconds rather than after the SDK's 25 attempts
}

resource "aws_elasticache_subnet_group" "this" {
  name       = "endpoints-control"
  subnet_ids = ["subnet-0123456789abcdef0"]
}
"""


# A user's stack that declares no provider block: infractl declares the default configuration, emulated.
NO_PROVIDER = """
data "aws_redshift_subnet_group" "this" {
  name = "endpoints-redshift"
}

output "subnets" {
  value = data.aws_redshift_subnet_group.this.subnet_ids
}
"""


class _Recorder(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        request = self.rfile.readline().decode("latin-1").split()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if len(request) >= 2:
            self.server.seen.append(request[1])  # type: ignore[attr-defined]
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@pytest.fixture
def proxy() -> Iterator[tuple[str, list[str]]]:
    """A refusing HTTP(S) proxy on loopback: its URL and the targets asked of it (CONNECT host:port, or URL)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def _env(tmp_path: Path, mirror: str, ca_file: str, proxy_url: str) -> dict[str, str]:
    (tmp_path / "terraformrc").write_text(terraform.cli_config_text(mirror=Path(mirror), plugin_cache=None))
    proxies = {k: proxy_url for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")}
    base = {k: v for k, v in process.clean_env().items() if k.upper() not in ("NO_PROXY", "ALL_PROXY")}
    return terraform.child_env(
        base,
        cli_config=tmp_path / "terraformrc",
        data_dir=tmp_path / "data",
        extra={"SSL_CERT_FILE": ca_file, "AWS_CA_BUNDLE": ca_file, **proxies},
        drop_prefixes=("AWS_",),
    )


def _terraform(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [terraform.find_binary("terraform"), f"-chdir={folder}", *args, "-no-color", "-input=false"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)


def _stack(
    tmp_path: Path, name: str, config: str, override: str, file: str = "zz_infractl_emulator_override.tf"
) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "main.tf").write_text(config)
    (folder / file).write_text(override)
    return folder


def test_services_outside_the_old_list_go_to_the_emulator_and_never_to_an_aws_host(emulated, mirror, tmp_path, proxy):
    proxy_url, seen = proxy
    state = emulator.status(emulated / "emulator")
    env = _env(tmp_path, mirror, state.ca_file or "", proxy_url)

    # the control: with the old hand list, ElastiCache goes to its real AWS endpoint (here: the refusing proxy)
    control = _stack(tmp_path, "control", CONTROL, emulator_override([None], state.url or "", services=OLD_LIST))
    assert _terraform(control, env, "init").returncode == 0
    refused = _terraform(control, env, "apply", "-auto-approve")
    assert refused.returncode != 0
    assert any(target.startswith("elasticache.eu-west-1.amazonaws.com") for target in seen), seen

    # the override derived from the provider: every call, ElastiCache and Redshift included, stays on loopback
    seen.clear()
    folder = _stack(tmp_path, "user", STACK, emulator_override([None], state.url or ""))
    assert _terraform(folder, env, "init").returncode == 0
    applied = _terraform(folder, env, "apply", "-auto-approve")
    assert applied.returncode == 0, applied.stdout[-4000:] + applied.stderr[-4000:]
    assert seen == []
    ops = {(r["service"], r["op"]) for r in emulator_requests(emulated)}
    assert ("elasticache", "CreateCacheSubnetGroup") in ops and ("redshift", "CreateClusterSubnetGroup") in ops

    # a stack without a provider block: the declared default configuration reads Redshift from the emulator
    provider = emulator_provider("eu-west-1", state.url or "")
    bare = _stack(tmp_path, "bare", NO_PROVIDER, provider, file="zz_infractl_emulator_provider.tf")
    assert _terraform(bare, env, "init").returncode == 0
    planned = _terraform(bare, env, "plan")
    assert planned.returncode == 0, planned.stdout[-4000:] + planned.stderr[-4000:]
    assert "subnet-" in planned.stdout and seen == []


def test_packaged_endpoint_list_is_the_mirrored_providers_own(mirror, tmp_path):
    """The packaged list is what the provider says (schema less deprecated attributes and refused aliases)."""
    (tmp_path / "terraformrc").write_text(terraform.cli_config_text(mirror=Path(mirror), plugin_cache=None))
    env = terraform.child_env(
        process.clean_env(), cli_config=tmp_path / "terraformrc", data_dir=tmp_path / "probe" / ".terraform"
    )
    version, names = aws_endpoints.derive(terraform.find_binary("terraform"), tmp_path / "probe", env)
    assert aws_endpoints.packaged().get(version) == names, "regenerate: python -m infractl.adapters.aws_endpoints DIR"
    assert aws_endpoints.local_version([Path(mirror)]) == version
