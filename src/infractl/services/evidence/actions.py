"""infractl's own actions as evidence: every command that changes an environment appends one entry to that env's
ledger when it finishes (ok or not); when the ledger is not reachable the action is queued locally (queue.py) and
appended, oldest first, by the next command that reaches the ledger, or by `infractl evidence flush ENV`.

The CLI hook (cli/common.py: `recorded`) gathers what the entry says and calls `deliver`; this module decides
what an action holds (no secrets: see `command_line`), reaches the ledger and queues. The action itself is the
entry's payload (canonical JSON, in the WORM bucket); its attributes repeat it for queries."""

from __future__ import annotations

import getpass
import re
import socket
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infractl.errors import CloudError, InfractlError
from infractl.exit_codes import ExitCode
from infractl.models.evidence_actions import Action, Delivery, FlushResult
from infractl.services.evidence import queue

KIND_PREFIX = "infractl."
REDACTED = "***"
# Option and argument names whose values are secrets: never in an entry (the option's name stays, its value not).
SECRET_NAME = re.compile(
    r"(^|[-_])(pass(word|wd|phrase)?|secrets?|tokens?|credentials?|private[-_]key|api[-_]?key|auth|cookie|pwd?)($|[-_])",
    re.I,
)
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^/@:\s]*):[^/@\s]*@", re.I)
_CONTROL = re.compile(r"[\t\n\r]")
ENV_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
CI_VARIABLES = ("GITHUB_ACTOR", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_WORKFLOW")


@dataclass(frozen=True)
class Param:
    """One parameter of a command as given: its option name (`--tier`; None for an argument), its value, whether it
    is a flag and whether its value is a secret (by name, or a hidden input)."""

    name: str | None
    value: Any
    flag: bool = False
    secret: bool = False


def is_secret(name: str) -> bool:
    return bool(SECRET_NAME.search(name.lstrip("-")))


def scrub(value: str) -> str:
    """A value as it may be recorded: a URL's password removed."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", value)


def command_line(path: Sequence[str], params: Iterable[Param]) -> list[str]:
    """The command as an argv made from its parsed parameters: secret values (by the option's name, or a hidden
    input) replaced by ***, a URL's password removed; options never given are not listed."""
    argv = list(path)
    for p in params:
        values = list(p.value) if isinstance(p.value, list | tuple) else [p.value]
        secret = p.secret or (p.name is not None and is_secret(p.name) and not p.flag)
        for value in values:
            if p.flag:
                if value and p.name:
                    argv.append(p.name)
                continue
            shown = REDACTED if secret else scrub(str(value))
            argv.extend([p.name, shown] if p.name else [shown])
    return argv


def actor(environ: Mapping[str, str]) -> str:
    """Who: the OS user at this host, and the CI identity when GitHub Actions runs the command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        user = "uid-unknown"
    who = f"{user}@{socket.gethostname()}"
    if environ.get("GITHUB_ACTIONS") or environ.get("GITHUB_ACTOR") or environ.get("GITHUB_RUN_ID"):
        run = environ.get("GITHUB_RUN_ID", "?")
        repo = environ.get("GITHUB_REPOSITORY")
        who += f" (github:{environ.get('GITHUB_ACTOR', '?')}, run {repo + '/' if repo else ''}{run})"
    return _CONTROL.sub(" ", who)


def ci(environ: Mapping[str, str]) -> dict[str, str]:
    return {k.removeprefix("GITHUB_").lower(): environ[k] for k in CI_VARIABLES if environ.get(k)}


def result_name(code: int) -> str:
    if code == 0:
        return "ok"
    try:
        return ExitCode(code).name.lower().replace("_", "-")
    except ValueError:
        return f"exit-{code}"


def new_action(
    *,
    command: str,
    env: str,
    tenant: str | None,
    argv: list[str],
    code: int,
    error: str | None,
    started: float,
    facts: Mapping[str, Any],
    project_root: Path,
    environ: Mapping[str, str],
) -> Action:
    """The action of one command run (`started`: time.time() when it began)."""
    from infractl import __version__
    from infractl.adapters import git
    from infractl.adapters.ledger import chain

    finished = time.time()
    attributes: dict[str, Any] = {
        "command": argv,
        "env": env,
        "result": result_name(code),
        "exit_code": code,
        "started_at": chain.timestamp(_utc(started)),
        "duration_s": round(finished - started, 3),
        "infractl_version": __version__,
        "commit": git.head_commit(project_root),
    }
    if error:
        attributes["error"] = _CONTROL.sub(" ", scrub(error))[:500]
    found_ci = ci(environ)
    if found_ci:
        attributes["ci"] = found_ci
    attributes.update({k: v for k, v in facts.items() if v not in (None, [], {})})
    return Action(
        id=uuid.uuid4().hex,
        env=env,
        tenant=tenant or "-",
        kind=KIND_PREFIX + command,
        actor=actor(environ),
        at=chain.timestamp(_utc(finished)),
        attributes=attributes,
    )


def to_record(action: Action) -> Any:
    from infractl.adapters.ledger import chain
    from infractl.services.evidence.record import Record

    doc = action.model_dump(mode="json")
    return Record(
        tenant=action.tenant,
        kind=action.kind,
        actor=action.actor,
        attributes={**action.attributes, "action": action.id, "at": action.at},
        payload=chain.canonical_json(doc).encode(),
        ref=action.ref,
    )


def deliver(ctx: Any, action: Action, *, reach: bool = True, why_not: str = "") -> Delivery:
    """Append the env's queued actions, then this one, to the env's ledger; when it cannot be reached (or `reach`
    is false: `why_not`), queue this one. Never raises: the command's own outcome stands."""
    directory = queue.folder(ctx.project.work_dir, action.env)
    reason = why_not
    if reach:
        try:
            from infractl.services.evidence.access import open_ledger
            from infractl.services.evidence.record import record

            ledger = open_ledger(ctx, action.env)
            with ledger.connect() as conn:
                flushed = flush_queued(ledger, conn, directory)
                record(ledger, conn, [to_record(action)])
            return Delivery(env=action.env, appended=True, flushed=flushed.appended + flushed.existing)
        except Exception as exc:  # any failure to reach or append: the action waits, it is not lost
            reason = describe(exc)
    try:
        queue.put(directory, action, time.time_ns())
    except OSError as exc:
        return Delivery(env=action.env, appended=False, reason=f"{reason}; queue: {exc}", lost=True)
    return Delivery(
        env=action.env,
        appended=False,
        queued=True,
        reason=reason,
        waiting=len(queue.pending(directory)),
        queue_dir=str(directory),
    )


def report_lines(deliveries: Sequence[Delivery]) -> list[str]:
    """What the command says on stderr: one line when actions wait (or were lost, or queued ones were appended)."""
    lines = []
    queued = [d for d in deliveries if d.queued]
    if queued:
        envs = ", ".join(d.env for d in queued)
        reasons = sorted({d.reason for d in queued})
        waiting = ", ".join(f"{d.waiting} waiting" if len(queued) == 1 else f"{d.env}: {d.waiting}" for d in queued)
        where = queued[0].queue_dir if len(queued) == 1 else str(Path(queued[0].queue_dir).parent)
        lines.append(
            f"evidence: the ledger{'s' if len(queued) > 1 else ''} of {envs}"
            f" {'are' if len(queued) > 1 else 'is'} not reachable ({'; '.join(reasons)}):"
            f" action queued ({waiting}) in {where}/"
            f" — `infractl evidence flush ENV` appends {'them' if len(queued) > 1 else 'it'}"
        )
    for d in deliveries:
        if d.lost:
            lines.append(f"evidence: the action in {d.env} was NOT recorded and could not be queued: {d.reason}")
        if d.flushed:
            lines.append(f"evidence: {d.flushed} queued action(s) appended to the ledger of {d.env}")
    return lines


def describe(exc: BaseException) -> str:
    """One line saying why the ledger was not reached (error messages carry no secrets; a URL's password is cut)."""
    text = exc.message if isinstance(exc, InfractlError) else f"{type(exc).__name__}: {exc}"
    first = (text.strip().splitlines() or [type(exc).__name__])[0]
    return scrub(first)[:300]


def flush_queued(ledger: Any, conn: Any, directory: Path) -> FlushResult:
    """Append every queued action of the ledger's env, oldest first, in one batch; remove their files once
    appended. Unreadable files, and actions the ledger would refuse (an invalid kind, say), stay (reported): they
    never block the others. A failure appends nothing and removes nothing."""
    from infractl.adapters.ledger import chain
    from infractl.services.evidence.record import record

    result = FlushResult(env=ledger.env, queue_dir=str(directory))
    paths = queue.pending(directory)
    actions: list[tuple[Path, Action]] = []
    for path in paths:
        action = queue.read(path)
        if action is None or action.env != ledger.env:
            result.unreadable.append(path.name)
            continue
        r = to_record(action)
        if chain.NewEntry(tenant=r.tenant, kind=r.kind, actor=r.actor, ref=r.ref).problems():
            result.unreadable.append(path.name)
            continue
        actions.append((path, action))
    if actions:
        appended = record(ledger, conn, [to_record(a) for _, a in actions])
        queue.remove([p for p, _ in actions])
        result.existing = appended.existing
        result.appended = len(appended.entries) - appended.existing
        result.seqs = [e.seq for e in appended.entries]  # appended now, or already there by ref
    result.waiting = len(queue.pending(directory))
    return result


def flush(ctx: Any, env: str) -> FlushResult:
    """`infractl evidence flush ENV`: the queued actions of ENV appended to its ledger (a CloudError when it is not
    reachable: they stay queued)."""
    from infractl.services import environments
    from infractl.services.evidence.access import open_ledger

    model = environments.load(ctx.project, env)  # an unknown env is a usage error, not an empty queue
    directory = queue.folder(ctx.project.work_dir, model.name)
    if not queue.pending(directory):
        return FlushResult(env=model.name, queue_dir=str(directory))
    try:
        ledger = open_ledger(ctx, model.name)
        with ledger.connect() as conn:
            return flush_queued(ledger, conn, directory)
    except Exception as exc:  # reaching or appending failed: nothing was removed from the queue
        waiting = len(queue.pending(directory))
        raise CloudError(
            f"the ledger of {model.name} is not reachable: {describe(exc)}",
            details=[f"{waiting} action(s) stay queued in {directory}"],
            hint=getattr(exc, "hint", None) or "locally: `infractl dev up`, then --emulate",
        ) from None


def _utc(epoch: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC)
