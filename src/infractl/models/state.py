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


class Orphan(BaseModel):
    """An object a killed apply created without recording it: the planned create it would collide with."""

    address: str
    type: str
    import_id: str


class RecoverResult(BaseModel):
    """`infractl state recover`: the planned creates whose objects already exist, and the import blocks for them."""

    env: str
    stack: str
    emulated: bool
    orphans: list[Orphan] = []
    unchecked: list[str] = []  # planned creates of AWS types without a name to look them up by
    checked: int = 0  # planned creates that were looked up
    imports: str = ""  # Terraform import blocks, one per orphan
    written: str | None = None  # where --write put them (the stack's workspace: the next run of it imports them)
