"""Every project YAML file is read bounded (adapters/files.read_yaml): alias expansion, size, duplicate keys, UTF-8
and nesting depth are refused as a ConfigError naming the file and, where known, the line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from infractl.adapters import files
from infractl.errors import ConfigError
from infractl.models.project import Project
from infractl.services import environments
from infractl.services.stacks import graph


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": 9 lists of 9 aliases of the list before; ~0.5 KB that expands to 9**9 nodes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _refused(path: Path, text: str | bytes) -> ConfigError:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        files.read_yaml(path, display="environments/x.yaml")
    return info.value


def test_alias_bomb_is_refused_before_it_grows(tmp_path):
    err = _refused(tmp_path / "x.yaml", alias_bomb())
    assert err.message.startswith("environments/x.yaml:")
    assert "aliases expand to more than 10,000 nodes" in err.message


def test_alias_inside_its_own_anchor_is_refused(tmp_path):
    err = _refused(tmp_path / "x.yaml", "a: &a [1, *a]\n")
    assert err.message == "environments/x.yaml:1:11: alias *a is used inside its own anchor"


def test_a_few_aliases_and_merge_keys_still_work(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\nd: *b\n")
    assert files.read_yaml(path) == {"base": {"x": 1, "y": 2}, "c": {"x": 3, "y": 2}, "d": {"x": 1, "y": 2}}


def test_duplicate_keys_are_refused_with_both_lines(tmp_path):
    err = _refused(
        tmp_path / "x.yaml", "name: dev\nnetwork:\n  cidr: 10.0.0.0/16\n  az_count: 2\n  cidr: 10.1.0.0/16\n"
    )
    assert err.message == "environments/x.yaml:5:3: duplicate key 'cidr' (first at line 3)"
    assert "silently" in (err.hint or "")


def test_files_over_the_size_limit_are_refused_unread(tmp_path):
    err = _refused(tmp_path / "x.yaml", "# " + "x" * files.MAX_YAML_BYTES + "\n")
    assert err.message == (
        f"environments/x.yaml: file is {files.MAX_YAML_BYTES + 3:,} bytes, more than the 1,048,576-byte limit"
    )


def test_non_utf8_files_are_refused_with_the_line(tmp_path):
    err = _refused(tmp_path / "x.yaml", b"name: dev\nregion: eu-west-1\xff\n")
    assert err.message == "environments/x.yaml:2: not UTF-8 text (byte 0xff at offset 27)"


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, "- " * 10_000 + "x\n", "{a: " * 10_000 + "1" + "}" * 10_000],
    ids=["flow-sequences", "block-sequences", "flow-mappings"],
)
def test_deep_nesting_is_refused(tmp_path, text):
    err = _refused(tmp_path / "x.yaml", text)
    assert "nested deeper than 64 levels" in err.message and err.message.startswith("environments/x.yaml:1:")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        files.read_yaml(fifo, display="environments/x.yaml")


def test_an_env_file_with_an_alias_bomb_in_stacks_is_a_config_error(project):
    path = project / "environments" / "dev.yaml"
    bomb = "".join(f"    {line}\n" for line in alias_bomb().splitlines())
    path.write_text(path.read_text().replace("stacks:\n", f"stacks:\n  bomb:\n{bomb}", 1))
    with pytest.raises(ConfigError) as info:
        environments.load(Project(root=project, work_dir=project / ".infractl"), "dev")
    assert info.value.message.startswith("environments/dev.yaml:")
    assert "aliases expand" in info.value.message


def test_the_stack_manifest_is_read_bounded_too(project):
    path = project / "terraform" / "stacks" / "stacks.yaml"
    path.write_text(path.read_text() + "stacks: {}\n")  # a second top-level `stacks` would replace the first
    with pytest.raises(ConfigError) as info:
        graph.load_manifest(Project(root=project, work_dir=project / ".infractl"))
    assert info.value.message.startswith("terraform/stacks/stacks.yaml:")
    assert "duplicate key 'stacks'" in info.value.message
