from pathlib import Path

from infractl.adapters import hcl
from infractl.models.project import Project
from infractl.services import docs

VARIABLES = """
# a comment with "quotes" and { braces
variable "name" {
  description = "Name | prefix, with \\"quotes\\"."
  type        = string
}

variable "tiers" {
  description = "Node groups per tier."
  type = map(object({
    min_size = number # inline comment
    labels   = optional(map(string), {})
  }))
  default = {
    standard = { min_size = 1 }
  }
  nullable = false

  validation {
    condition     = alltrue([for k, v in var.tiers : v.min_size >= 0])
    error_message = "min_size must not be negative."
  }
}
"""
OUTPUTS = """
output "secret" {
  description = "The secret."
  value       = "x"
  sensitive   = true
}
"""


def test_reads_variables_with_nested_types_defaults_and_skips_blocks():
    blocks = hcl.read_blocks(VARIABLES, "variable")
    assert [b.name for b in blocks] == ["name", "tiers"]
    assert blocks[0].attributes["type"] == "string"
    assert hcl.string_value(blocks[0].attributes["description"]) == 'Name | prefix, with "quotes".'
    assert blocks[1].attributes["type"] == "map(object({ min_size = number labels = optional(map(string), {}) }))"
    assert blocks[1].attributes["default"] == "{ standard = { min_size = 1 } }"
    assert "condition" not in blocks[1].attributes


def _module(tmp_path: Path) -> Project:
    folder = tmp_path / "terraform" / "modules" / "aws" / "thing"
    folder.mkdir(parents=True)
    (folder / "variables.tf").write_text(VARIABLES)
    (folder / "outputs.tf").write_text(OUTPUTS)
    (folder / "README.md").write_text(
        "# thing\n\nIntro.\n\n<!-- BEGIN_TF_DOCS -->\nold\n<!-- END_TF_DOCS -->\n\nFooter.\n"
    )
    return Project(root=tmp_path, work_dir=tmp_path / ".infractl")


def test_generate_rewrites_only_between_markers_then_check_is_clean(tmp_path):
    project = _module(tmp_path)
    readme = tmp_path / "terraform" / "modules" / "aws" / "thing" / "README.md"
    assert [r.status for r in docs.generate(project, check=True)] == ["stale"]
    assert "old" in readme.read_text()  # check changes nothing
    assert [r.status for r in docs.generate(project, check=False)] == ["updated"]
    text = readme.read_text()
    assert text.startswith("# thing\n\nIntro.\n\n<!-- BEGIN_TF_DOCS -->\n## Inputs") and text.endswith("Footer.\n")
    assert '| name | `string` | n/a | Name \\| prefix, with "quotes". |' in text
    assert "| tiers | `map(object({ min_size = number labels = optional(map(string), {}) }))` |" in text
    assert "| secret | The secret. (sensitive) |" in text
    assert [r.status for r in docs.generate(project, check=True)] == ["unchanged"]


def test_repository_readmes_are_current():
    root = Path(__file__).resolve().parents[2]
    stale = [
        r.folder
        for r in docs.generate(Project(root=root, work_dir=root / ".infractl"), check=True)
        if r.status != "unchanged"
    ]
    assert stale == [], f"run `infractl docs`: {stale}"
