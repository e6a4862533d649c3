"""`infractl tenant` arguments: refused before any service is reached (no engine runs here)."""

from __future__ import annotations

import pytest
from tests.conftest import REPO


def test_help_lists_the_commands(invoke):
    text = invoke("tenant", "--help").stdout
    for command in ("create", "list", "show", "delete", "backup", "restore"):
        assert command in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "dev", "acme", "--tier", "E"], "unknown tier 'E'"),
        (["create", "dev", "a'; drop table runs;--", "--tier", "A"], "is not a tenant name"),
        (["create", "dev", 'Robert"', "--tier", "B"], "is not a tenant name"),
        (["show", "dev", "x;"], "is not a tenant name"),
        (["backup", "dev", "UPPER"], "is not a tenant name"),
        (["delete", "dev", "a b", "--yes"], "is not a tenant name"),
        (["restore", "dev", "acme", "--as", "ac'me"], "is not a new tenant name"),
    ],
)
def test_bad_input_exits_2_before_anything_runs(invoke, args, message):
    result = invoke("tenant", *args, root=REPO, code=2)
    assert message in result.stderr
    assert result.stdout == ""


def test_create_needs_a_tier(invoke):
    result = invoke("tenant", "create", "dev", "acme", root=REPO, code=2)
    assert "--tier" in result.stderr
