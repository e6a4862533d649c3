"""What the docs say about the code holds: the fields docs/environments.md calls unread are read by nothing, its
YAML limits are the loader's, and docs/evidence.md's pointer to the emulator's gap list lands on a heading."""

from __future__ import annotations

import re

import yaml
from tests.conftest import REPO

from infractl.adapters import files

DOCS = REPO / "docs"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+\s+(.+?)\s*$", markdown, flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def _section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    end = markdown.find("\n#", start + len(heading))
    return markdown[start : end if end != -1 else None]


def test_evidence_points_at_the_emulator_gap_list_and_it_has_the_object_lock_row():
    evidence = (DOCS / "evidence.md").read_text()
    links = re.findall(r"\]\(emulator\.md#([\w-]+)\)", evidence)
    assert links, "docs/evidence.md does not link to a section of docs/emulator.md"
    emulator = (DOCS / "emulator.md").read_text()
    assert set(links) <= _anchors(emulator)
    gaps = _section(emulator, "## Known moto gaps")
    assert "Object Lock is only partly enforced" in gaps


def test_fields_called_unread_are_read_by_no_stack_and_no_code():
    section = _section((DOCS / "environments.md").read_text(), "### What reads what, today")
    assert "`infractl drill dr`" in section, "the section lost its list of readers"
    unread_lines = [ln for ln in section.split("\n- ") if "read by nothing" in ln or "No stack or command reads" in ln]
    unread = re.findall(r"`([a-z_.]+)`", " ".join(unread_lines))  # today none: every field has a reader
    manifest = yaml.safe_load((REPO / "terraform" / "stacks" / "stacks.yaml").read_text())
    refs = {
        ref.removeprefix("env.")
        for stack in manifest["stacks"].values()
        for ref in stack.get("inputs", {}).values()
        if ref.startswith("env.")
    }
    code = {
        p: p.read_text()
        for p in (REPO / "src" / "infractl").rglob("*.py")
        if p.name != "environment.py" or p.parent.name != "models"
    }
    for field in unread:
        read_by_stacks = [r for r in refs if r == field or r.startswith(f"{field}.") or field.startswith(f"{r}.")]
        assert not read_by_stacks, f"docs/environments.md calls {field} unread; stacks.yaml passes {read_by_stacks}"
        attribute = "." + field.rsplit(".", 1)[-1]
        readers = [
            str(p.relative_to(REPO)) for p, text in code.items() if re.search(rf"{re.escape(attribute)}\b", text)
        ]
        assert not readers, f"docs/environments.md calls {field} unread; read in {readers}"


def test_the_documented_yaml_limits_are_the_loaders():
    limits = _section((DOCS / "environments.md").read_text(), "## YAML limits")
    assert f"{files.MAX_YAML_BYTES // 1024 // 1024} MiB" in limits
    assert f"{files.MAX_YAML_DEPTH} levels" in limits
    assert f"{files.MAX_ALIAS_NODES:,} nodes" in limits
    assert "(environments.md#yaml-limits)" in (DOCS / "errors.md").read_text()
