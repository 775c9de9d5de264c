"""The parser boundary: HCL text → ``Body`` with bcdr's own expression nodes.

The only module that imports python-hcl2 (and lark). ``parse_body`` runs the parser and
converts its tree into ``Body``/``Block``/``BodyAttribute`` (``engine/configmodel.py``) and
expression nodes (``engine/expr.py``), with file:line on every block, attribute and
expression; ``parse_template`` does the same for a template file's text. Always holds: no
parser type leaves this module; a syntax error becomes a diagnostic with file:line and
what to check (``SyntaxProblem`` from ``parse_template``), never another exception.

It passes 400 lines: it is one transformer from the parser's tree to expression and body
nodes, the only module that imports python-hcl2 and lark; split, its node kinds would call
into each other across modules.
"""

from __future__ import annotations

from typing import Any

import hcl2
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.configmodel import Block, Body, BodyAttribute
from engine.exprnodes import (
    Expr,
    Literal,
    ObjectExpr,
    Template,
    TemplateFor,
    TemplateIf,
    TemplateText,
    TupleExpr,
)
from engine.exprops import Binary, Conditional, ForExpr, FunctionCall, Unary
from engine.exprrefs import GetAttr, Index, Name, Splat, SplatItem
from engine.hcltext import SyntaxProblem, heredoc_as_string, unescape
from engine.numbers import literal_number
from sdk.diagnostics import Diagnostic, Diagnostics, SourceRange, error


class _Converter:
    """Converts one file's lark tree into Body/Block/BodyAttribute and expression nodes."""

    def __init__(self, filename: str, line_offset: int = 0):
        self.filename = filename
        self.line_offset = line_offset
        self._ranges: dict[tuple[int, int], SourceRange] = {}

    def rng(self, node: Tree | Token, fallback: int = 1) -> SourceRange:
        """Where ``node`` starts: its line and (outside a heredoc's interpolations) column."""
        if isinstance(node, Token):
            line, column = node.line or fallback, node.column or 1
        elif node.meta.empty:
            line, column = fallback, 1
        else:
            line, column = node.meta.line, node.meta.column
        line += self.line_offset
        if self.line_offset:
            column = 1  # parsed again from a heredoc's text: the column is not the file's
        r = self._ranges.get((line, column))
        if r is None:
            r = self._ranges[(line, column)] = SourceRange(self.filename, line, column)
        return r

    # ---------------------------------------------------------------- structure

    def body(self, tree: Tree, problems: list[Diagnostic]) -> Body:
        attrs: dict[str, BodyAttribute] = {}
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

    def attribute(self, tree: Tree) -> BodyAttribute:
        name_node = tree.children[0]
        name = self.name_of(name_node)
        return BodyAttribute(name, self.expr(tree.children[2]), self.rng(tree))

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
                out.append(unescape(str(tok), self.rng(tree)))
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
        text = str(node.children[0])
        try:
            return Literal(literal_number(text), self.rng(node))  # 2.0 is the number 2
        except ValueError:
            raise SyntaxProblem(
                f"Invalid number {text}", "a number must be below 1e308", self.rng(node)
            ) from None

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
        return Literal(unescape(text, self.rng(node)), self.rng(node))

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
                    text = unescape(text, rng)
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
        quoted = heredoc_as_string(text)
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


def _syntax_diagnostic(err: Exception, filename: str) -> Diagnostic:
    line = getattr(err, "line", 1) or 1
    if isinstance(err, SyntaxProblem):
        return error(err.summary, err.detail, err.range)
    rng = SourceRange(filename, max(1, line), getattr(err, "column", 1) or 1)
    if isinstance(err, UnexpectedToken):
        tok = err.token
        if tok.type == "$END":
            summary = "Syntax error: unexpected end of the file"
            hint = 'a block, list or string is not closed: add the missing }, ] or "'
        else:
            found = repr(str(tok).strip()) if str(tok).strip() else "new line"
            summary = f"Syntax error: unexpected {found}"
            hint = _hint_for(sorted(getattr(err, "expected", ()) or ()))
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


def parse_template(text: str, filename: str) -> Expr:
    """Parse a template file's text (``${…}`` and ``%{if}``/``%{for}`` parts, as in a
    heredoc) into one expression; SyntaxProblem naming the file if it is not one."""
    rng = SourceRange(filename, 1)
    if "${" not in text and "%{" not in text:
        return Literal(text, rng)
    try:
        tree = hcl2.parses_to_tree(f"x = {heredoc_as_string(text)}\n")
        string_node = tree.children[0].children[0].children[2]
        return _Converter(filename).expr(string_node)
    except LarkError:
        raise SyntaxProblem("Invalid template", "check its ${...} and %{...} parts", rng) from None
