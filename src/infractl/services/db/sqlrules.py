"""Our own SQL rules, on Postgres' own parser (pglast): what an `expand` revision may not do because the previous
application version still runs against the same schema (docs/migrations.md#lint-rules), and SQL that does not parse.

An object this same upgrade() creates is new to every running version: dropping, renaming or tightening it (a
`DROP TRIGGER IF EXISTS t` before `CREATE TRIGGER t`, NOT NULL on a column added above) is not destructive."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from infractl.services.db.revfiles import Problem, Sql

# rule -> what it catches (the docs' table is checked against this, tests/unit/test_db_lint.py)
EXPAND_RULES: dict[str, str] = {
    "expand-drop-table": "DROP TABLE, VIEW, MATERIALIZED VIEW, SEQUENCE or FOREIGN TABLE",
    "expand-drop-schema": "DROP SCHEMA, DROP DATABASE",
    "expand-drop-index": "DROP INDEX (an index may back a constraint or ON CONFLICT of the previous version)",
    "expand-drop-column": "ALTER TABLE ... DROP COLUMN",
    "expand-drop-constraint": "ALTER TABLE ... DROP CONSTRAINT",
    "expand-drop-default": "ALTER COLUMN ... DROP DEFAULT / DROP IDENTITY (the previous version's inserts rely on it)",
    "expand-drop-routine": "DROP FUNCTION, PROCEDURE, ROUTINE, AGGREGATE, TRIGGER or RULE",
    "expand-drop-other": "any other DROP (TYPE, DOMAIN, POLICY, EXTENSION, ROLE, OWNED ...)",
    "expand-truncate": "TRUNCATE",
    "expand-delete-all": "DELETE without WHERE",
    "expand-alter-type": "ALTER COLUMN ... TYPE",
    "expand-rename": "RENAME of a table, column, view, index, constraint or schema; ALTER ... SET SCHEMA",
    "expand-set-not-null": "ALTER COLUMN ... SET NOT NULL on an existing column",
    "expand-add-required-column": "ADD COLUMN ... NOT NULL without a DEFAULT (the previous version's inserts omit it)",
    "expand-revoke": "REVOKE (the previous version loses a privilege it uses)",
}

_RELATIONS = {"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE"}
_ROUTINES = {
    "OBJECT_FUNCTION",
    "OBJECT_PROCEDURE",
    "OBJECT_ROUTINE",
    "OBJECT_AGGREGATE",
    "OBJECT_TRIGGER",
    "OBJECT_RULE",
}
_CATEGORY = {
    "OBJECT_TABLE": "rel",
    "OBJECT_VIEW": "rel",
    "OBJECT_MATVIEW": "rel",
    "OBJECT_SEQUENCE": "rel",
    "OBJECT_FOREIGN_TABLE": "rel",
    "OBJECT_INDEX": "rel",
    "OBJECT_FUNCTION": "routine",
    "OBJECT_PROCEDURE": "routine",
    "OBJECT_ROUTINE": "routine",
    "OBJECT_AGGREGATE": "routine",
    "OBJECT_TRIGGER": "trigger",
    "OBJECT_TYPE": "type",
    "OBJECT_DOMAIN": "type",
    "OBJECT_POLICY": "policy",
    "OBJECT_SCHEMA": "schema",
}


@dataclass
class Parsed:
    statements: list[tuple[int, object]] = field(default_factory=list)  # (file line, pglast node)
    problems: list[Problem] = field(default_factory=list)


def parse(sql: Sql) -> Parsed:
    """The statements of `sql` with their file lines; a syntax error is a `sql-syntax` problem."""
    import pglast
    from pglast.parser import ParseError

    out = Parsed()
    for start, end in sql.chunks:  # one op.execute() at a time: an error hides only its own statements
        text = sql.text[start:end]
        if not text.strip():
            continue
        try:  # pglast gives character offsets (of the statement's first token; of the error)
            raws = pglast.parse_sql(text)
        except ParseError as exc:
            at = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            out.problems.append(Problem(sql.line_at(start + at), "sql-syntax", f"does not parse: {exc.args[0]}"))
            continue
        for raw in raws:
            out.statements.append((sql.line_at(start + (raw.stmt_location or 0)), raw.stmt))
    return out


def _last(names) -> str:
    values = [getattr(n, "sval", None) for n in (names or ())]
    values = [v for v in values if v]
    return values[-1].lower() if values else ""


def _created(statements: list[tuple[int, object]]) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(category, name) of every object the statements create, and (table, column) of every column they add."""
    from pglast import ast, enums

    objects: set[tuple[str, str]] = set()
    columns: set[tuple[str, str]] = set()
    for _, s in statements:
        if isinstance(s, ast.CreateStmt):
            objects.add(("rel", s.relation.relname.lower()))
        elif isinstance(s, ast.IndexStmt) and s.idxname:
            objects.add(("rel", s.idxname.lower()))
        elif isinstance(s, ast.ViewStmt):
            objects.add(("rel", s.view.relname.lower()))
        elif isinstance(s, ast.CreateSeqStmt):
            objects.add(("rel", s.sequence.relname.lower()))
        elif isinstance(s, ast.CreateTableAsStmt):
            objects.add(("rel", s.into.rel.relname.lower()))
        elif isinstance(s, ast.CreateTrigStmt):
            objects.add(("trigger", s.trigname.lower()))
        elif isinstance(s, ast.CreateFunctionStmt):
            objects.add(("routine", _last(s.funcname)))
        elif isinstance(s, ast.CreatePolicyStmt):
            objects.add(("policy", s.policy_name.lower()))
        elif isinstance(s, ast.CreateSchemaStmt) and s.schemaname:
            objects.add(("schema", s.schemaname.lower()))
        elif isinstance(s, ast.CreateEnumStmt | ast.CompositeTypeStmt | ast.CreateDomainStmt):
            name = getattr(s, "typeName", None) or getattr(s, "domainname", None)
            if name is None and isinstance(s, ast.CompositeTypeStmt):
                objects.add(("type", s.typevar.relname.lower()))
            else:
                objects.add(("type", _last(name)))
        elif isinstance(s, ast.AlterTableStmt) and s.relation is not None:
            for cmd in s.cmds or ():
                if cmd.subtype == enums.AlterTableType.AT_AddColumn and cmd.def_ is not None:
                    columns.add((s.relation.relname.lower(), cmd.def_.colname.lower()))
    return objects, columns


def _required_without_default(column) -> bool:
    from pglast import enums

    kinds = {c.contype for c in (column.constraints or ())}
    required = enums.ConstrType.CONSTR_NOTNULL in kinds or enums.ConstrType.CONSTR_PRIMARY in kinds
    filled = kinds & {
        enums.ConstrType.CONSTR_DEFAULT,
        enums.ConstrType.CONSTR_IDENTITY,
        enums.ConstrType.CONSTR_GENERATED,
    }
    return required and not filled


def expand_findings(statements: list[tuple[int, object]]) -> Iterator[Problem]:
    """The destructive statements of an expand revision's upgrade() (EXPAND_RULES)."""
    from pglast import ast, enums

    created, added = _created(statements)
    T = enums.AlterTableType
    for line, s in statements:
        if isinstance(s, ast.AlterTableStmt) and s.relation is not None:
            table = s.relation.relname.lower()
            if ("rel", table) in created:
                continue
            for cmd in s.cmds or ():
                column = (cmd.name or "").lower()
                new_column = (table, column) in added
                if cmd.subtype == T.AT_DropColumn and not new_column:
                    yield Problem(line, "expand-drop-column", f"drops column {table}.{cmd.name}")
                elif cmd.subtype == T.AT_AlterColumnType and not new_column:
                    yield Problem(line, "expand-alter-type", f"changes the type of {table}.{cmd.name}")
                elif cmd.subtype == T.AT_SetNotNull and not new_column:
                    yield Problem(line, "expand-set-not-null", f"makes the existing {table}.{cmd.name} NOT NULL")
                elif cmd.subtype == T.AT_AddColumn and cmd.def_ is not None and _required_without_default(cmd.def_):
                    yield Problem(
                        line,
                        "expand-add-required-column",
                        f"adds {table}.{cmd.def_.colname} NOT NULL without a default",
                    )
                elif cmd.subtype == T.AT_DropConstraint:
                    yield Problem(line, "expand-drop-constraint", f"drops constraint {cmd.name} of {table}")
                elif (cmd.subtype == T.AT_ColumnDefault and cmd.def_ is None and not new_column) or (
                    cmd.subtype == T.AT_DropIdentity and not new_column
                ):
                    yield Problem(line, "expand-drop-default", f"drops the default of {table}.{cmd.name}")
        elif isinstance(s, ast.RenameStmt):
            old = cmd_name = s.subname or (s.relation.relname if s.relation is not None else "")
            if s.relation is not None and ("rel", s.relation.relname.lower()) in created:
                continue
            yield Problem(line, "expand-rename", f"renames {old or 'an object'} to {s.newname or cmd_name}")
        elif isinstance(s, ast.AlterObjectSchemaStmt):
            yield Problem(line, "expand-rename", f"moves an object to schema {s.newschema}")
        elif isinstance(s, ast.DropStmt):
            kind = enums.ObjectType(s.removeType).name
            names = [_object_name(o) for o in s.objects or ()]
            category = _CATEGORY.get(kind)
            if category and names and all((category, n) in created for n in names):
                continue
            what = kind.removeprefix("OBJECT_").replace("_", " ")
            shown = ", ".join(names)
            if kind in _RELATIONS:
                yield Problem(line, "expand-drop-table", f"DROP {what} {shown}")
            elif kind == "OBJECT_INDEX":
                yield Problem(line, "expand-drop-index", f"DROP INDEX {shown}")
            elif kind == "OBJECT_SCHEMA":
                yield Problem(line, "expand-drop-schema", f"DROP SCHEMA {shown}")
            elif kind in _ROUTINES:
                yield Problem(line, "expand-drop-routine", f"DROP {what} {shown}")
            else:
                yield Problem(line, "expand-drop-other", f"DROP {what} {shown}")
        elif isinstance(s, ast.DropdbStmt):
            yield Problem(line, "expand-drop-schema", f"DROP DATABASE {s.dbname}")
        elif isinstance(s, ast.DropRoleStmt | ast.DropOwnedStmt):
            yield Problem(line, "expand-drop-other", "DROP ROLE / DROP OWNED")
        elif isinstance(s, ast.TruncateStmt):
            names = [r.relname.lower() for r in s.relations or ()]
            if not all(("rel", n) in created for n in names):
                yield Problem(line, "expand-truncate", f"TRUNCATE {', '.join(names)}")
        elif isinstance(s, ast.DeleteStmt) and s.whereClause is None:
            table = s.relation.relname.lower()
            if ("rel", table) not in created:
                yield Problem(line, "expand-delete-all", f"DELETE FROM {table} without WHERE")
        elif isinstance(s, ast.GrantStmt | ast.GrantRoleStmt) and not s.is_grant:
            yield Problem(line, "expand-revoke", "REVOKE")


def _object_name(obj) -> str:
    from pglast import ast

    if isinstance(obj, ast.ObjectWithArgs):
        return _last(obj.objname)
    if isinstance(obj, ast.String):
        return obj.sval.lower()
    if isinstance(obj, ast.TypeName):
        return _last(obj.names)
    if isinstance(obj, tuple | list):
        return _last(obj)
    return ""
