"""The stack graph: terraform/stacks/stacks.yaml declares every root stack, its dependencies and its inputs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

INPUT_REF = re.compile(
    r"^(env(\.[A-Za-z0-9_-]+)+|stack\.[a-z0-9_-]+\.[A-Za-z0-9_]+|state\.(bucket|region|lock_table))$"
)


class StackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cloud: Literal["aws", "azure", "gcp"]
    path: str = Field(description="folder under terraform/stacks/")
    description: str = ""
    depends_on: list[str] = Field(default_factory=list)
    # Terraform variable name -> reference: env.<dotted path in the environment model>, stack.<name>.<output>
    # or state.<bucket|region|lock_table>
    inputs: dict[str, str] = Field(default_factory=dict)
    # Address prefixes `destroy` keeps (removed from state, not destroyed) when a bucket among them holds data
    retain_on_destroy: list[str] = Field(default_factory=list)
    # Stand-in values of this stack's outputs, for `infractl validate` and `infractl cost`: they plan every stack
    # against an empty emulator without applying its upstream stacks. Strings may use {account}, {region},
    # {dr_region} and {env}. Every output a downstream stack reads needs one.
    example_outputs: dict[str, Any] = Field(default_factory=dict)
    # `infractl parity` holds a stack to terraform/contracts/<name>.yaml; single-cloud declares it has none on
    # purpose (it is listed as not checked, not reported as missing a contract)
    parity: Literal["contract", "single-cloud"] = "contract"

    @field_validator("inputs")
    @classmethod
    def _refs(cls, v: dict[str, str]) -> dict[str, str]:
        for var, ref in v.items():
            if not INPUT_REF.match(ref):
                raise ValueError(f"{var}: {ref!r} is not env.<path>, stack.<name>.<output> or state.<field>")
        return v


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stacks: dict[str, StackSpec]


class Stack(BaseModel):
    """A stack as the services use it: its name plus its spec."""

    model_config = ConfigDict(frozen=True)

    name: str
    spec: StackSpec
