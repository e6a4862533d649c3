"""A small reader for the parts of HCL that module docs need: variable and output blocks and their top-level
attributes (description, type, default, sensitive). Not a general HCL parser: expressions are kept as source text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

_OPEN = "([{"
_CLOSE = ")]}"


@dataclass(frozen=True)
class Block:
    kind: str
    name: str
    attributes: dict[str, str]  # attribute name -> expression source (whitespace collapsed)


def _strip_comments(text: str) -> str:
    """Remove #, // and /* */ comments, leaving strings intact."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif c == "#" or text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _scan(text: str, start: int, *, depth: int, stop_at_newline: bool = False) -> int:
    """Walk text from start, counting brackets outside strings. Returns the index just past the bracket that brings
    depth to 0 (-1 when none does), or, with stop_at_newline, the index of the first newline at depth 0 (or the
    end of the text)."""
    i, in_string = start, False
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0 and not stop_at_newline:
                return i + 1
        elif c == "\n" and depth == 0 and stop_at_newline:
            return i
        i += 1
    return i if stop_at_newline else -1


def _match_close(text: str, start: int) -> int:
    """Index just past the bracket closing the one opened before `start` (strings respected)."""
    end = _scan(text, start, depth=1)
    if end < 0:
        raise ValueError("unbalanced brackets")
    return end


def _top_level_attributes(body: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    i, n = 0, len(body)
    assign = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)\s*")
    block = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_-]*(\s+\"[^\"]*\")*\s*\{")
    while i < n:
        m = assign.match(body, i)
        if m:
            j = _scan(body, m.end(), depth=0, stop_at_newline=True)
            attrs[m.group(1)] = " ".join(body[m.end() : j].split())
            i = j + 1
            continue
        b = block.match(body, i)
        if b:
            i = _match_close(body, b.end())
            continue
        i += 1
    return attrs


def read_blocks(text: str, kind: str) -> list[Block]:
    """Every `<kind> "<name>" { ... }` block of a file, in order."""
    text = _strip_comments(text)
    found = []
    for m in re.finditer(r"^\s*" + re.escape(kind) + r'\s+"([^"]+)"\s*\{', text, re.M):
        end = _match_close(text, m.end())
        found.append(Block(kind, m.group(1), _top_level_attributes(text[m.end() : end - 1])))
    return found


def read_locals(text: str) -> dict[str, str]:
    """The attributes of every `locals { ... }` block of a file: name -> expression as written."""
    text = _strip_comments(text)
    found: dict[str, str] = {}
    for m in re.finditer(r"^\s*locals\s*\{", text, re.M):
        end = _match_close(text, m.end())
        found.update(_top_level_attributes(text[m.end() : end - 1]))
    return found


def block_bodies(text: str, kind: str) -> tuple[list[tuple[str, str]], str]:
    """Every `<kind> "<name>" { ... }` block as (name, body between the braces, comments removed), and the rest of
    the file with those blocks cut out (whitespace only when the file holds nothing else)."""
    text = _strip_comments(text)
    found, rest, pos = [], [], 0
    for m in re.finditer(r"^\s*" + re.escape(kind) + r'\s+"([^"]+)"\s*\{', text, re.M):
        if m.start() < pos:
            continue
        end = _match_close(text, m.end())
        found.append((m.group(1), text[m.end() : end - 1]))
        rest.append(text[pos : m.start()])
        pos = end
    rest.append(text[pos:])
    return found, "".join(rest)


def top_level_names(body: str) -> list[str]:
    """The names of the attributes and nested blocks set directly in a block body (comments already removed)."""
    names, i = [], 0
    head = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(=(?!=)|(\s*\"[^\"]*\")*\s*\{)")
    while i < len(body):
        m = head.match(body, i)
        if not m:
            nxt = body.find("\n", i)
            i = len(body) if nxt < 0 else nxt + 1
            continue
        names.append(m.group(1))
        if m.group(2).startswith("="):
            i = _scan(body, m.end(), depth=0, stop_at_newline=True) + 1
        else:
            i = _match_close(body, m.end())
    return names


def string_value(expr: str | None) -> str:
    """The text of a quoted HCL string expression (heredocs and templates are returned as written)."""
    if not expr:
        return ""
    if expr.startswith('"') and expr.endswith('"'):
        try:
            return json.loads(expr)
        except json.JSONDecodeError:
            return expr[1:-1]
    return expr


@dataclass(frozen=True)
class Resource:
    type: str
    name: str
    body: str  # between the braces, comments removed
    line: int  # of the block header


def read_resources(text: str) -> list[Resource]:
    """Every `resource "<type>" "<name>" { ... }` block of a file, in order (ValueError when brackets don't balance).
    Lines are counted on the text without comments; a /* */ comment spanning lines shifts them."""
    text = _strip_comments(text)
    found = []
    for m in re.finditer(r'^\s*resource\s+"([^"]+)"\s+"([^"]+)"\s*\{', text, re.M):
        end = _match_close(text, m.end())
        found.append(Resource(m.group(1), m.group(2), text[m.end() : end - 1], _line_of(text, m)))
    return found


def _line_of(text: str, m: re.Match[str]) -> int:
    """Line of the first non-blank character of a match (the pattern may start with newlines)."""
    offset = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
    return text.count("\n", 0, offset) + 1


def declarations(text: str, kind: str) -> dict[str, int]:
    """Line of every `<kind> "<name>"` block header of a file (comments and all)."""
    return {
        m.group(1): text.count("\n", 0, m.start()) + 1
        for m in re.finditer(r"^[ \t]*" + re.escape(kind) + r'\s+"([^"]+)"', text, re.M)
    }


_TYPE_TOKEN = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\]|\\.)*"|-?[0-9.]+|[(){}\[\],=])')


def canonical_type(expr: str) -> str:
    """A Terraform type constraint in one canonical spelling: no whitespace, commas between elements, object
    attributes sorted (`object({b = number a = string})` == `object({a=string,b=number})`). Text that does not
    parse as a type comes back with its whitespace removed."""
    tokens: list[str] = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TYPE_TOKEN.match(expr, pos)
        if not m:
            return "".join(expr.split())
        tokens.append(m.group(1))
        pos = m.end()
        if expr[pos:].strip() == "":
            break
    try:
        out, i = _parse_type(tokens, 0)
    except (IndexError, ValueError):
        return "".join(expr.split())
    return out if i == len(tokens) else "".join(expr.split())


def _parse_type(t: list[str], i: int) -> tuple[str, int]:
    name = t[i]
    if not re.match(r"[A-Za-z_]", name):
        raise ValueError(name)
    i += 1
    if i >= len(t) or t[i] != "(":
        return name, i
    i += 1
    if name == "object":
        if t[i] != "{":
            raise ValueError("object needs {")
        i += 1
        attrs: dict[str, str] = {}
        while t[i] != "}":
            key = t[i]
            if t[i + 1] != "=":
                raise ValueError("attribute needs =")
            attrs[key], i = _parse_type(t, i + 2)
            if t[i] == ",":
                i += 1
        i += 1
        inner = "{" + ",".join(f"{k}={v}" for k, v in sorted(attrs.items())) + "}"
    elif name == "tuple":
        if t[i] != "[":
            raise ValueError("tuple needs [")
        i += 1
        elems = []
        while t[i] != "]":
            elem, i = _parse_type(t, i)
            elems.append(elem)
            if t[i] == ",":
                i += 1
        i += 1
        inner = "[" + ",".join(elems) + "]"
    else:
        inner, i = _parse_type(t, i)
        if name == "optional" and t[i] == ",":  # optional(T, default): the default is kept as written
            start, depth = i + 1, 0
            i += 1
            while depth or t[i] != ")":
                depth += (t[i] in "([{") - (t[i] in ")]}")
                i += 1
            inner += "," + "".join(t[start:i])
    if t[i] != ")":
        raise ValueError("expected )")
    return f"{name}({inner})", i + 1
