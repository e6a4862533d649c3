"""`infractl tenant` arguments: refused before any service is reached (no engine runs here)."""

from __future__ import annotations

import pytest
from tests.conftest import REPO


@pytest.fixture(autouse=True)
def tenant_commands() -> None:
    """`infractl tenant` on the CLI (cli/main.py registers it; this adds it where that line is not merged yet)."""
    from infractl.cli import main, tenant

    if not any(group.name == "tenant" for group in main.app.registered_groups):
        main.app.add_typer(tenant.app, name="tenant")


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
