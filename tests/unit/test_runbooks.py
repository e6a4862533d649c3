"""The runbooks (docs/runbooks/; the rules are listed in its README): every `infractl …` command a runbook shows
exists with those options, as the command's own `--help` lists them; every alert links to a runbook that exists;
every rollback plan has its freeze, rollback, communication and cleanup sections; every runbook names its owner role."""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass

import pytest
import typer.main
import yaml
from tests.conftest import REPO
from typer.testing import CliRunner

from infractl.cli.main import app
from infractl.models.project import Project
from infractl.services import environments, slo
from infractl.services.slo import output

RUNBOOKS = REPO / "docs" / "runbooks"
ENVS = sorted(p.stem for p in (REPO / "environments").glob("*.yaml"))
# a rollback plan: a runbook whose title or one of whose headings says "rollback" (docs/runbooks/README.md)
ROLLBACK = re.compile(r"rollback", re.IGNORECASE)
ROLLBACK_SECTIONS = (
    "Freeze scope",
    "Rollback scope",
    "Communication template",
    "Data cleanup",
    "Evidence cleanup",
    "Credential cleanup",
)
OWNER = re.compile(r"^\*\*Owner:\*\* (\S.*)$", re.MULTILINE)


def _runbooks() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(RUNBOOKS.glob("*.md")) if p.name != "README.md"}


# --- commands ------------------------------------------------------------------------------------------------------

# wide and plain: Rich draws the help in boxes; a wide terminal keeps each option on one line
HELP_ENV = {"COLUMNS": "250", "TERM": "dumb", "NO_COLOR": "1"}
_PANEL = re.compile(r"^\s*[╭+][─-]+\s*(?P<title>[A-Za-z][\w ]*?)\s*[─-]+[╮+]\s*$")  # ╭─ Options ───╮
_SECTION = re.compile(r"^(?P<title>[A-Z][\w ]*):\s*$")  # click's plain form: "Options:"
_OPTION = re.compile(r"^--?[A-Za-z0-9][\w-]*$")
_SHELL_STOP = {"|", "||", "&&", ";", ">", ">>", "2>", "2>&1", "&"}


@dataclass(frozen=True)
class Help:
    path: tuple[str, ...]  # the command this help is of, from its Usage line (a group may route ENV to a command)
    commands: frozenset[str]  # sub-commands: empty for a command
    options: dict[str, bool]  # option -> takes a value
    arguments: tuple[str, ...]  # the Usage line's arguments: {required}, [optional], ... repeatable


def parse_help(text: str) -> Help:
    """Read a Typer/click help page: the Usage line, the sub-commands and the options (names and whether they take a
    value), from Rich's boxed panels or click's plain sections."""
    usage = re.search(r"Usage: \S+((?: [a-z][\w-]*)*)(?P<rest>.*)", text)
    assert usage, f"no Usage line in:\n{text}"
    path = tuple(usage.group(1).split())
    arguments = tuple(w for w in usage.group("rest").split() if w not in ("[OPTIONS]", "COMMAND", "[ARGS]..."))
    commands: set[str] = set()
    options: dict[str, bool] = {}
    panel = None
    for line in text.splitlines():
        if m := _PANEL.match(line) or _SECTION.match(line):
            panel = m.group("title")
            continue
        if panel is None:
            continue
        if not line.strip() or re.match(r"^\s*[╰+]", line):  # the end of a panel, or of a plain section
            panel = None
            continue
        body = line[1:] if line.startswith(("│", "|")) else line
        lead = re.match(r"^[ *]*", body).group(0)
        if len(lead) > 6:  # a wrapped description: its text, not an entry
            continue
        words = body.strip().strip("│|").split()
        words = [w for w in words if w != "*"]
        if not words:
            continue
        if words[0].startswith("-"):
            names = []
            for word in words:
                if word in ("/", ","):
                    continue
                parts = [p for p in re.split(r"[,/]", word) if p]
                if parts and all(_OPTION.match(p) for p in parts):
                    names += parts
                else:
                    break
            after = [w for w in words if w not in ("/", ",")][len(names) :]
            metavar = after[0] if after else ""
            takes = (metavar.startswith("<") and metavar != "<bool>") or bool(
                re.fullmatch(r"[A-Z][A-Z_=.\[\]]*", metavar)
            )
            options |= dict.fromkeys(names, takes)
        elif "command" in panel.lower():
            commands.add(words[0])
    return Help(path, frozenset(commands), options, arguments)


@functools.cache
def _cli():
    # built once: CliRunner.invoke builds the whole command tree again on every call, 70 % of a help's time
    return typer.main.get_command(app)


@functools.cache
def help_of(path: tuple[str, ...]) -> Help | None:
    """`infractl PATH --help` as CliRunner runs it, parsed; None when PATH names no command ("No such command")."""
    with CliRunner().isolation(env=HELP_ENV) as (stdout, _, _):
        try:
            code = _cli().main([*path, "--help"], prog_name="infractl", standalone_mode=False)
        except typer.TyperException:  # a usage error: no such command
            return None
        text = stdout.getvalue().decode()
    return parse_help(text) if code in (0, None) else None


def _words(command: str) -> list[str]:
    """The words after `infractl`, up to a comment, a pipe or a redirection; `<placeholder>` is one argument."""
    text = re.sub(r"<[^<>]*>", "ARG", command.strip().removeprefix("$").strip())
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    cut = next((i for i, w in enumerate(words) if w in _SHELL_STOP or w.startswith("#")), len(words))
    return words[1:cut]


def check_command(command: str, complete: bool = False) -> list[str]:
    """What is wrong with `infractl …` as written: a sub-command or option its --help does not list, a group named
    without a sub-command, more arguments than the command takes (complete: or fewer than it needs, for a command
    shown to be run as it is rather than named in a sentence). Empty when nothing is."""
    path: tuple[str, ...] = ()
    current = help_of(path)
    problems: list[str] = []
    positional: list[str] = []
    words = iter(_words(command))
    for word in words:
        shown = " ".join(("infractl", *current.path))
        if word.startswith("-") and len(word) > 1:
            name, eq, _ = word.partition("=")
            if name not in current.options:
                problems.append(f"`{shown}` has no option {name}")
            elif current.options[name] and not eq:
                next(words, None)  # its value
            continue
        if current.commands:
            deeper = help_of((*path, word))
            if deeper is None:
                problems.append(f"`{shown}` has no sub-command {word!r} (it has {', '.join(sorted(current.commands))})")
                return problems
            if word not in current.commands:
                positional.append(word)  # a group that takes ENV first runs its default command: `rollout ENV`
            path, current = (*path, word), deeper
            continue
        if word not in ("...", "…"):  # an elision: "and the rest, as needed"
            positional.append(word)
    shown = " ".join(("infractl", *current.path))
    if current.commands:
        problems.append(f"`{shown}` is a group: name one of its sub-commands ({', '.join(sorted(current.commands))})")
    elif not any(a.endswith("...") for a in current.arguments) and len(positional) > len(current.arguments):
        problems.append(f"`{shown}` takes {len(current.arguments)} argument(s) {current.arguments}, not {positional}")
    elif complete and len(positional) < len([a for a in current.arguments if a.startswith("{")]):
        problems.append(f"`{shown}` needs the argument(s) {current.arguments}, not {positional}")
    return problems


def commands_in(markdown: str) -> list[tuple[str, bool]]:
    """Every `infractl …` a page shows, and whether it is shown whole: the lines of fenced blocks that start with
    `infractl ` or `$ infractl ` (continued by a trailing backslash) are; inline code spans may name a command in a
    sentence."""
    found: list[tuple[str, bool]] = []
    prose: list[str] = []
    fence: str | None = None
    pending: str | None = None
    for line in markdown.splitlines():
        marker = re.match(r"^\s*(`{3,}|~{3,})", line)
        if marker and (fence is None or marker.group(1).startswith(fence)):
            fence = None if fence else marker.group(1)
            continue
        if fence is None:
            prose.append(line)
            continue
        stripped = line.strip()
        if pending is not None:
            pending = f"{pending} {stripped}"
        elif re.match(r"^(\$ )?infractl ", stripped):
            pending = stripped.removeprefix("$ ")
        else:
            continue
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        found.append((pending, True))
        pending = None
    spans = re.findall(r"(?<!`)`(infractl [^`]+)`(?!`)", "\n".join(prose))
    return found + [(c.replace("\n", " "), False) for c in spans]


def test_every_command_a_runbook_tells_you_to_run_exists():
    problems, checked = [], 0
    for name, text in {**_runbooks(), "README.md": (RUNBOOKS / "README.md").read_text()}.items():
        for command, whole in commands_in(text):
            problems += [f"{name}: `{command}`: {p}" for p in check_command(command, complete=whole)]
            checked += 1
    assert problems == []
    assert checked >= 280


PLANTED = """\
# Runbook: planted

Run `infractl db rollback dev --steps 2 --yes` first, then `infractl rollout dev --release 1.2.0`.

```sh
$ infractl state unlock prod network LOCK_ID \\
    --yes   # a comment --not-an-option
infractl promote staging prod --release <previous> --approved-by platform-leads | tee out.txt
```

Then `infractl db rollback dev --no-such-option` and `infractl db unwind dev`, and `infractl tenant`:

```
infractl evidence hold prod 42 \\
  --reason "case 1" --forever
infractl deploy prod staging
```
"""


def test_the_checker_finds_commands_in_spans_and_fenced_blocks_and_reports_what_does_not_exist():
    found = commands_in(PLANTED)
    assert [whole for _, whole in found] == [True] * 4 + [False] * 5
    commands = [c for c, _ in found]
    assert commands[:2] == [
        "infractl state unlock prod network LOCK_ID --yes   # a comment --not-an-option",
        "infractl promote staging prod --release <previous> --approved-by platform-leads | tee out.txt",
    ]
    report = {c: check_command(c) for c in commands}
    ok = [c for c, problems in report.items() if not problems]
    assert ok == [
        "infractl state unlock prod network LOCK_ID --yes   # a comment --not-an-option",
        "infractl promote staging prod --release <previous> --approved-by platform-leads | tee out.txt",
        "infractl db rollback dev --steps 2 --yes",
        "infractl rollout dev --release 1.2.0",  # the env-first group runs `rollout run`
    ]
    assert report['infractl evidence hold prod 42 --reason "case 1" --forever'] == [
        "`infractl evidence hold` has no option --forever"
    ]
    assert report["infractl db rollback dev --no-such-option"] == [
        "`infractl db rollback` has no option --no-such-option"
    ]
    assert report["infractl db unwind dev"][0].startswith("`infractl db` has no sub-command 'unwind' (it has ")
    assert report["infractl tenant"][0].startswith("`infractl tenant` is a group")
    assert check_command("infractl state unlock prod network") == []  # a command named in a sentence
    assert check_command("infractl state unlock prod network", complete=True) == [
        "`infractl state unlock` needs the argument(s) ('{env}', '{stack}', '{lock_id}'), not ['prod', 'network']"
    ]
    assert report["infractl deploy prod staging"] == [
        "`infractl deploy` takes 1 argument(s) ('{env}',), not ['prod', 'staging']"
    ]


def test_the_help_parser_reads_rich_boxes_and_click_plain_help():
    boxed = help_of(("db", "rollback"))
    assert boxed.path == ("db", "rollback") and not boxed.commands
    assert {"--tenant": True, "-t": True, "--yes": False, "-y": False, "--steps": True}.items() <= boxed.options.items()
    assert help_of(("rollout", "dev")).path == ("rollout", "run")
    assert {"--payloads", "--no-payloads", "--from"} <= set(help_of(("evidence", "verify")).options)
    assert {"run", "status", "abort", "promote"} <= help_of(("rollout",)).commands
    plain = parse_help(
        "Usage: infractl thing [OPTIONS] ENV\n\n  Does a thing.\n\nOptions:\n  -o, --out PATH  Where.\n"
        "  --wait / --no-wait  Wait.\n  --help  Show this message and exit.\n\nCommands:\n  sub  A sub-command.\n"
    )
    assert plain.path == ("thing",) and plain.commands == {"sub"}
    assert plain.options == {"-o": True, "--out": True, "--wait": False, "--no-wait": False, "--help": False}


# --- alerts --------------------------------------------------------------------------------------------------------


def _runbook_of(url: str) -> str | None:
    """docs/runbooks/<file>.md of a runbook_url, or None when it points elsewhere."""
    m = re.search(r"(?:^|/)docs/runbooks/([\w.-]+\.md)$", url)
    return m.group(1) if m else None


@pytest.mark.parametrize("env", ENVS)
def test_every_alert_slo_render_generates_links_to_its_runbook(env):
    project = Project(root=REPO, work_dir=REPO / ".infractl")
    sloset = slo.load(REPO, environments.load(project, env))
    rules = [r for g in yaml.safe_load(output.rules_yaml(sloset))["groups"] for r in g["rules"] if "alert" in r]
    assert len(rules) == 13
    for rule in rules:
        url = rule["annotations"]["runbook_url"]
        assert url.startswith(f"{sloset.runbook_base_url}/docs/runbooks/"), url
        path = RUNBOOKS / (_runbook_of(url) or "?")
        assert path.is_file(), f"{rule['alert']}: {url} names no runbook"
        text = path.read_text()
        assert text.startswith(f"# Runbook: {rule['alert']}\n"), path
        assert f"`{rule['alert']}`" in text


def alert_rules(text: str) -> list[tuple[str, str | None]]:
    """(alert, its runbook_url or None) of every rule with an `alert:` key in a YAML file or a Helm template of one
    (block style): the rule is the list item the key belongs to."""
    lines = text.splitlines()
    rules = []
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*)(- +)?alert:\s*(\S.*?)\s*$", line)
        if not m:
            continue
        item = len(m.group(1))  # the indent of the rule's "- "
        start = i
        if not m.group(2):
            item -= 2
            while start > 0 and not re.match(rf"^ {{{item}}}- ", lines[start]):
                start -= 1
        end = start + 1
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > item):
            end += 1
        url = re.search(r"(?:^|[\s{,])runbook_url:\s*[\"']?([^\"'\s,}]+)", "\n".join(lines[start:end]))
        rules.append((m.group(3).strip("\"'"), url.group(1) if url else None))
    return rules


def _unlinked(rules: list[tuple[str, str | None]]) -> list[str]:
    """The alerts without a runbook_url naming an existing docs/runbooks/ file ({{ templated }} names are trusted)."""
    bad = []
    for alert, url in rules:
        runbook = _runbook_of(url or "")
        if url is None or runbook is None or ("{{" not in url and not (RUNBOOKS / runbook).is_file()):
            bad.append(f"{alert}: {url}")
    return bad


def test_every_other_alert_rule_in_the_repository_links_to_a_runbook():
    files = [
        p
        for top in ("helm", "deploy")
        for p in sorted((REPO / top).rglob("*"))
        if p.suffix in (".yaml", ".yml", ".tpl")
    ]
    assert len(files) > 20
    bad = [f"{p.relative_to(REPO)}: {b}" for p in files for b in _unlinked(alert_rules(p.read_text()))]
    assert bad == []


def test_the_alert_rule_reader_finds_rules_with_and_without_a_runbook():
    text = """\
groups:
  - name: planted
    rules:
      - alert: HasOne
        expr: up == 0
        annotations:
          runbook_url: https://example.com/blob/main/docs/runbooks/state-lock.md
      - expr: up == 0
        alert: NamesNoFile
        annotations: {runbook_url: "x"}
      - record: job:up
        expr: up
      - alert: Missing
        expr: up == 0
        labels: {severity: page}
      - alert: WrongFile
        annotations:
          runbook_url: https://example.com/docs/runbooks/no-such.md
"""
    rules = alert_rules(text)
    assert [a for a, _ in rules] == ["HasOne", "NamesNoFile", "Missing", "WrongFile"]
    assert _unlinked(rules) == [
        "NamesNoFile: x",
        "Missing: None",
        "WrongFile: https://example.com/docs/runbooks/no-such.md",
    ]


def test_every_runbook_the_code_names_exists():
    named = {m for p in (REPO / "src").rglob("*.py") for m in re.findall(r"docs/runbooks/([\w-]+\.md)", p.read_text())}
    assert "rollout-failed.md" in named
    assert sorted(n for n in named if not (RUNBOOKS / n).is_file()) == []


# --- rollback plans and owners -------------------------------------------------------------------------------------


def _headings(markdown: str) -> list[tuple[int, str]]:
    """(level, text) of every heading outside fenced blocks."""
    headings, fence = [], False
    for line in markdown.splitlines():
        if re.match(r"^\s*(```|~~~)", line):
            fence = not fence
        elif not fence and (m := re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)):
            headings.append((len(m.group(1)), m.group(2)))
    return headings


def is_rollback_plan(markdown: str) -> bool:
    return any(ROLLBACK.search(text) for _, text in _headings(markdown))


def missing_rollback_sections(markdown: str) -> list[str]:
    present = {text for level, text in _headings(markdown) if level == 2}
    return [s for s in ROLLBACK_SECTIONS if s not in present]


def test_every_rollback_plan_has_the_cleanup_sections():
    plans = {name: text for name, text in _runbooks().items() if is_rollback_plan(text)}
    assert {"rollback-cycle.md", "rollout-failed.md"} <= set(plans)
    assert {name: missing_rollback_sections(text) for name, text in plans.items()} == {name: [] for name in plans}


def test_the_rollback_plan_rule_is_what_the_readme_says():
    readme = (RUNBOOKS / "README.md").read_text()
    assert all(f"`## {s}`" in readme for s in ROLLBACK_SECTIONS)
    assert is_rollback_plan("# Runbook: x\n\n## Rollback of a tenant\n")
    assert not is_rollback_plan("# Runbook: x\n\n```sh\n# rollback\n```\n")
    assert missing_rollback_sections("# Rollback\n\n## Freeze scope\n\n### Data cleanup\n") == list(
        ROLLBACK_SECTIONS[1:]
    )


def roles() -> list[str]:
    """The owner roles, as execution-order.md defines them: the first column of its `## Roles` table."""
    text = (RUNBOOKS / "execution-order.md").read_text()
    section = text[text.index("\n## Roles\n") :].split("\n## ", 2)[1]
    rows = [r for r in section.splitlines() if r.startswith("|")][2:]
    return [r.strip("|").split("|")[0].strip().strip("*") for r in rows]


def test_every_runbook_names_its_owner_role_near_the_top():
    known = roles()
    assert {"platform engineer", "SRE on call", "release manager", "DBA", "security officer"} <= set(known)
    wrong = {}
    for name, text in _runbooks().items():
        top = text.split("\n## ", 1)[0]
        owner = OWNER.search(top)
        if not owner or not any(owner.group(1).lower().startswith(role.lower()) for role in known):
            wrong[name] = owner.group(1) if owner else None
    assert wrong == {}, f"each runbook needs `**Owner:** <role>` before its first section, a role of {known}"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors (lowercase, punctuation dropped, spaces to hyphens), and explicit `{#id}`s."""
    anchors = set()
    for _, text in _headings(markdown):
        explicit = re.search(r"\{#([\w-]+)\}$", text)
        if explicit:
            anchors.add(explicit.group(1))
            text = text[: explicit.start()].strip()
        anchors.add(re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-"))
    return anchors


def test_every_link_of_a_runbook_lands_on_a_file_and_heading():
    broken = []
    for name, text in {**_runbooks(), "README.md": (RUNBOOKS / "README.md").read_text()}.items():
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (RUNBOOKS / path).resolve() if path else RUNBOOKS / name
            if not file.exists():
                broken.append(f"{name}: {target}: no such file")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file.read_text()):
                broken.append(f"{name}: {target}: no such heading")
    assert broken == []
