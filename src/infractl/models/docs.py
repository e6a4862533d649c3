"""What `infractl docs` did to one module or stack README."""

from __future__ import annotations

from pydantic import BaseModel


class DocResult(BaseModel):
    folder: str
    status: str  # unchanged | updated | stale
    inputs: int
    outputs: int
