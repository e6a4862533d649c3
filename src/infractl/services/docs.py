"""Module and stack READMEs: the inputs/outputs tables generated from variables.tf and outputs.tf."""

from __future__ import annotations

from pathlib import Path

from infractl.adapters import hcl
from infractl.errors import ConfigError
from infractl.models.docs import DocResult
from infractl.models.project import Project

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"


def folders(project: Project) -> list[Path]:
    """Every module and root stack: terraform/modules/<cloud>/<name> and terraform/stacks/<cloud>/<name>
    (folders starting with "_", such as the stacks' shared variables, are not modules)."""
    found = []
    for kind in ("modules", "stacks"):
        for folder in sorted((project.terraform_dir / kind).glob("*/*")):
            if folder.is_dir() and not folder.name.startswith("_") and any(folder.glob("*.tf")):
                found.append(folder)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def render(folder: Path) -> tuple[str, int, int]:
    variables: list[hcl.Block] = []
    outputs: list[hcl.Block] = []
    for tf in sorted(folder.glob("*.tf")):
        text = tf.read_text(encoding="utf-8")
        try:
            variables += hcl.read_blocks(text, "variable")
            outputs += hcl.read_blocks(text, "output")
        except ValueError as exc:
            raise ConfigError(f"{tf}: cannot read: {exc}") from None
    lines = ["## Inputs", ""]
    if variables:
        lines += ["| Name | Type | Default | Description |", "|------|------|---------|-------------|"]
        for v in variables:
            a = v.attributes
            default = f"`{a['default']}`" if "default" in a else "n/a"
            vtype = f"`{a.get('type', 'any')}`"
            lines.append(
                f"| {v.name} | {_cell(vtype)} | {_cell(default)} | {_cell(hcl.string_value(a.get('description')))} |"
            )
    else:
        lines.append("No inputs.")
    lines += ["", "## Outputs", ""]
    if outputs:
        lines += ["| Name | Description |", "|------|-------------|"]
        for o in outputs:
            desc = hcl.string_value(o.attributes.get("description"))
            if o.attributes.get("sensitive") == "true":
                desc = f"{desc} (sensitive)".strip()
            lines.append(f"| {o.name} | {_cell(desc)} |")
    else:
        lines.append("No outputs.")
    return "\n".join(lines), len(variables), len(outputs)


def generate(project: Project, *, check: bool) -> list[DocResult]:
    """Rewrite the tables between the markers of every README (or, with check, only report which are stale)."""
    results = []
    for folder in folders(project):
        readme = folder / "README.md"
        table, n_in, n_out = render(folder)
        block = f"{BEGIN}\n{table}\n{END}"
        current = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        if BEGIN in current and END in current:
            head, rest = current.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            wanted = f"{head}{block}{tail}"
        else:
            title = f"# {folder.relative_to(project.terraform_dir)}\n\n" if not current else ""
            wanted = f"{title}{current.rstrip()}\n\n{block}\n".lstrip("\n")
        status = "unchanged" if wanted == current else ("stale" if check else "updated")
        if status == "updated":
            readme.write_text(wanted, encoding="utf-8")
        results.append(DocResult(folder=project.rel(folder), status=status, inputs=n_in, outputs=n_out))
    return results
