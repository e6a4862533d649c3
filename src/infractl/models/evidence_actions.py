"""infractl's own actions as evidence (docs/evidence.md#infractls-own-actions): one action per command that changes
an environment, and what `infractl evidence flush` reports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Action(BaseModel):
    """One run of a command that changes an environment: its ledger entry (and payload), or a queued file."""

    id: str  # uuid4 hex, made once: the entry's ref is `action:<id>`, so it is never appended twice
    env: str
    tenant: str = "-"
    kind: str  # infractl.<command>, e.g. infractl.apply, infractl.tenant.create
    actor: str
    at: str  # when the command finished (chain.timestamp): kept when the action waits in the queue
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"action:{self.id}"


class Delivery(BaseModel):
    """What became of one action: appended to its env's ledger, or queued locally (with why)."""

    env: str
    appended: bool
    flushed: int = 0  # queued actions appended before it
    queued: bool = False
    reason: str = ""  # why the ledger was not reachable
    waiting: int = 0  # actions in the queue after this one was added
    queue_dir: str = ""
    lost: bool = False  # neither appended nor queued (the queue could not be written): said loudly


class FlushResult(BaseModel):
    env: str
    queue_dir: str
    appended: int = 0  # new entries
    existing: int = 0  # already in the ledger (by ref): a flush interrupted after its append, re-run
    waiting: int = 0  # still queued (none unless unreadable)
    # queue files that are not actions, or actions the ledger refuses: kept, never appended
    unreadable: list[str] = Field(default_factory=list)
    seqs: list[int] = Field(default_factory=list)  # the entries' sequence numbers, oldest action first
