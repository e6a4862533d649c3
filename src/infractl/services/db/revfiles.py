"""Reading revision files without running them (for `infractl db lint`): their module-level declarations and the
SQL of upgrade() and downgrade() — the string literals given to op.execute() — with, for every character of that
SQL, the line of the .py file it came from, so a finding in the SQL points at the file and line to edit."""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DECLARED = ("revision", "down_revision", "phase", "completes", "irreversible")
SQL_WRAPPERS = ("text", "sa.text", "sqlalchemy.text")  # op.execute(sa.text("...")) reads the same as a literal


@dataclass
class Sql:
    """The SQL of one function: text and, per character, its line in the revision file."""

    text: str = ""
    lines: list[int] = field(default_factory=list)
    chunks: list[tuple[int, int]] = field(default_factory=list)  # (start, end) of each op.execute's SQL in text

    def add(self, text: str, lines: list[int]) -> None:
        body = text.rstrip()
        end = lines[len(body) - 1] if body else (lines[-1] if lines else 1)
        sep = "\n" if body.endswith(";") else ";\n"
        self.chunks.append((len(self.text), len(self.text) + len(body)))
        self.text += body + sep
        self.lines += lines[: len(body)] + [end] * len(sep)

    def line_at(self, offset: int) -> int:
        if not self.lines:
            return 1
        return self.lines[max(0, min(offset, len(self.lines) - 1))]

    def line_of(self, sql_line: int, column: int = 0) -> int:
        """The file line of a 0-based line (and column) of `text`."""
        starts = [0] + [i + 1 for i, ch in enumerate(self.text) if ch == "\n"]
        if sql_line >= len(starts):
            return self.line_at(len(self.text) - 1)
        return self.line_at(starts[sql_line] + column)


@dataclass
class Problem:
    line: int
    rule: str
    message: str


@dataclass
class RevisionFile:
    path: Path
    declared: dict[str, Any] = field(default_factory=dict)  # name -> value (a constant), when assigned
    declared_at: dict[str, int] = field(default_factory=dict)  # name -> line
    functions: dict[str, int] = field(default_factory=dict)  # upgrade/downgrade -> line of its def
    trivial: dict[str, bool] = field(default_factory=dict)  # a body of only pass, docstrings, `...`, raise
    sql: dict[str, Sql] = field(default_factory=dict)
    op_calls: dict[str, int] = field(default_factory=dict)  # upgrade/downgrade -> how many op.* calls it makes
    problems: list[Problem] = field(default_factory=list)


def _string_tokens(source: str) -> list[tuple[tuple[int, int], tuple[int, int], str]]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(t.start, t.end, t.string) for t in tokens if t.type == tokenize.STRING]


def _literal(node: ast.AST, tokens: list) -> tuple[str, list[int]] | None:
    """The value of a (possibly implicitly concatenated) string literal and the file line of each character."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    start, end = (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)
    text, lines = "", []
    for tok_start, tok_end, raw in tokens:
        if tok_start < start or tok_end > end:
            continue
        value = ast.literal_eval(raw)
        if value.count("\n") == tok_end[0] - tok_start[0]:  # its newlines are the source's: line by line
            row = tok_start[0]
            for ch in value:
                lines.append(row)
                row += ch == "\n"
        else:  # escaped newlines in a one-line string: all on its line
            lines += [tok_start[0]] * len(value)
        text += value
    if text != node.value:  # not reconstructible from tokens (should not happen): the node's first line
        return node.value, [node.lineno] * len(node.value)
    return text, lines


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_trivial(fn: ast.FunctionDef) -> bool:
    for stmt in fn.body:
        if isinstance(stmt, ast.Pass | ast.Raise):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):  # docstring, `...`
            continue
        return False
    return True


def read(path: Path) -> RevisionFile:
    rev = RevisionFile(path=path)
    source = path.read_text()
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        rev.problems.append(Problem(exc.lineno or 1, "python-syntax", f"not valid Python: {exc.msg}"))
        return rev
    tokens = _string_tokens(source)
    constants: dict[str, tuple[str, list[int]]] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id in DECLARED:
                try:
                    rev.declared[target.id] = ast.literal_eval(value)
                except ValueError:
                    rev.declared[target.id] = ast.unparse(value)
                rev.declared_at[target.id] = stmt.lineno
            found = _literal(value, tokens) if value is not None else None
            if found is not None:
                constants[target.id] = found
        if isinstance(stmt, ast.FunctionDef) and stmt.name in ("upgrade", "downgrade"):
            rev.functions[stmt.name] = stmt.lineno
            rev.trivial[stmt.name] = _is_trivial(stmt)
            rev.sql[stmt.name] = _function_sql(rev, stmt, tokens, constants)
    return rev


def _function_sql(rev: RevisionFile, fn: ast.FunctionDef, tokens: list, constants: dict) -> Sql:
    sql = Sql()
    calls = sorted((n for n in ast.walk(fn) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset))
    for call in calls:
        name = _dotted(call.func)
        if not name.startswith("op."):
            continue
        rev.op_calls[fn.name] = rev.op_calls.get(fn.name, 0) + 1
        if name != "op.execute":
            rev.problems.append(
                Problem(
                    call.lineno,
                    "op-not-sql",
                    f"{fn.name}() calls {name}(): write the change as SQL in op.execute() so the lint can read it",
                )
            )
            continue
        arg = call.args[0] if call.args else None
        if isinstance(arg, ast.Call) and _dotted(arg.func) in SQL_WRAPPERS and arg.args:
            arg = arg.args[0]
        found = None
        if isinstance(arg, ast.Name) and arg.id in constants:
            found = constants[arg.id]
        elif arg is not None:
            found = _literal(arg, tokens)
        if found is None:
            rev.problems.append(
                Problem(
                    call.lineno,
                    "sql-not-literal",
                    f"{fn.name}(): op.execute() of something other than a string literal (or a module-level"
                    " string constant): the lint cannot read it",
                )
            )
            continue
        sql.add(*found)
    return sql
