"""Text from outside (error messages, file content, names, Terraform addresses and events) is printed literally:
Rich never reads it as markup, so `[/]` cannot crash a command and `[a-z0-9]` in a pattern is not eaten as a tag."""

from __future__ import annotations

import pytest

from infractl.cli import ui
from infractl.models.runs import Event, RunResult, StackResult
from infractl.models.validation import CostComparison, CostLine, EnvCost, Finding, ValidationReport

HOSTILE = [
    "[/]",
    "[bold red]x[/]",
    "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    'module.x["[red]"]',
    "[link=file:///etc]y[/link]",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_errors_details_and_hints_are_literal(capsys, text):
    ui.print_error(f"bad: {text}", [f"detail {text}"], f"fix {text}")
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: bad: {text}", f"  detail {text}", f"hint: fix {text}"]


def test_run_table_destroyed_addresses_and_stack_errors_are_literal(capsys):
    text = HOSTILE[1]
    result = RunResult(
        env="dev",
        operation="plan",
        emulated=True,
        stacks=[
            StackResult(stack="data", status="changes", destroy=1, destroyed=[f'aws_x.this["{text}"]']),
            StackResult(stack="kms", status="destroyed", retained=["a"], hint=f"kept {text}"),
            StackResult(stack="net", status="failed", error=f"boom {text}", error_details=[text], hint="[/]"),
        ],
    )
    ui.print_run(result)
    captured = capsys.readouterr()
    assert f'  - aws_x.this["{text}"]' in captured.out
    assert f"kms: kept {text}" in captured.out
    assert f"error: net: boom {text}" in captured.err and "hint: [/]" in captured.err


def test_progress_lines_and_live_rows_are_literal(capsys):
    plain = ui.PlainProgress()
    plain.stack_event("[/]", Event(level="error", message="[bold]Error[/bold]: [/]", kind="diagnostic"))
    assert "[/]: error: [bold]Error[/bold]: [/]" in capsys.readouterr().err
    live = ui.LiveProgress()
    with live:
        live.stack_started("[/]", "plan")
        live.stack_event("[/]", Event(level="info", message='aws_x.this["[/]"]: Creating...'))
        live.stack_finished(StackResult(stack="[/]", status="failed"))
    assert "[/]" in capsys.readouterr().err  # the row renders the stack name as given


def test_validation_and_cost_output_is_literal(capsys):
    cost = EnvCost(
        env="dev",
        catalog_version="2025-01",
        budget_usd=100,
        complete=True,
        lines=[
            CostLine(stack="s", address='aws_x.a["[/]"]', type="aws_x", monthly_usd=None, basis="[bold]no price[/]")
        ],
    )
    report = ValidationReport(
        envs=["dev"],
        stacks=["s"],
        cells=[],
        findings=[Finding(gate="tags", rule="missing-tag", stack="s", env="dev", message="tag [/] missing")],
        waived=[],
        costs={"dev": cost},
    )
    ui.print_validation(report, ["/tmp/[/]/report.json"])
    ui.print_cost(CostComparison(env=cost))
    out = capsys.readouterr().out
    assert "FAIL tags missing-tag [s/dev]: tag [/] missing" in out
    assert "report: /tmp/[/]/report.json" in out
    assert '1 unpriced resource(s), not counted: aws_x.a["[/]"]' in out
    assert "[bold]no price[/]" in out
