"""The result of `infractl init`: the files it wrote and the ones it found and left as they were."""

from __future__ import annotations

from pydantic import BaseModel


class InitResult(BaseModel):
    root: str  # the project folder, absolute
    created: list[str]  # project-relative paths written by this run
    kept: list[str]  # project-relative paths that existed: never overwritten
