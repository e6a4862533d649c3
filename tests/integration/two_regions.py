"""An emulator with KMS keys in two regions, for the replication tests (the emulator's replication, the DR drill's
evidence check): the primary region's and the DR region's S3 clients (path-style, no retries)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from infractl.adapters import emulator

PRIMARY, DR = "eu-west-1", "eu-central-1"
ROLE = "arn:aws:iam::123456789012:role/evidence-replication"


@dataclass
class TwoRegions:
    s3: Any  # primary region
    dr: Any  # DR region
    kms_key: str
    dr_kms_key: str


def _client(state: emulator.EmulatorState, service: str, region: str) -> Any:
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=15, s3={"addressing_style": "path"})
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=state.url,
        verify=state.ca_file,
        aws_access_key_id=emulator.FAKE_ACCESS_KEY,
        aws_secret_access_key=emulator.FAKE_SECRET_KEY,  # pragma: allowlist secret
        config=config,
    )


@contextlib.contextmanager
def two_regions(data_dir: Path) -> Iterator[TwoRegions]:
    """An emulator in data_dir (stopped after) with one KMS key per region."""
    state, _ = emulator.start(data_dir)
    try:
        key = _client(state, "kms", PRIMARY).create_key(Description="evidence")["KeyMetadata"]["Arn"]
        dr_key = _client(state, "kms", DR).create_key(Description="evidence dr")["KeyMetadata"]["Arn"]
        yield TwoRegions(_client(state, "s3", PRIMARY), _client(state, "s3", DR), key, dr_key)
    finally:
        emulator.stop(data_dir)
