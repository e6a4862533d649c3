"""The evidence ledger's settings in the environment model (environments/<env>.yaml `evidence:`, docs/evidence.md).
Part of models/environment.py, which re-exports these names. The bucket, its Object Lock mode and default
retention stay where the evidence stack reads them (`stacks.evidence`): the `standard` retention class is that
default; `retention_classes` adds longer or shorter ones, applied per object."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

STANDARD_CLASS = "standard"
CLASS_NAME = r"^[a-z][a-z0-9-]{0,30}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class RetentionClass(_Strict):
    days: int = Field(ge=1, le=36500)


class EvidenceConfig(_Strict):
    # transit: Vault/OpenBao's transit engine signs (the key never leaves Vault); local: an Ed25519 key file
    signer: Literal["transit", "local"] = "transit"
    transit_mount: str = Field(default="transit", pattern=r"^[a-zA-Z0-9_/-]{1,64}$")
    transit_key: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9_-]{1,64}$")  # default infractl-evidence-<env>
    local_key_file: str | None = None  # signer local: the PEM file (relative to the project)
    checkpoint_every: int = Field(default=1000, ge=1, le=1_000_000)
    retention_classes: dict[Annotated[str, Field(pattern=CLASS_NAME)], RetentionClass] = Field(default_factory=dict)
