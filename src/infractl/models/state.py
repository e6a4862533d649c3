"""The remote state backend of one environment, as `infractl state bootstrap` made or found it."""

from __future__ import annotations

from pydantic import BaseModel


class StateItem(BaseModel):
    name: str
    status: str  # created | updated | unchanged


class StateBackend(BaseModel):
    env: str
    emulated: bool
    account: str
    region: str
    bucket: str
    lock: str  # s3 (use_lockfile) | dynamodb
    lock_table: str | None = None
    kms_key_id: str | None = None
    key_pattern: str
    items: list[StateItem] = []

    @property
    def changed(self) -> bool:
        return any(i.status != "unchanged" for i in self.items)
