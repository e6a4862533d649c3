"""`infractl parity`: every cloud's stacks against the shared stack contracts, and the parity matrix (docs/parity.md).

Read from the sources only, so it runs for clouds whose provider cannot be installed: each stack's variables (names
and types) and outputs (names) against terraform/contracts/<stack>.yaml plus the stack's parity.yaml, and the
resources behind each capability, searched in the stack and every local module it uses. For a cloud whose provider
is not in the mirror, `terraform fmt -check` also runs here (it needs no provider): that is all the syntax checking
such a cloud gets, and the report says it was not validated against the provider schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from infractl.adapters import files, hcl
from infractl.errors import ConfigError
from infractl.models.parity import (
    CLOUDS,
    Binding,
    CapabilityBinding,
    CloudCheck,
    Contract,
    InputSpec,
    ParityCell,
    ParityReport,
    UncheckedStack,
    Violation,
)
from infractl.models.project import Project
from infractl.models.stacks import Manifest
from infractl.services.stacks import tfsource, workspace

PROVIDERS = {"aws": "hashicorp/aws", "azure": "hashicorp/azurerm", "gcp": "hashicorp/google"}

BINDING = "parity.yaml"


@dataclass
class _StackSource:
    """What parity reads of one stack folder."""

    variables: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # name -> (type, file, line)
    outputs: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (file, line)
    resources: dict[str, list[tuple[hcl.Resource, str]]] = field(default_factory=dict)  # type -> (block, file)


def contracts_dir(project: Project) -> Path:
    return project.terraform_dir / "contracts"


def load_contracts(project: Project) -> dict[str, Contract]:
    """terraform/contracts/<stack>.yaml; none (no folder, or an empty one) is an empty dict: parity then checks
    nothing and says so (a project of its own need not have contracts)."""
    folder = contracts_dir(project)
    found: dict[str, Contract] = {}
    for path in sorted(folder.glob("*.yaml")):
        shown = project.rel(path)
        contract = files.validate(Contract, files.read_yaml(path, display=shown), display=shown)
        if contract.stack != path.stem:
            raise ConfigError(
                f"{shown}: stack: {contract.stack!r} differs from the file name", hint=f"stack: {path.stem}"
            )
        found[contract.stack] = contract
    return found


def unchecked(
    project: Project, contracts: dict[str, Contract], manifest: Manifest | None
) -> tuple[list[UncheckedStack], list[Violation], list[str]]:
    """The stacks of stacks.yaml that no contract covers: declared `parity: single-cloud`, or not (a note telling
    how to check it or declare it); a stack declared single-cloud that has a contract is a violation. And the
    notes for people, one line each."""
    notes: list[str] = []
    if not contracts:
        notes.append(
            f"no contracts ({project.rel(contracts_dir(project))}/<stack>.yaml): parity not checked"
            " (docs/stacks.md: a stack on several clouds gets a contract)"
        )
    if manifest is None:
        return [], [], notes
    shown = project.rel(project.manifest_path)
    skipped: list[UncheckedStack] = []
    violations: list[Violation] = []
    for name, spec in manifest.stacks.items():
        if spec.parity == "single-cloud":
            if name in contracts:
                violations.append(
                    Violation(
                        cloud=spec.cloud,
                        stack=name,
                        field="parity",
                        rule="single-cloud-with-contract",
                        message=f"{spec.cloud}/{name}: declared `parity: single-cloud` in {shown} but"
                        f" terraform/contracts/{name}.yaml exists: remove one of them",
                        file=shown,
                    )
                )
                continue
            skipped.append(UncheckedStack(stack=name, cloud=spec.cloud, reason="single-cloud"))
            notes.append(f"{spec.cloud}/{name}: single-cloud ({shown}): parity not checked")
        elif name not in contracts:
            skipped.append(UncheckedStack(stack=name, cloud=spec.cloud, reason="no-contract"))
            if contracts:  # with no contracts at all, the one note above says it
                notes.append(
                    f"{spec.cloud}/{name}: no contract terraform/contracts/{name}.yaml: parity not checked"
                    f" (add one, or declare `parity: single-cloud` under stacks.{name} in {shown})"
                )
    return skipped, violations, notes


def schema_validated() -> dict[str, bool]:
    """Which clouds `infractl validate` checks against their provider schema (init, validate, plan on the emulator):
    only aws. The azurerm and google providers cannot be installed on this machine (no registry access, not in the
    offline mirror), so their stacks get fmt, HCL parsing, this contract and checkov only. A fixed fact of the
    tool, not of the machine: docs/parity.md must read the same everywhere."""
    return {cloud: cloud == "aws" for cloud in PROVIDERS}


Bindings = dict[tuple[str, str], Binding | None]  # (cloud, stack) -> its parity.yaml, None when unreadable


def check(
    project: Project,
    contracts: dict[str, Contract],
    *,
    schema: dict[str, bool],
    fmt: Callable[[Path], tuple[list[Path], list[str]]] | None,
    manifest: Manifest | None = None,
) -> tuple[ParityReport, Bindings]:
    """Every stack of every cloud against its contract, and the bindings read on the way (the page renders them).
    `fmt(dir)` -> (unformatted files, syntax errors) runs on the stacks and modules of the clouds the schema cannot
    validate; None skips it."""
    violations: list[Violation] = []
    cells: list[ParityCell] = []
    bindings: Bindings = {}
    for cloud in CLOUDS:
        for name, contract in contracts.items():
            stack_dir = project.terraform_dir / "stacks" / cloud / name
            found, stack_cells, bindings[(cloud, name)] = _check_stack(project, cloud, contract, stack_dir)
            violations += found
            cells += stack_cells
        if fmt is not None and not schema.get(cloud):
            violations += _fmt(project, cloud, contracts, fmt)
    checks = {
        True: [
            "contract (inputs, types, outputs, capabilities)",
            "terraform fmt, init, validate and plan (`infractl validate`)",
        ],
        False: [
            "contract (inputs, types, outputs, capabilities)",
            "terraform fmt -check",
            "HCL parsing",
            "checkov static scan (`infractl validate`)",
        ],
    }
    skipped, declared, notes = unchecked(project, contracts, manifest)
    violations += declared
    report = ParityReport(
        unchecked=skipped,
        notes=notes,
        clouds=[
            CloudCheck(cloud=c, schema_validated=schema.get(c, False), checks=checks[schema.get(c, False)])
            for c in CLOUDS
        ],
        stacks=list(contracts),
        cells=cells,
        violations=violations,
    )
    return report, bindings


def _check_stack(
    project: Project, cloud: str, contract: Contract, stack_dir: Path
) -> tuple[list[Violation], list[ParityCell], Binding | None]:
    stack = contract.stack
    shown_dir = project.rel(stack_dir)
    out: list[Violation] = []

    def add(rule: str, fld: str, message: str, file: str = "", line: int = 0) -> None:
        out.append(
            Violation(
                cloud=cloud,
                stack=stack,
                field=fld,
                rule=rule,
                message=f"{cloud}/{stack}: {message}",
                file=file or shown_dir,
                line=line,
            )
        )

    def violated() -> list[ParityCell]:
        return [ParityCell(stack=stack, capability=c, cloud=cloud, status="violated") for c in contract.capabilities]

    if not stack_dir.is_dir() or not any(stack_dir.glob("*.tf")):
        add(
            "missing-stack",
            "",
            f"no stack: {shown_dir} has no .tf files (the contract"
            f" terraform/contracts/{stack}.yaml needs one per cloud)",
        )
        return out, violated(), None
    binding_path = stack_dir / BINDING
    shown_binding = project.rel(binding_path)
    if not binding_path.is_file():
        add(
            "missing-binding",
            "",
            f"no {BINDING}: declare the cloud's extra inputs/outputs and how it provides each"
            " capability (see terraform/contracts/README.md)",
            shown_binding,
        )
        return out, violated(), None
    try:
        binding = files.validate(Binding, files.read_yaml(binding_path, display=shown_binding), display=shown_binding)
    except ConfigError as exc:
        for line in [exc.message, *exc.details]:
            add("invalid-binding", "", line, shown_binding)
        return out, violated(), None
    try:
        source = _read(project, stack_dir)
    except ValueError as exc:
        add("syntax", "", str(exc))
        return out, violated(), binding

    # inputs: the contract's, with its types, plus the declared extras; nothing else
    expected: dict[str, tuple[InputSpec, str]] = {n: (s, "the contract") for n, s in contract.inputs.items()}
    for n, s in binding.extra_inputs.items():
        if n in contract.inputs:
            add("invalid-binding", n, f"extra_inputs.{n} is already a contract input", shown_binding)
        expected.setdefault(n, (s, BINDING))
    for n, (spec, origin) in expected.items():
        if n not in source.variables:
            add(
                "missing-input",
                n,
                f"input {n!r} ({spec.type}) is missing: {origin} declares it"
                f" ({'terraform/contracts/' + stack + '.yaml' if origin == 'the contract' else shown_binding})",
            )
            continue
        declared, file, line = source.variables[n]
        if hcl.canonical_type(declared) != hcl.canonical_type(spec.type):
            add("type-mismatch", n, f"input {n!r} is {declared}, {origin} says {spec.type}", file, line)
    for n, (_declared, file, line) in source.variables.items():
        if n not in expected:
            add(
                "undeclared-input",
                n,
                f"input {n!r} is not in the contract: rename it to a contract input, or declare"
                f" it under extra_inputs in {shown_binding}",
                file,
                line,
            )

    # outputs: names (Terraform outputs carry no type)
    wanted = {n: "the contract" for n in contract.outputs} | {n: BINDING for n in binding.extra_outputs}
    for n in binding.extra_outputs:
        if n in contract.outputs:
            add("invalid-binding", n, f"extra_outputs.{n} is already a contract output", shown_binding)
    for n, origin in wanted.items():
        if n not in source.outputs:
            add("missing-output", n, f"output {n!r} is missing: {origin} declares it")
    for n, (file, line) in source.outputs.items():
        if n not in wanted:
            add(
                "undeclared-output",
                n,
                f"output {n!r} is not in the contract: rename it to a contract output, or"
                f" declare it under extra_outputs in {shown_binding}",
                file,
                line,
            )

    # capabilities: the resources behind each, the settings they carry, what must not exist
    cells: list[ParityCell] = []
    for cap in binding.capabilities:
        if cap not in contract.capabilities:
            add(
                "unknown-capability",
                cap,
                f"capability {cap!r} is not in terraform/contracts/{stack}.yaml ({', '.join(contract.capabilities)})",
                shown_binding,
            )
    for cap in contract.capabilities:
        bound = binding.capabilities.get(cap)
        if bound is None:
            add(
                "missing-capability",
                cap,
                f"capability {cap!r} is not described in {shown_binding}: list the"
                " resources that provide it, or status: missing with a gap",
                shown_binding,
            )
            cells.append(ParityCell(stack=stack, capability=cap, cloud=cloud, status="violated"))
            continue
        problems = _capability(source, bound)
        for rule, message in problems:
            add(rule, cap, f"capability {cap!r}: {message}", shown_binding)
        cells.append(
            ParityCell(
                stack=stack,
                capability=cap,
                cloud=cloud,
                status="violated" if problems else bound.status,
                gap=bound.gap.strip(),
            )
        )
    return out, cells, binding


def _capability(source: _StackSource, bound: CapabilityBinding) -> list[tuple[str, str]]:
    problems = []
    for rtype in bound.resources:
        blocks = source.resources.get(rtype, [])
        if not blocks:
            problems.append(("capability-resource-missing", f"no {rtype} resource in the stack or its modules"))
            continue
        pattern = bound.match.get(rtype)
        if pattern is not None:
            try:
                regex = re.compile(pattern)
            except re.error as exc:
                problems.append(("invalid-binding", f"match.{rtype}: {exc}"))
                continue
            if not any(regex.search(block.body) for block, _ in blocks):
                places = ", ".join(f"{file}:{block.line}" for block, file in blocks[:3])
                problems.append(("capability-setting-missing", f"no {rtype} contains /{pattern}/ ({places})"))
    for rtype in bound.forbid:
        for block, file in source.resources.get(rtype, []):
            problems.append(("forbidden-resource", f"{rtype}.{block.name} must not exist ({file}:{block.line})"))
    return problems


def _read(project: Project, stack_dir: Path) -> _StackSource:
    source = _StackSource()
    for tf in sorted(stack_dir.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        shown = project.rel(tf)
        try:
            variables = hcl.read_blocks(text, "variable")
            outputs = hcl.read_blocks(text, "output")
        except ValueError as exc:
            raise ValueError(f"{shown}: cannot parse: {exc}") from None
        lines = hcl.declarations(text, "variable")
        for v in variables:
            source.variables[v.name] = (v.attributes.get("type", "any"), shown, lines.get(v.name, 0))
        lines = hcl.declarations(text, "output")
        for o in outputs:
            source.outputs[o.name] = (shown, lines.get(o.name, 0))
    for directory in tfsource.module_dirs(stack_dir):
        for tf in sorted(directory.glob("*.tf")):
            try:
                blocks = hcl.read_resources(tf.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise ValueError(f"{project.rel(tf)}: cannot parse: {exc}") from None
            for block in blocks:
                source.resources.setdefault(block.type, []).append((block, project.rel(tf)))
    return source


def _fmt(
    project: Project, cloud: str, contracts: dict[str, Contract], fmt: Callable[[Path], tuple[list[Path], list[str]]]
) -> list[Violation]:
    out: list[Violation] = []
    seen: set[Path] = set()
    for name in contracts:
        stack_dir = project.terraform_dir / "stacks" / cloud / name
        if not stack_dir.is_dir():
            continue
        for directory in tfsource.module_dirs(stack_dir):
            if directory in seen:
                continue
            seen.add(directory)
            unformatted, errors = fmt(directory)
            for full in unformatted:
                out.append(
                    Violation(
                        cloud=cloud,
                        stack=name,
                        field="",
                        rule="unformatted",
                        message=f"{cloud}/{name}: {project.rel(full)} is not in canonical format:"
                        " run `terraform fmt` on it",
                        file=project.rel(full),
                    )
                )
            if errors:
                out.append(
                    Violation(
                        cloud=cloud,
                        stack=name,
                        field="",
                        rule="syntax",
                        message=f"{cloud}/{name}: " + " ".join(" ".join(errors[:6]).split()),
                        file=project.rel(directory),
                    )
                )
    return out


def fmt_runner(project: Project, environ: dict[str, str], terraform_bin: str, cli_config: Path):
    """`terraform fmt -check` of one folder, needing no provider."""
    runner = workspace.runner(
        environ,
        terraform_bin=terraform_bin,
        cli_config=cli_config,
        chdir=project.root,
        data_dir=project.work_dir / "parity" / "data",
        label=("-", "parity"),
    )
    return runner.fmt_check
