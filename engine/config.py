"""Spec files → ``Config``: the only module that imports python-hcl2 (and lark).

All ``*.hcl`` files of a directory (sorted, not subdirectories, not ``*.auto.hcl``) form
one configuration. The parser's tree is converted into bcdr's own expression nodes
(``engine.expr``) with file:line on every block, attribute and expression; no parser type
leaves this module. Parsed files are cached under ``<dir>/.bcdr/cache/hcl`` keyed by an
xxh3-128 of their bytes. Always holds: user mistakes come back as diagnostics, all of them
at once, each with file:line; never as an exception.
"""

from __future__ import annotations

import gc
import os
import pickle
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import xxhash
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.addrs import ResourceAddr
from engine.diagnostics import Diagnostic, Diagnostics, SourceRange, error
from engine.expr import (
    Binary,
    Conditional,
    EvalError,
    Expr,
    ForExpr,
    FunctionCall,
    GetAttr,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    SplatItem,
    Template,
    TemplateFor,
    TemplateIf,
    TemplateText,
    TupleExpr,
    TypeConstraint,
    Unary,
    convert,
    static_value,
    type_from_expr,
)

CACHE_VERSION = "bcdr-hcl-3"  # bumped whenever a cached class moves or changes


class _NotSet:
    """The type of ``NOTSET``: a variable without a default."""

    _instance: _NotSet | None = None

    def __new__(cls) -> _NotSet:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOTSET"

    def __reduce__(self) -> str:
        return "NOTSET"


NOTSET = _NotSet()


@dataclass
class Attribute:
    name: str
    expr: Expr
    range: SourceRange


@dataclass
class Body:
    attributes: dict[str, Attribute]
    blocks: list[Block]
    range: SourceRange


@dataclass
class Block:
    type: str
    labels: list[str]
    body: Body
    range: SourceRange


@dataclass
class Validation:
    condition: Expr
    error_message: Expr
    range: SourceRange


@dataclass
class Variable:
    name: str
    type: TypeConstraint | None
    default: Any
    description: str
    sensitive: bool
    nullable: bool
    validations: list[Validation]
    range: SourceRange

    @property
    def required(self) -> bool:
        return self.default is NOTSET


@dataclass
class Local:
    name: str
    expr: Expr
    range: SourceRange


@dataclass
class Lifecycle:
    prevent_destroy: bool = False
    create_before_destroy: bool = False
    ignore_changes: list[str] | str = field(default_factory=list)  # or "all"
    range: SourceRange | None = None


@dataclass
class Resource:
    addr: ResourceAddr
    body: Body
    count: Expr | None
    for_each: Expr | None
    depends_on: list[tuple[ResourceAddr, SourceRange]]
    lifecycle: Lifecycle
    range: SourceRange


@dataclass
class Output:
    name: str
    expr: Expr
    sensitive: bool
    description: str
    depends_on: list[tuple[ResourceAddr, SourceRange]]
    range: SourceRange


@dataclass
class ProviderBlock:
    name: str
    body: Body
    range: SourceRange


@dataclass
class Config:
    dir: Path
    files: list[str]
    providers: dict[str, ProviderBlock]
    variables: dict[str, Variable]
    locals: dict[str, Local]
    resources: dict[ResourceAddr, Resource]
    outputs: dict[str, Output]
    var_files: list[str] = field(default_factory=list)  # the *.auto.hcl files, sorted


# ================================================================ parse tree → Expr


class SyntaxProblem(Exception):
    def __init__(self, summary: str, detail: str, range: SourceRange):
        super().__init__(f"{range}: {summary}")
        self.summary, self.detail, self.range = summary, detail, range


_ESCAPE_RE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(.))", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(text: str, rng: SourceRange) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16))
        ch = m.group(3)
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        raise SyntaxProblem(
            f"Invalid escape sequence \\{ch}", 'use \\\\ for a backslash, \\" for a quote', rng
        )

    return _ESCAPE_RE.sub(repl, text) if "\\" in text else text


class _Converter:
    """Converts one file's lark tree into Body/Block/Attribute and expression nodes."""

    def __init__(self, filename: str, line_offset: int = 0):
        self.filename = filename
        self.line_offset = line_offset
        self._ranges: dict[int, SourceRange] = {}

    def rng(self, node: Tree | Token, fallback: int = 1) -> SourceRange:
        if isinstance(node, Token):
            line = node.line or fallback
        else:
            line = fallback if node.meta.empty else node.meta.line
        line += self.line_offset
        r = self._ranges.get(line)
        if r is None:
            r = self._ranges[line] = SourceRange(self.filename, line)
        return r

    # ---------------------------------------------------------------- structure

    def body(self, tree: Tree, problems: list[Diagnostic]) -> Body:
        attrs: dict[str, Attribute] = {}
        blocks: list[Block] = []
        last_line = -1
        for child in tree.children:
            if not isinstance(child, Tree) or child.data == "new_line_or_comment":
                continue
            line = child.meta.line
            if line == last_line:
                problems.append(
                    error(
                        "Two items on one line",
                        "put each argument and block on its own line",
                        self.rng(child),
                    )
                )
            last_line = line
            if child.data == "attribute":
                attr = self.attribute(child)
                if attr.name in attrs:
                    problems.append(
                        error(
                            f'Duplicate argument "{attr.name}"',
                            f"{attr.name} is already set at {attrs[attr.name].range}; "
                            "remove one of them",
                            attr.range,
                        )
                    )
                    continue
                attrs[attr.name] = attr
            elif child.data == "block":
                blocks.append(self.block(child, problems))
        return Body(attrs, blocks, self.rng(tree))

    def attribute(self, tree: Tree) -> Attribute:
        name_node = tree.children[0]
        name = self.name_of(name_node)
        return Attribute(name, self.expr(tree.children[2]), self.rng(tree))

    def name_of(self, node: Tree | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        tok = node.children[0]
        return str(tok)

    def block(self, tree: Tree, problems: list[Diagnostic]) -> Block:
        rng = self.rng(tree)
        type_ = self.name_of(tree.children[0])
        labels: list[str] = []
        body: Body | None = None
        for child in tree.children[1:]:
            if not isinstance(child, Tree):
                continue
            if child.data == "body":
                body = self.body(child, problems)
            elif child.data == "string":
                labels.append(self.label(child))
            elif child.data in ("identifier", "keyword", "literal_value"):
                labels.append(self.name_of(child))
        assert body is not None
        return Block(type_, labels, body, rng)

    def label(self, tree: Tree) -> str:
        out = []
        for part in tree.children:
            if isinstance(part, Tree):
                tok = part.children[0]
                if isinstance(tok, Tree):
                    raise SyntaxProblem(
                        "A block label cannot hold an interpolation",
                        "labels are plain strings",
                        self.rng(tree),
                    )
                out.append(_unescape(str(tok), self.rng(tree)))
        return "".join(out)

    # ---------------------------------------------------------------- expressions

    def expr(self, node: Tree) -> Expr:
        kind = node.data
        method = getattr(self, "x_" + kind, None)
        if method is None:
            raise SyntaxProblem(
                f"Unsupported expression ({kind})", "", self.rng(node)
            )  # pragma: no cover - grammar is closed
        return method(node)

    @staticmethod
    def trees(node: Tree) -> list[Tree]:
        return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]

    def x_expr_term(self, node: Tree) -> Expr:
        inner = self.trees(node)
        return self.expr(inner[0])

    def x_int_lit(self, node: Tree) -> Expr:
        return Literal(int(node.children[0]), self.rng(node))

    def x_float_lit(self, node: Tree) -> Expr:
        return Literal(float(node.children[0]), self.rng(node))

    def x_literal_value(self, node: Tree) -> Expr:
        text = str(node.children[0])
        return Literal({"true": True, "false": False, "null": None}[text], self.rng(node))

    def x_identifier(self, node: Tree) -> Expr:
        return Name(str(node.children[0]), self.rng(node))

    x_keyword = x_identifier

    def x_tuple(self, node: Tree) -> Expr:
        return TupleExpr([self.expr(c) for c in self.trees(node)], self.rng(node))

    def x_object(self, node: Tree) -> Expr:
        items: list[tuple[Expr, Expr]] = []
        for elem in self.trees(node):
            key_node, value_node = self.trees(elem)
            items.append((self.object_key(key_node), self.expr(value_node)))
        return ObjectExpr(items, self.rng(node))

    def object_key(self, node: Tree) -> Expr:
        (inner,) = self.trees(node) or [None]
        if inner is None:  # a keyword used as a key
            return Literal(str(node.children[0].children[0]), self.rng(node))
        if inner.data == "keyword":
            return Literal(str(inner.children[0]), self.rng(node))
        if inner.data == "expr_term":
            sub = self.trees(inner)
            if len(sub) == 1 and sub[0].data == "identifier":
                return Literal(str(sub[0].children[0]), self.rng(node))
        return self.expr(inner)

    def x_string(self, node: Tree) -> Expr:
        parts = [c for c in node.children if isinstance(c, Tree)]
        return self.template(parts, self.rng(node), escapes=True)

    def x_template_string(self, node: Tree) -> Expr:
        text = str(node.children[0])[2:-2]
        return Literal(_unescape(text, self.rng(node)), self.rng(node))

    def template(self, parts: list[Tree], rng: SourceRange, *, escapes: bool) -> Expr:
        # the grammar gives directives flat; assemble %{if}/%{for} with a stack
        stack: list[tuple[Any, list[Expr]]] = [(None, [])]
        strip_next = False  # a "~}" strips the whitespace of the text after it
        for part in parts:
            child = part.children[0]
            if isinstance(child, Token):
                text = str(child)
                if child.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                    text = text[1:]
                elif escapes:
                    text = _unescape(text, rng)
                if strip_next:
                    text = text.lstrip()
                    strip_next = False
                stack[-1][1].append(TemplateText(text, rng))
                continue
            kind = child.data
            sub = self.trees(child)
            markers = [
                i
                for i, t in enumerate(child.children)
                if isinstance(t, Token) and t.type == "STRIP_MARKER"
            ]
            strip_before = 1 in markers  # "%{~"
            strip_next = any(i > 1 for i in markers)  # "~}"
            if strip_before:
                last = stack[-1][1]
                if last and isinstance(last[-1], TemplateText):
                    last[-1] = TemplateText(last[-1].value.rstrip(), last[-1].range)
            if kind == "interpolation":
                stack[-1][1].append(self.expr(sub[0]))
            elif kind == "template_if_start":
                stack.append((["if", self.expr(sub[0]), None], []))
            elif kind == "template_else":
                head, body = stack[-1]
                if not head or head[0] != "if" or head[2] is not None:
                    raise SyntaxProblem("%{else} without %{if}", "", rng)
                head[2] = body
                stack[-1] = (head, [])
            elif kind == "template_endif":
                head, body = stack.pop() if len(stack) > 1 else (None, [])
                if not head or head[0] != "if":
                    raise SyntaxProblem("%{endif} without %{if}", "", rng)
                then, otherwise = (head[2], body) if head[2] is not None else (body, [])
                stack[-1][1].append(TemplateIf(head[1], then, otherwise, rng))
            elif kind == "template_for_start":
                names = [str(t.children[0]) for t in sub if t.data == "identifier"]
                coll = [t for t in sub if t.data != "identifier"][0]
                key, value = (names[0], names[1]) if len(names) == 2 else (None, names[0])
                stack.append((["for", key, value, self.expr(coll)], []))
            elif kind == "template_endfor":
                head, body = stack.pop() if len(stack) > 1 else (None, [])
                if not head or head[0] != "for":
                    raise SyntaxProblem("%{endfor} without %{for}", "", rng)
                stack[-1][1].append(TemplateFor(head[1], head[2], head[3], body, rng))
        if len(stack) > 1:
            raise SyntaxProblem(
                f"%{{{stack[-1][0][0]}}} is never closed",
                f"end it with %{{end{stack[-1][0][0]}}}",
                rng,
            )
        result = stack[0][1]
        merged: list[Expr] = []
        for p in result:  # fold adjacent pieces of text
            if merged and isinstance(p, TemplateText) and isinstance(merged[-1], TemplateText):
                merged[-1] = TemplateText(merged[-1].value + p.value, merged[-1].range)
            else:
                merged.append(p)
        if not merged:
            return Literal("", rng)
        if len(merged) == 1 and isinstance(merged[0], TemplateText):
            return Literal(merged[0].value, rng)
        return Template(merged, rng)

    def x_heredoc_template(self, node: Tree) -> Expr:
        return self.heredoc(node, trim=False)

    def x_heredoc_template_trim(self, node: Tree) -> Expr:
        return self.heredoc(node, trim=True)

    def heredoc(self, node: Tree, *, trim: bool) -> Expr:
        rng = self.rng(node)
        raw = str(node.children[0]).replace("\r\n", "\n")
        lines = raw.split("\n")
        body_lines = lines[1:-2]  # drop "<<EOT", the closing marker and the final ""
        if trim:
            indents = [len(ln) - len(ln.lstrip(" \t")) for ln in body_lines if ln.strip()]
            cut = min(indents, default=0)
            body_lines = [ln[cut:] for ln in body_lines]
        text = "".join(ln + "\n" for ln in body_lines)
        if "${" not in text and "%{" not in text:
            return Literal(text, rng)
        quoted = _heredoc_as_string(text)
        try:
            tree = hcl2.parses_to_tree(f"x = {quoted}\n")
        except LarkError:
            raise SyntaxProblem(
                "Invalid template in heredoc", "check its ${...} and %{...} parts", rng
            ) from None
        sub = _Converter(self.filename, rng.line - 1)
        string_node = tree.children[0].children[0].children[2]
        return sub.expr(string_node)

    def x_conditional(self, node: Tree) -> Expr:
        cond, then, otherwise = self.trees(node)
        return Conditional(self.expr(cond), self.expr(then), self.expr(otherwise), self.rng(node))

    def x_binary_op(self, node: Tree) -> Expr:
        left, term = self.trees(node)[:2]
        op_node, right = self.trees(term)
        op = str(op_node.children[0]).strip().split()[-1]
        return Binary(op, self.expr(left), self.expr(right), self.rng(node))

    def x_unary_op(self, node: Tree) -> Expr:
        op = str(node.children[0])
        operand = self.expr(self.trees(node)[0])
        if op == "-" and isinstance(operand, Literal) and isinstance(operand.value, int | float):
            return Literal(-operand.value, self.rng(node))
        return Unary(op, operand, self.rng(node))

    def x_function_call(self, node: Tree) -> Expr:
        names = [str(t.children[0]) for t in self.trees(node) if t.data == "identifier"]
        args_nodes = [t for t in self.trees(node) if t.data == "arguments"]
        args: list[Expr] = []
        expand = False
        if args_nodes:
            args = [self.expr(t) for t in self.trees(args_nodes[0])]
            expand = any(
                isinstance(t, Token) and t.type == "ELLIPSIS" for t in args_nodes[0].children
            )
        return FunctionCall("::".join(names), args, expand, self.rng(node))

    def traversal(self, obj: Expr, step: Tree) -> Expr:
        rng = self.rng(step, obj.range.line - self.line_offset)
        if step.data == "get_attr":
            name_node = self.trees(step)[0]
            return GetAttr(obj, str(name_node.children[0]), rng)
        if step.data == "braces_index":
            return Index(obj, self.expr(self.trees(step)[0]), rng)
        if step.data == "short_index":
            num = [c for c in step.children if isinstance(c, Token) and c.type != "DOT"][0]
            return Index(obj, Literal(int(num), rng), rng)
        raise AssertionError(step.data)

    def x_get_attr_expr_term(self, node: Tree) -> Expr:
        obj, step = self.trees(node)
        return self.traversal(self.expr(obj), step)

    def x_index_expr_term(self, node: Tree) -> Expr:
        obj, step = self.trees(node)
        return self.traversal(self.expr(obj), step)

    def _splat(self, node: Tree) -> Expr:
        obj, splat = self.trees(node)
        rng = self.rng(node)
        each: Expr = SplatItem(rng)
        for step in self.trees(splat):
            each = self.traversal(each, step)
        return Splat(self.expr(obj), each, rng)

    x_attr_splat_expr_term = _splat
    x_full_splat_expr_term = _splat

    def for_intro(self, node: Tree) -> tuple[str | None, str, Expr]:
        sub = self.trees(node)
        names = [str(t.children[0]) for t in sub if t.data == "identifier"]
        coll = [t for t in sub if t.data != "identifier"][0]
        key, value = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        return key, value, self.expr(coll)

    def for_cond(self, sub: list[Tree]) -> Expr | None:
        conds = [t for t in sub if t.data == "for_cond"]
        return self.expr(self.trees(conds[0])[0]) if conds else None

    def x_for_tuple_expr(self, node: Tree) -> Expr:
        sub = self.trees(node)
        key, value, coll = self.for_intro(sub[0])
        rest = [t for t in sub[1:] if t.data != "for_cond"]
        rng = self.rng(node)
        return ForExpr(key, value, coll, None, self.expr(rest[0]), self.for_cond(sub), False, rng)

    def x_for_object_expr(self, node: Tree) -> Expr:
        sub = self.trees(node)
        key, value, coll = self.for_intro(sub[0])
        rest = [t for t in sub[1:] if t.data != "for_cond"]
        grouping = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in node.children)
        return ForExpr(
            key,
            value,
            coll,
            self.expr(rest[0]),
            self.expr(rest[1]),
            self.for_cond(sub),
            grouping,
            self.rng(node),
        )


def _heredoc_as_string(text: str) -> str:
    """Re-quote a heredoc body as an HCL string, keeping ``${}``/``%{}`` parts verbatim."""
    out = ['"']
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith(("$${", "%%{"), i):
            out.append(text[i : i + 3])
            i += 3
        elif text.startswith(("${", "%{"), i):
            end = _matching_brace(text, i + 2)
            out.append(text[i:end].replace("\n", " "))
            i = end
        else:
            out.append({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}.get(ch, ch))
            i += 1
    out.append('"')
    return "".join(out)


def _matching_brace(text: str, i: int) -> int:
    depth, n = 1, len(text)
    while i < n and depth:
        ch = text[i]
        if ch == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    return i


# ================================================================ parsing entry points


def _syntax_diagnostic(err: Exception, filename: str) -> Diagnostic:
    line = getattr(err, "line", 1) or 1
    if isinstance(err, SyntaxProblem):
        return error(err.summary, err.detail, err.range)
    rng = SourceRange(filename, max(1, line), getattr(err, "column", 1) or 1)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        found = "the end of the file" if tok.type == "$END" else repr(str(tok).strip() or "\\n")
        summary = f"Syntax error: unexpected {found}"
        expected = sorted(getattr(err, "expected", ()) or ())
        hint = _hint_for(expected)
    elif isinstance(err, UnexpectedCharacters):
        summary = f"Syntax error: unexpected character {err.char!r}"
        hint = "check for a missing quote, bracket or operator"
    else:
        summary = "Syntax error"
        hint = "check the braces, quotes and = signs"
    return error(summary, f"at {rng} column {rng.column}; {hint}", rng)


def _hint_for(expected: list[str]) -> str:
    if "RBRACE" in expected and "NAME" in expected and len(expected) < 10:
        return "a block may be missing its closing }"
    if "EQ" in expected:
        return "an argument is written NAME = VALUE"
    if "RSQB" in expected:
        return "a list may be missing its closing ]"
    if "RPAR" in expected:
        return "a call or group may be missing its closing )"
    if "NL_OR_COMMENT" in expected or "$END" in expected:
        return "put each argument on its own line and close every block with }"
    return "check the braces, quotes and = signs before this point"


def _parse_tree(text: str, filename: str) -> Tree:
    try:
        return hcl2.parses_to_tree(text)
    except UnexpectedInput as err:
        diag = _syntax_diagnostic(err, filename)
        assert diag.range is not None
        raise SyntaxProblem(diag.summary, diag.detail, diag.range) from None
    except LarkError as err:
        raise SyntaxProblem(
            f"Syntax error: {err}", "check the file", SourceRange(filename, 1)
        ) from None


def parse_body(text: str, filename: str) -> tuple[Body | None, Diagnostics]:
    """Parse one file's text into a Body; syntax errors become diagnostics."""
    problems: list[Diagnostic] = []
    try:
        tree = _parse_tree(text, filename)
        conv = _Converter(filename)
        body = conv.body(tree.children[0], problems)
    except SyntaxProblem as err:
        return None, Diagnostics([error(err.summary, err.detail, err.range)])
    except RecursionError:
        return None, Diagnostics(
            [error("Expression nested too deeply", "simplify it", SourceRange(filename, 1))]
        )
    return body, Diagnostics(problems)


def check_syntax(text: str, filename: str = "<input>") -> None:
    """Raise ValueError("file:line: ...") when ``text`` is not valid HCL (used by fmt)."""
    _, diags = parse_body(text, filename)
    # a duplicate argument is a meaning problem, not a layout one: fmt leaves it to validate
    problems = [d for d in diags.errors() if not d.summary.startswith("Duplicate argument")]
    if problems:
        d = problems[0]
        raise ValueError(f"{d.range}: {d.summary} ({d.detail})")


def parse_expression(text: str, filename: str = "<value>") -> tuple[Expr | None, Diagnostics]:
    """Parse a single expression (for ``-var name=EXPR``)."""
    body, diags = parse_body(f"value = {text}\n", filename)
    if body is None or "value" not in body.attributes or len(body.attributes) != 1:
        if not diags.has_errors:
            diags.append(error(f"{filename}: not a single expression", "", None))
        return None, diags
    return body.attributes["value"].expr, diags


# ================================================================ decoding blocks

_LABELS = {"provider": 1, "variable": 1, "locals": 0, "resource": 2, "output": 1}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass
class _FileParts:
    """What one file declares; this is what the parse cache stores."""

    providers: list[ProviderBlock] = field(default_factory=list)
    variables: list[Variable] = field(default_factory=list)
    locals: list[Local] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _decode_file(text: str, filename: str) -> _FileParts:
    parts = _FileParts()
    body, diags = parse_body(text, filename)
    parts.diagnostics.extend(diags)
    if body is None:
        return parts
    d = parts.diagnostics
    for attr in body.attributes.values():
        d.append(
            error(
                f'Unexpected argument "{attr.name}" at the top level',
                "a spec file holds blocks (resource, variable, locals, output, provider); "
                "variable values belong in a *.auto.hcl file",
                attr.range,
            )
        )
    for block in body.blocks:
        want = _LABELS.get(block.type)
        if want is None:
            d.append(
                error(
                    f'Unknown block type "{block.type}"',
                    "the top-level blocks are: " + ", ".join(_LABELS),
                    block.range,
                )
            )
            continue
        if len(block.labels) != want:
            usage = {
                "provider": 'provider "NAME" { ... }',
                "variable": 'variable "NAME" { ... }',
                "locals": "locals { NAME = VALUE }",
                "resource": 'resource "TYPE" "NAME" { ... }',
                "output": 'output "NAME" { value = ... }',
            }[block.type]
            d.append(
                error(
                    f"A {block.type} block needs {want} label{'s' if want != 1 else ''}, "
                    f"found {len(block.labels)}",
                    f"write {usage}",
                    block.range,
                )
            )
            continue
        bad = [lbl for lbl in block.labels if not _NAME_RE.match(lbl)]
        if bad:
            d.append(
                error(
                    f'Invalid name "{bad[0]}" in a {block.type} block',
                    "a name starts with a letter or _ and holds letters, digits, _ and -",
                    block.range,
                )
            )
            continue
        if block.type == "resource":
            parts.resources.append(_decode_resource(block, d))
        elif block.type == "variable":
            var = _decode_variable(block, d)
            if var is not None:
                parts.variables.append(var)
        elif block.type == "locals":
            for nested in block.body.blocks:
                d.append(error("A locals block holds only NAME = VALUE", "", nested.range))
            for attr in block.body.attributes.values():
                parts.locals.append(Local(attr.name, attr.expr, attr.range))
        elif block.type == "output":
            out = _decode_output(block, d)
            if out is not None:
                parts.outputs.append(out)
        else:
            parts.providers.append(ProviderBlock(block.labels[0], block.body, block.range))
    return parts


def _static(attr: Attribute, d: list[Diagnostic], what: str) -> Any:
    try:
        return static_value(attr.expr)
    except EvalError as err:
        d.append(error(what, f"{err.summary}: {err.detail}", err.range or attr.range))
        return NOTSET


def _static_of(attr: Attribute, kind: type, d: list[Diagnostic], what: str, default: Any) -> Any:
    value = _static(attr, d, what)
    if value is NOTSET:
        return default
    if not isinstance(value, kind):
        d.append(
            error(
                f'"{attr.name}" must be a {kind.__name__.replace("str", "string")}',
                f"{what}; found {value!r}",
                attr.range,
            )
        )
        return default
    return value


def _unexpected(body: Body, allowed: set[str], where: str, d: list[Diagnostic]) -> None:
    for name, attr in body.attributes.items():
        if name not in allowed:
            d.append(
                error(
                    f'Unsupported argument "{name}" in {where}',
                    "allowed here: " + ", ".join(sorted(allowed)),
                    attr.range,
                )
            )


def _depends_on(attr: Attribute, d: list[Diagnostic]) -> list[tuple[ResourceAddr, Any]]:
    out: list[tuple[ResourceAddr, SourceRange]] = []
    expr = attr.expr
    if not isinstance(expr, TupleExpr):
        d.append(
            error(
                "depends_on must be a list of resource references",
                "write depends_on = [TYPE.NAME, ...]",
                attr.range,
            )
        )
        return out
    for item in expr.items:
        if (
            isinstance(item, GetAttr)
            and isinstance(item.obj, Name)
            and item.obj.name not in ("var", "local", "count", "each", "path", "self")
        ):
            out.append((ResourceAddr(item.obj.name, item.name), item.range))
        else:
            shown = _traversal_path(item)
            shown = f'"{shown}"' if isinstance(item, Literal) else shown or "this entry"
            d.append(
                error(
                    f"Invalid depends_on entry {shown}",
                    "each entry must be a resource reference TYPE.NAME, without quotes, "
                    "attributes or index",
                    item.range,
                )
            )
    return out


def _traversal_path(expr: Expr) -> str | None:
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, GetAttr):
        base = _traversal_path(expr.obj)
        return None if base is None else f"{base}.{expr.name}"
    if isinstance(expr, Index) and isinstance(expr.key, Literal):
        base = _traversal_path(expr.obj)
        key = expr.key.value
        return None if base is None else f"{base}[{key!r}]".replace("'", '"')
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


def _decode_lifecycle(block: Block, d: list[Diagnostic]) -> Lifecycle:
    life = Lifecycle(range=block.range)
    body = block.body
    _unexpected(
        body,
        {"prevent_destroy", "create_before_destroy", "ignore_changes"},
        "a lifecycle block",
        d,
    )
    for nested in body.blocks:
        d.append(error(f'Unexpected block "{nested.type}" in lifecycle', "", nested.range))
    if "prevent_destroy" in body.attributes:
        life.prevent_destroy = _static_of(
            body.attributes["prevent_destroy"], bool, d, "lifecycle", False
        )
    if "create_before_destroy" in body.attributes:
        life.create_before_destroy = _static_of(
            body.attributes["create_before_destroy"], bool, d, "lifecycle", False
        )
    attr = body.attributes.get("ignore_changes")
    if attr is not None:
        expr = attr.expr
        if (
            isinstance(expr, Name)
            and expr.name == "all"
            or (isinstance(expr, Literal) and expr.value == "all")
        ):
            life.ignore_changes = "all"
        elif isinstance(expr, TupleExpr):
            paths = []
            for item in expr.items:
                path = _traversal_path(item)
                if path is None:
                    d.append(
                        error(
                            "Invalid ignore_changes entry",
                            "list attribute names, for example ignore_changes = [tags]",
                            item.range,
                        )
                    )
                else:
                    paths.append(path)
            life.ignore_changes = paths
        else:
            d.append(
                error(
                    "ignore_changes must be a list of attribute names or all",
                    "for example ignore_changes = [tags] or ignore_changes = all",
                    attr.range,
                )
            )
    return life


def _decode_resource(block: Block, d: list[Diagnostic]) -> Resource:
    addr = ResourceAddr(block.labels[0], block.labels[1])
    attrs = dict(block.body.attributes)
    count = attrs.pop("count", None)
    for_each = attrs.pop("for_each", None)
    dep = attrs.pop("depends_on", None)
    if count is not None and for_each is not None:
        d.append(
            error(
                f'Resource "{addr}" sets both count and for_each',
                "use one of them: count for N copies, for_each for one per map key",
                for_each.range,
            )
        )
    lifecycle = Lifecycle()
    blocks = []
    seen_life: Block | None = None
    for nested in block.body.blocks:
        if nested.type != "lifecycle":
            blocks.append(nested)
            continue
        if seen_life is not None:
            d.append(
                error(
                    f'Resource "{addr}" has more than one lifecycle block',
                    f"merge it into the one at {seen_life.range}",
                    nested.range,
                )
            )
            continue
        seen_life = nested
        lifecycle = _decode_lifecycle(nested, d)
    return Resource(
        addr=addr,
        body=Body(attrs, blocks, block.body.range),
        count=count.expr if count else None,
        for_each=for_each.expr if for_each else None,
        depends_on=_depends_on(dep, d) if dep else [],
        lifecycle=lifecycle,
        range=block.range,
    )


def _decode_variable(block: Block, d: list[Diagnostic]) -> Variable | None:
    name = block.labels[0]
    body = block.body
    where = f'variable "{name}"'
    _unexpected(body, {"type", "default", "description", "sensitive", "nullable"}, where, d)
    type_: TypeConstraint | None = None
    if "type" in body.attributes:
        try:
            type_ = type_from_expr(body.attributes["type"].expr)
        except EvalError as err:
            d.append(error(f"{where}: {err.summary}", err.detail, err.range))
    default: Any = NOTSET
    if "default" in body.attributes:
        attr = body.attributes["default"]
        default = _static(attr, d, f"{where}: the default must be a literal value")
        if default is not NOTSET and type_ is not None:
            try:
                default = convert(default, type_)
            except ValueError as err:
                d.append(
                    error(
                        f"{where}: the default does not match type {type_}",
                        f"{err}; fix the default or the type",
                        attr.range,
                    )
                )
    desc = body.attributes.get("description")
    sens = body.attributes.get("sensitive")
    null = body.attributes.get("nullable")
    validations = []
    for nested in body.blocks:
        if nested.type != "validation":
            d.append(
                error(
                    f'Unexpected block "{nested.type}" in {where}',
                    "only validation blocks go here",
                    nested.range,
                )
            )
            continue
        cond = nested.body.attributes.get("condition")
        msg = nested.body.attributes.get("error_message")
        if cond is None or msg is None:
            d.append(
                error(
                    f"A validation block in {where} needs condition and error_message",
                    'write validation { condition = ..., error_message = "..." }',
                    nested.range,
                )
            )
            continue
        validations.append(Validation(cond.expr, msg.expr, nested.range))
    return Variable(
        name=name,
        type=type_,
        default=default,
        description=_static_of(desc, str, d, where, "") if desc else "",
        sensitive=_static_of(sens, bool, d, where, False) if sens else False,
        nullable=_static_of(null, bool, d, where, True) if null else True,
        validations=validations,
        range=block.range,
    )


def _decode_output(block: Block, d: list[Diagnostic]) -> Output | None:
    name = block.labels[0]
    body = block.body
    where = f'output "{name}"'
    _unexpected(body, {"value", "sensitive", "description", "depends_on"}, where, d)
    value = body.attributes.get("value")
    if value is None:
        d.append(
            error(f"{where} has no value", "write value = EXPRESSION in the block", block.range)
        )
        return None
    desc = body.attributes.get("description")
    sens = body.attributes.get("sensitive")
    dep = body.attributes.get("depends_on")
    return Output(
        name=name,
        expr=value.expr,
        sensitive=_static_of(sens, bool, d, where, False) if sens else False,
        description=_static_of(desc, str, d, where, "") if desc else "",
        depends_on=_depends_on(dep, d) if dep else [],
        range=block.range,
    )


# ================================================================ cache and loading


def _cache_key(data: bytes, filename: str) -> str:
    h = xxhash.xxh3_128()
    h.update(CACHE_VERSION.encode())
    h.update(b"\0" + filename.encode() + b"\0")
    h.update(data)
    return h.hexdigest()


def _read_cache(path: Path) -> _FileParts | None:
    # Unpickling builds many small long-lived objects; the cyclic GC would scan them again
    # and again (two thirds of the load time). Pause it, then freeze what was built so
    # later collections skip it (refcounting still frees it).
    enabled = gc.isenabled()
    gc.disable()
    try:
        with path.open("rb") as f:
            value = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception:  # a corrupt or foreign entry: parse again  # noqa: BLE001
        return None
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return value if isinstance(value, _FileParts) else None


def _write_cache(path: Path, parts: _FileParts) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(parts, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass  # a read-only directory only loses the cache


def cache_dir(directory: Path) -> Path:
    return Path(directory) / ".bcdr" / "cache" / "hcl"


def _prune_cache(cache: Path, keep: set[str], min_age: float = 60.0) -> None:
    """Remove entries no current file uses (old versions), once they are a minute old."""
    now = time.time()
    try:
        entries = list(os.scandir(cache))
    except OSError:
        return
    for entry in entries:
        if entry.name in keep:
            continue
        try:
            if now - entry.stat().st_mtime >= min_age:
                os.unlink(entry.path)
        except OSError:
            pass  # another process got there first


def _load_file(
    path: Path, filename: str, cache: Path | None, used: set[str] | None = None
) -> _FileParts:
    data = path.read_bytes()
    entry: Path | None = None
    if cache is not None:
        entry = cache / f"{_cache_key(data, filename)}.pickle"
        if used is not None:
            used.add(entry.name)
        hit = _read_cache(entry)
        if hit is not None:
            return hit
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        parts = _FileParts()
        line = data[: err.start].count(b"\n") + 1
        parts.diagnostics.append(
            error(
                f"{filename} is not UTF-8 text",
                "save the file as UTF-8",
                SourceRange(filename, line),
            )
        )
        return parts
    parts = _decode_file(text, filename)
    if entry is not None:
        _write_cache(entry, parts)
    return parts


def spec_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """The directory's spec files and its ``*.auto.hcl`` variable files, each sorted."""
    all_hcl = sorted(p for p in Path(directory).glob("*.hcl") if p.is_file())
    specs = [p for p in all_hcl if not p.name.endswith(".auto.hcl")]
    auto = [p for p in all_hcl if p.name.endswith(".auto.hcl")]
    return specs, auto


def _dup(kind: str, name: str, first: SourceRange, again: SourceRange) -> Diagnostic:
    return error(
        f'Duplicate {kind} "{name}"',
        f"it is declared at {first} and again at {again}; rename or remove one of them",
        again,
    )


def load_config(directory: Path, *, cache: bool = True) -> tuple[Config, Diagnostics]:
    """Load every spec file of ``directory`` into one Config, with all problems found."""
    directory = Path(directory)
    diags = Diagnostics()
    specs, auto = spec_files(directory)
    config = Config(
        dir=directory,
        files=[p.name for p in specs],
        providers={},
        variables={},
        locals={},
        resources={},
        outputs={},
        var_files=[p.name for p in auto],
    )
    if not directory.is_dir():
        diags.append(error(f"No such directory: {directory}", "run bcdr in a spec directory"))
        return config, diags
    if not specs:
        diags.append(
            error(
                f"No *.hcl spec files in {directory}",
                "create main.hcl with your resources, or run bcdr in the spec directory",
            )
        )
    where = cache_dir(directory) if cache else None
    used: set[str] = set()
    for path in specs:
        try:
            parts = _load_file(path, path.name, where, used)
        except OSError as err:
            diags.append(error(f"Cannot read {path.name}: {err.strerror}", "check the file"))
            continue
        diags.extend(parts.diagnostics)
        for p in parts.providers:
            if p.name in config.providers:
                diags.append(_dup("provider", p.name, config.providers[p.name].range, p.range))
            else:
                config.providers[p.name] = p
        for v in parts.variables:
            if v.name in config.variables:
                diags.append(_dup("variable", v.name, config.variables[v.name].range, v.range))
            else:
                config.variables[v.name] = v
        for loc in parts.locals:
            if loc.name in config.locals:
                first = config.locals[loc.name].range
                diags.append(_dup("local value", loc.name, first, loc.range))
            else:
                config.locals[loc.name] = loc
        for r in parts.resources:
            if r.addr in config.resources:
                first = config.resources[r.addr].range
                diags.append(_dup("resource", str(r.addr), first, r.range))
            else:
                config.resources[r.addr] = r
        for o in parts.outputs:
            if o.name in config.outputs:
                diags.append(_dup("output", o.name, config.outputs[o.name].range, o.range))
            else:
                config.outputs[o.name] = o
    if where is not None and where.is_dir():
        _prune_cache(where, used)
    diags.sort(key=lambda d: (d.range.filename, d.range.line) if d.range else ("", 0))
    return config, diags


def load_attribute_file(path: Path, filename: str) -> tuple[dict[str, Attribute], Diagnostics]:
    """Read a variable-value file (``*.auto.hcl``, ``-var-file``): NAME = VALUE lines only."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}, Diagnostics(
            [error(f"Variable file {filename} does not exist", "check the -var-file path")]
        )
    except (OSError, UnicodeDecodeError) as err:
        return {}, Diagnostics([error(f"Cannot read variable file {filename}: {err}", "")])
    body, diags = parse_body(text, filename)
    if body is None:
        return {}, diags
    for block in body.blocks:
        diags.append(
            error(
                f'Unexpected block "{block.type}" in variable file {filename}',
                "a variable file holds only NAME = VALUE lines",
                block.range,
            )
        )
    return body.attributes, diags
