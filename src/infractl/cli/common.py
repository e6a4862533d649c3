"""Shared CLI plumbing: global options, building the service context, confirmation, and the one hook that makes
every command changing an environment evidence (`recorded`)."""

from __future__ import annotations

import contextvars
import functools
import inspect
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from infractl.services.context import Context

EMULATE_HELP = (
    "Target the local AWS emulator (moto server on loopback) instead of the cloud. Default: INFRACTL_EMULATE."
)
JSON_HELP = "Print the result as JSON on stdout, nothing else."


@dataclass
class Globals:
    root: Path | None = None
    verbose: bool = False


GLOBALS = Globals()


def emulate_option(help: str = EMULATE_HELP) -> bool:
    # INFRACTL_EMULATE is read by Settings (the one loader of INFRACTL_* variables), not by Typer.
    return typer.Option(False, "--emulate", help=help)


def json_option() -> bool:
    return typer.Option(False, "--json", help=JSON_HELP)


PORT_MIN, PORT_MAX = 1, 65535


def either(ctx: typer.Context, name: str, on: bool, off: bool, default: bool | None) -> bool | None:
    """The value of a `--NAME` / `--no-NAME` pair, declared as two flags so that giving both is a usage error
    (exit 2) instead of the last one winning silently. Neither: `default`."""
    if on and off:
        raise typer.BadParameter("they contradict each other: give one", ctx=ctx, param_hint=f"--{name} / --no-{name}")
    return True if on else False if off else default


def context(*, emulate: bool = False) -> Context:
    from infractl.services.context import build

    return build(root=GLOBALS.root, emulate=emulate)


def confirmer(yes: bool):
    """A confirm callback: --yes answers yes; a terminal asks; without one the command stops (exit 2)."""
    from infractl.errors import UsageError

    def confirm(question: str) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{question} — needs confirmation", hint="re-run with --yes to confirm")
        return typer.confirm(question, default=False, err=True)

    return confirm


# -- infractl's own actions as evidence (docs/evidence.md#infractls-own-actions)

Args = dict[str, Any]
_FACTS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("infractl_action_facts", default=None)


def note(**facts: Any) -> None:
    """Add to the evidence entry of the running command what only its result knows (plan digests, a report's
    digest, the envs it covered: `envs=[...]`). A no-op outside a `recorded` command."""
    current = _FACTS.get()
    if current is not None:
        current.update(facts)


def recorded(
    command: str,
    *,
    env: str | None = "env",
    tenant: Callable[[Args], str | None] | None = None,
    skip: Callable[[Args], bool] | None = None,
    offline: bool = False,
    local: bool = False,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The one hook: a command that changes an environment appends one entry `infractl.<command>` to the env's
    ledger when it finishes, ok or not, or queues it when the ledger is away. `env`: the parameter naming the env
    (None: the command says `note(envs=[...])`); `tenant`: the tenant an entry is about; `skip`: runs that change
    nothing (a dry run); `offline`: the command runs without cloud credentials, so it reaches a ledger only when
    it is the local one (--emulate); `local`: the command always acts on the dev stack, whose ledger is the env's
    (as with --emulate). A usage error (refused before anything ran) records nothing."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            cli_ctx = kwargs.pop(_CTX_PARAM, None)
            if skip is not None and skip(kwargs):
                return fn(*args, **kwargs)
            from infractl.errors import InfractlError, UsageError

            facts: dict[str, Any] = {}
            token = _FACTS.set(facts)
            started, code, error, refused = time.time(), 0, None, False
            argv = _argv(cli_ctx)
            try:
                return fn(*args, **kwargs)
            except typer.Exit as exc:
                code = exc.exit_code
                raise
            except (UsageError, typer.TyperException):  # refused before anything ran: bad arguments, no confirmation
                refused = True
                raise
            except InfractlError as exc:
                code, error = int(exc.exit_code), exc.message
                raise
            except (KeyboardInterrupt, typer.Abort):
                code = 130
                raise
            except Exception as exc:
                code, error = 70, f"internal error: {type(exc).__name__}"
                raise
            finally:
                _FACTS.reset(token)
                if not refused:
                    facts = {**facts, "local": True} if local else facts
                    _record(command, kwargs, facts, env, tenant, offline, argv, code, error, started)

        # Typer hands the wrapper its click context through one more (keyword-only) parameter.
        signature = inspect.signature(fn)
        extra = inspect.Parameter(_CTX_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
        run.__annotations__ = {**fn.__annotations__, _CTX_PARAM: typer.Context}
        return run

    return wrap


_CTX_PARAM = "evidence_cli_context"


def _argv(leaf: Any) -> list[str]:
    """The command line from its parsed parameters, root to leaf, without secret values (actions.command_line)."""
    from infractl.services.evidence.actions import Param, command_line

    chain = []
    while leaf is not None:
        chain.append(leaf)
        leaf = leaf.parent
    argv: list[str] = []
    for ctx in reversed(chain):
        params = []
        for p in ctx.command.params:
            source = ctx.get_parameter_source(p.name or "")
            if p.name is None or source is None or source.name == "DEFAULT" or source.name == "DEFAULT_MAP":
                continue
            is_option = p.param_type_name == "option"
            name = next((o for o in p.opts if o.startswith("--")), p.opts[0]) if is_option else None
            secret = bool(getattr(p, "hide_input", False)) or (is_option and _secret_name(p.name))
            value = ctx.params.get(p.name)
            params.append(Param(name, value, flag=bool(getattr(p, "is_flag", False)), secret=secret))
        argv += command_line([ctx.info_name or ""], params)
    return argv


def _secret_name(name: str) -> bool:
    from infractl.services.evidence.actions import is_secret

    return is_secret(name)


def _record(
    command: str,
    kwargs: Args,
    facts: dict[str, Any],
    env: str | None,
    tenant: Callable[[Args], str | None] | None,
    offline: bool,
    argv: list[str],
    code: int,
    error: str | None,
    started: float,
) -> None:
    """Make the action and deliver it to each env's ledger; one line on stderr when it waits. Never raises."""
    from infractl.cli import ui

    try:
        import os

        from infractl.services.evidence import actions

        ctx = context(emulate=bool(kwargs.get("emulate", False)) or bool(facts.pop("local", False)))
        named = facts.pop("env", None) or (kwargs.get(env) if env else None)  # a list: a repeatable --env
        targets = [
            e
            for e in (facts.get("envs") or (named if isinstance(named, list) else [named]))
            if actions.ENV_NAME.fullmatch(e or "") and ctx.project.env_file(e).is_file()
        ]
        deliveries = []
        for target in targets:
            action = actions.new_action(
                command=command,
                env=target,
                tenant=tenant(kwargs) if tenant else None,
                argv=argv,
                code=code,
                error=error,
                started=started,
                facts=facts,
                project_root=ctx.project.root,
                environ=os.environ,
            )
            reach = (ctx.emulate or not offline) and code != 130
            why = (
                "interrupted: not waiting for it"
                if code == 130
                else f"{command} runs without cloud credentials: it reaches only the local ledger"
            )
            deliveries.append(actions.deliver(ctx, action, reach=reach, why_not=why))
        for line in actions.report_lines(deliveries):
            ui.err().print(line, markup=False, highlight=False, soft_wrap=True)
    except Exception as exc:  # evidence never changes the command's outcome; say it was not recorded
        ui.err().print(
            f"evidence: the action of `{command}` was not recorded: {type(exc).__name__}: {exc}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
